"""The app served over HTTP next to the local Shopify emulator, wired only by configuration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from flask import Flask
from rq.job import Job
from sqlalchemy import select

from app import create_app
from app.db import Database
from app.models import WebhookEvent
from app.pipeline.rq_worker import Worker
from devstore import ShopifyEmulator
from tests.conftest import app_config

SHOP = "loop-demo.myshopify.com"


@dataclass
class RunningApp:
    """The app, its URL, and the emulator that plays Shopify for it."""

    app: Flask
    url: str
    db: Database
    emulator: ShopifyEmulator

    @property
    def runtime(self) -> Any:
        """The app's runtime (settings, database, queue)."""
        return self.app.extensions["runtime"]

    def work(self) -> None:
        """Run real RQ workers over every queue until they are empty (burst).

        The app queues a delivery's job once its 200 has been sent, so a test that has its
        answer may get here first: wait until every stored, unapplied delivery has its job.
        """
        queue = self.runtime.queue
        eventually(lambda: self._unqueued_deliveries(queue.redis) == [])
        queues = [queue.rq_queue(name) for name in ("webhooks", "default")]
        Worker(queues, connection=queue.redis, runtime=self.runtime).work(burst=True)

    def launch_program(self, shop: str = SHOP) -> None:
        """The merchant clicks "Launch program" in the embedded admin: a new install is a
        draft that earns nothing until then. They type 0 for the holdout, so no customer of
        these tests is drawn out of the program at random."""
        token = self.emulator.mint_admin_session_token(shop)
        response = httpx.post(f"{self.url}/admin/onboarding/launched", timeout=10,
                              json={"holdout_share": 0},
                              headers={"Authorization": f"Bearer {token}"})
        assert response.json()["state"] == "live", response.text

    def _unqueued_deliveries(self, redis: Any) -> list[int]:
        """Inbox rows not yet applied whose job (`event-<id>`) is not in Redis."""
        with self.db.engine.connect() as conn:
            pending = conn.execute(select(WebhookEvent.id).where(
                WebhookEvent.processed_at.is_(None))).scalars().all()
        return [event_id for event_id in pending
                if not Job.exists(f"event-{event_id}", connection=redis)]


@pytest.fixture
def serve_app(db: Database, emulator: ShopifyEmulator,
              live_server: Callable[[Any], str]) -> Iterator[Callable[..., RunningApp]]:
    """Start the app on a free port, pointed at the emulator; the emulator points back at it."""

    def start(**overrides: Any) -> RunningApp:
        app = create_app(app_config(db, shopify_admin_base=emulator.base_url, **overrides))
        url = live_server(app)
        runtime = app.extensions["runtime"]
        # The URL is known once the server listens: the app's own address, as configured.
        runtime.settings = replace(runtime.settings, shopify_app_url=url)
        emulator.app_url = url
        return RunningApp(app, url, db, emulator)

    yield start


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until check() returns something truthy: inline jobs run after the response is sent."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)
