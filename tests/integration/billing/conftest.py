"""The app serving over HTTP and installed in the emulator, which sends it webhooks."""

from __future__ import annotations

import pytest

from tests.integration.backfill.conftest import SHOP, install
from tests.support.emulator_fixture import emulator, live_server  # noqa: F401 (fixtures)


@pytest.fixture
def billing(db, emulator, live_server):  # noqa: F811 - fixtures
    """The app serving over HTTP, installed in the emulator, which sends it webhooks."""
    emulator.add_shop(SHOP, currency="EUR")
    app = install(db, emulator)
    url = live_server(app)
    emulator.app_url = url
    return app, url


