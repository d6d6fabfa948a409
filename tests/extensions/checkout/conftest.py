"""Fixtures for the checkout extension tests: a stand-in checkout API and one CLI build."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.extensions.checkout.harness import (
    Build,
    CheckoutApi,
    checkout_api_stand_in,
    require_node_modules,
    run_shopify_build,
    scenario_answers,
)


@pytest.fixture(scope="session")
def checkout_api() -> Iterator[CheckoutApi]:
    """The stand-in checkout API on a free loopback port, for the whole session."""
    api = CheckoutApi(url="")
    server = make_server("127.0.0.1", 0, checkout_api_stand_in(scenario_answers(), api.received),
                         threaded=True)
    api.url = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def extension_build(checkout_api: CheckoutApi) -> Build:
    """`shopify app build` once per session, the bundles calling the checkout API above."""
    require_node_modules()
    return run_shopify_build(checkout_api.url)
