"""The backfill job: start the shop's bulk query, wait for Shopify's file, apply it in batches.

Each batch of orders and the cursor that passes it commit together, so a crash (a killed
worker, a dropped download) loses at most the batch in flight, and the next run skips the
lines already applied. A job works for a bounded time and then enqueues its continuation, so
no run outlives a worker's job timeout. Running it twice at once is harmless too: the order
rows and ledger keys admit each order once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

import requests

from app.db import utcnow
from app.loyalty.backfill import BatchResult, apply_batch, finish_backfill, record_batch
from app.loyalty.order_history import HistoricOrder, grouped_orders
from app.loyalty.program import current_settings
from app.models import Backfill, Shop
from app.pipeline import enqueue
from app.pipeline.queueing import JobQueue
from app.pipeline.runtime import Runtime
from app.shopify.bulk import BulkOperation, bulk_operation, run_bulk_query, stream_lines
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, ShopifyError
from app.shopify.order_history import order_history_query
from app.shopify.tokens import access_token_for

log = logging.getLogger(__name__)

BATCH_ORDERS = 500
POLL_SECONDS = 1.0
# A job hands over to its continuation after this long (RQ's default job timeout is 180 s).
SLICE_SECONDS = 120.0


def enqueue_backfill(queue: JobQueue, backfill_id: int, step: str = "start") -> bool:
    """Schedule (the next slice of) a backfill run; False if the queue is unreachable."""
    return enqueue.enqueue(queue, enqueue.run_backfill(backfill_id, step))


# Outcomes after which the next slice is enqueued at once; an interrupted download waits
# for the merchant's "Resume" (or the next run), so a network that stays broken is not hammered.
CONTINUE_AT_ONCE = ("continuing: more orders to apply",
                    "continuing: Shopify is still preparing the order history")


def run_backfill(rt: Runtime, backfill_id: int) -> str:
    """One slice of the run, then its continuation (the `run_backfill` job)."""
    outcome = advance_backfill(rt, backfill_id)
    if outcome in CONTINUE_AT_ONCE:
        with rt.db.sessions() as session:
            lines = session.get(Backfill, backfill_id).lines_applied
        enqueue_backfill(rt.queue, backfill_id, f"{lines}-{time.time_ns()}")
    return outcome


def _fail(rt: Runtime, backfill_id: int, error: str, now: datetime) -> str:
    with rt.db.transaction() as session:
        backfill = session.get(Backfill, backfill_id, with_for_update=True)
        backfill.status, backfill.error, backfill.finished_at = "failed", error, now
    return f"failed: {error}"


def advance_backfill(rt: Runtime, backfill_id: int, *, poll_seconds: float = POLL_SECONDS,
                     slice_seconds: float = SLICE_SECONDS,
                     clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep) -> str:
    """Move a backfill run as far as one slice allows: completed, failed or continuing."""
    deadline = clock() + slice_seconds
    settings = rt.settings
    with shop_http_client(settings) as http:
        with rt.db.sessions() as session:
            with session.begin():
                backfill = session.get(Backfill, backfill_id)
                shop = session.get(Shop, backfill.shop_id) if backfill is not None else None
                if backfill is None or shop is None or backfill.finished:
                    return "skipped: no such unfinished backfill"
                if not shop.is_installed:
                    return "skipped: shop not installed"
                domain, since = shop.domain, backfill.since
                operation_id = backfill.bulk_operation_id
            token = access_token_for(session, domain, utcnow(), settings=settings, http=http)
        client = AdminClient(domain, token, settings=settings, http=http)
        try:
            if operation_id is None:
                operation = run_bulk_query(client, order_history_query(since.date()))
                with rt.db.transaction() as session:
                    row = session.get(Backfill, backfill_id, with_for_update=True)
                    row.bulk_operation_id, row.status = operation.id, "running"
                operation_id = operation.id
            operation = _wait(rt, client, backfill_id, operation_id, deadline, poll_seconds,
                              clock, sleep)
        except ShopifyError as exc:
            return _fail(rt, backfill_id, f"Shopify refused the order history: {exc.code}",
                         utcnow())
        if operation is None:
            return "continuing: Shopify is still preparing the order history"
        if operation.status != "COMPLETED" or not operation.url:
            return _fail(rt, backfill_id, "Shopify could not prepare the order history "
                         f"({operation.status}, {operation.error_code or 'no error code'})",
                         utcnow())
    return _apply_file(rt, backfill_id, operation, deadline, clock)


def _wait(rt: Runtime, client: AdminClient, backfill_id: int, operation_id: str,
          deadline: float, poll_seconds: float, clock: Callable[[], float],
          sleep: Callable[[float], None]) -> BulkOperation | None:
    """The operation once finished, its progress recorded meanwhile; None at the deadline."""
    while True:
        operation = bulk_operation(client, operation_id)
        if operation is None:
            raise ShopifyError("bulk_operation_not_found", operation_id)
        with rt.db.transaction() as session:
            row = session.get(Backfill, backfill_id, with_for_update=True)
            row.objects_found = operation.object_count
            if operation.finished and operation.status == "COMPLETED":
                row.status = "applying"
        if operation.finished:
            return operation
        if clock() + poll_seconds > deadline:
            return None
        sleep(poll_seconds)


def _apply_batch(rt: Runtime, backfill_id: int, orders: list[HistoricOrder],
                 last_line: int) -> None:
    """One batch and the cursor past it, in one transaction."""
    now = utcnow()
    with rt.db.transaction() as session:
        backfill = session.get(Backfill, backfill_id, with_for_update=True)
        if last_line <= backfill.lines_applied:
            return  # another run applied these lines meanwhile
        shop = session.get(Shop, backfill.shop_id)
        settings = current_settings(session, shop.id)
        result = (apply_batch(session, shop, backfill, orders, settings, now) if orders
                  else BatchResult())
        record_batch(backfill, result, last_line)


def _apply_file(rt: Runtime, backfill_id: int, operation: BulkOperation, deadline: float,
                clock: Callable[[], float]) -> str:
    """Stream the file from the cursor on, batch by batch; close the run at its end."""
    with rt.db.sessions() as session:
        skip = session.get(Backfill, backfill_id).lines_applied
    batch: list[HistoricOrder] = []
    last = skip
    try:
        for last, order in grouped_orders(stream_lines(operation.url or "", skip=skip)):
            if order is not None:
                batch.append(order)
            if len(batch) >= BATCH_ORDERS:
                _apply_batch(rt, backfill_id, batch, last)
                batch = []
                if clock() > deadline:
                    return "continuing: more orders to apply"
        _apply_batch(rt, backfill_id, batch, last)
    except (requests.RequestException, ValueError) as exc:
        # The committed batches stay; the next run reads the rest from the cursor.
        log.warning("order history download interrupted", extra={"code": type(exc).__name__})
        return "continuing: the download was interrupted"
    if last < operation.object_count:
        return "continuing: the file ended early"
    now = utcnow()
    with rt.db.transaction() as session:
        backfill = session.get(Backfill, backfill_id, with_for_update=True)
        shop = session.get(Shop, backfill.shop_id)
        finish_backfill(session, shop, backfill, current_settings(session, shop.id), now)
        summary = (f"completed: {backfill.orders_recorded} orders recorded, "
                   f"{backfill.points_awarded} points, {backfill.tier_changes} tier changes")
    return summary
