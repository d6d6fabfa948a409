"""The webhook inbox: store each delivery once, find the ones no worker has applied yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from app.models import RefusedWebhook, Shop, WebhookEvent
from app.pipeline.topics import KNOWN_TOPICS
from app.shopify.webhooks import DESTRUCTIVE_TOPICS, Refusal, WebhookDelivery

# After this many failed attempts an event is marked failed and left for a human.
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class StoredDelivery:
    """What storing a delivery did: its event id, and whether a worker must process it."""

    event_id: int | None
    duplicate: bool
    needs_processing: bool
    # The order names another Shopify shop id than the header's shop has on record: not stored.
    shop_mismatch: bool = False


def _insert_once(insert: Callable[..., Any]) -> Any:
    """INSERT INTO webhook_events … ON CONFLICT (webhook_id) DO NOTHING RETURNING id."""
    return (insert(WebhookEvent).on_conflict_do_nothing(index_elements=["webhook_id"])
            .returning(WebhookEvent.id))


def _insert_once_per_event(insert: Callable[..., Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: a repeated webhook id or event id."""
    return insert(WebhookEvent).on_conflict_do_nothing().returning(WebhookEvent.id)


_ORDER_COLUMNS = ("webhook_id", "topic", "shop_domain", "api_version", "triggered_at",
                  "payload", "received_at", "attempts")


def _insert_order_once(insert: Callable[..., Any]) -> Any:
    """INSERT … SELECT :values WHERE NOT EXISTS (the header's shop with another Shopify id)
    ON CONFLICT (webhook_id) DO NOTHING RETURNING id: an order of another shop is never
    stored, in the one round trip every order delivery makes anyway. A shop whose id is not
    on record (NULL) or not known at all stores the order as before."""
    columns = WebhookEvent.__table__.c
    other_shop = exists().where(Shop.domain == bindparam("shop_domain"),
                                Shop.shopify_shop_id != bindparam("order_shop_id"))
    values = select(*(bindparam(name, type_=columns[name].type) for name in _ORDER_COLUMNS)
                    ).where(~other_shop)
    return (insert(WebhookEvent).from_select(list(_ORDER_COLUMNS), values)
            .on_conflict_do_nothing(index_elements=["webhook_id"]).returning(WebhookEvent.id))


# Built once: building and compiling the statement per delivery costs more CPU than the
# database spends on the insert (bench/ingest.py). Column values travel as parameters.
_STORE_ONCE = {"postgresql": _insert_once(postgresql.insert), "sqlite": _insert_once(sqlite.insert)}
_STORE_ONCE_PER_EVENT = {"postgresql": _insert_once_per_event(postgresql.insert),
                         "sqlite": _insert_once_per_event(sqlite.insert)}
_STORE_ORDER_ONCE = {"postgresql": _insert_order_once(postgresql.insert),
                     "sqlite": _insert_order_once(sqlite.insert)}


_STORED_SHOP_ID = select(Shop.shopify_shop_id).where(Shop.domain == bindparam("domain"))


def store_delivery(conn: Connection, delivery: WebhookDelivery, now: datetime) -> StoredDelivery:
    """INSERT the delivery once by webhook id, in one statement (the hot path of ingest).

    The statement commits by itself when `conn` is in autocommit mode (one round trip).
    """
    known = delivery.topic in KNOWN_TOPICS
    values = {
        "webhook_id": delivery.webhook_id, "topic": delivery.topic,
        "shop_domain": delivery.shop_domain, "api_version": delivery.api_version,
        "triggered_at": delivery.triggered_at, "payload": delivery.body, "received_at": now,
        "attempts": 0,
    }
    statements = _STORE_ONCE
    if not known:
        values.update(processed_at=now, outcome="ignored", last_error="unknown_topic")
    elif delivery.topic in DESTRUCTIVE_TOPICS:
        # Ending an installation or deleting data happens once per Shopify event, however
        # many webhook ids carry it (https://shopify.dev/docs/apps/build/webhooks/ignore-duplicates).
        values["shopify_event_id"] = delivery.event_id
        statements = _STORE_ONCE_PER_EVENT
    elif delivery.order_shop_id is not None:
        values["order_shop_id"] = delivery.order_shop_id
        statements = _STORE_ORDER_ONCE
    event_id = conn.execute(statements[conn.dialect.name], values).scalar_one_or_none()
    if event_id is None:
        # Nothing stored: a duplicate, or an order of another shop. Only then is the shop's
        # id read, so a first delivery never pays for telling the two apart.
        if delivery.order_shop_id is not None:
            stored_id = _stored_shop_id(conn, delivery.shop_domain)
            if stored_id is not None and stored_id != delivery.order_shop_id:
                return StoredDelivery(None, duplicate=False, needs_processing=False,
                                      shop_mismatch=True)
        return StoredDelivery(None, duplicate=True, needs_processing=False)
    return StoredDelivery(event_id, duplicate=False, needs_processing=known)


def store_once(engine: Engine, delivery: WebhookDelivery, now: datetime) -> StoredDelivery:
    """store_delivery on an autocommit engine, retried once on a connection that had died
    in the pool (a database restart); a database that is down raises OperationalError.

    Should the first try have committed before its connection died, the retry finds a
    duplicate and enqueues nothing: the inbox sweep then processes the event, a little late.
    """
    for attempt in (1, 2):
        try:
            with engine.connect() as conn:
                return store_delivery(conn, delivery, now)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def _stored_shop_id(conn: Connection, shop_domain: str) -> int | None:
    """Shopify's id of the shop we know by this domain, if it is recorded."""
    return conn.execute(_STORED_SHOP_ID, {"domain": shop_domain}).scalar_one_or_none()


def stored_shop_id(engine: Engine, shop_domain: str) -> int | None:
    """Shopify's id of the shop we know by this domain, if it is recorded."""
    with engine.connect() as conn:
        return _stored_shop_id(conn, shop_domain)


_RECORD_REFUSAL = insert(RefusedWebhook)


def record_refusal(engine: Engine, refusal: Refusal, now: datetime) -> None:
    """Keep a refused delivery and its reason (one INSERT on an autocommit engine)."""
    with engine.connect() as conn:
        conn.execute(_RECORD_REFUSAL, {
            "received_at": now, "reason": refusal.reason, "topic": refusal.topic[:64],
            "shop_domain": refusal.shop_domain, "named_shop": refusal.named_shop,
            "webhook_id": refusal.webhook_id, "shopify_event_id": refusal.event_id,
            "triggered_at": refusal.triggered_at})


def unprocessed_event_ids(conn: Connection, now: datetime, older_than: timedelta,
                          limit: int = 1000) -> list[int]:
    """Events received a while ago that no worker has applied (lost jobs, Redis outages)."""
    rows = conn.execute(
        select(WebhookEvent.id)
        .where(WebhookEvent.processed_at.is_(None),
               WebhookEvent.received_at <= now - older_than,
               WebhookEvent.attempts < MAX_ATTEMPTS)
        .order_by(WebhookEvent.received_at).limit(limit))
    return [row[0] for row in rows]
