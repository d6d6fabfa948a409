"""How many statements a paid order costs the worker: a budget that fails when it grows.

bench/processing.py reports the same count; issue 9 asks for a handful, and each statement
is a round trip inside the event's transaction.
"""

import json
import uuid

from app import create_app
from app.db import utcnow
from app.models import Message
from app.pipeline.inbox import store_delivery
from app.pipeline.jobs import process_event
from app.shopify.webhooks import WebhookDelivery
from bench.statements import counting
from devstore.payloads import order_payload
from tests.conftest import app_config
from tests.support.factories import make_shop

SHOP = "budget.myshopify.com"
# Measured 2026-11-27: 17 and 17 (they were 33 and 29 before RETURNING, one upsert per row
# and one INSERT for all of an order's messages).
NEW_CUSTOMER_BUDGET = 17
RETURNING_CUSTOMER_BUDGET = 17


def _paid(rt, db, order_id: int) -> tuple[str, list[str]]:
    body = json.dumps(order_payload("orders/paid", order_id=order_id, customer_id=4242,
                                    test=False, updated_at=utcnow().isoformat() + "Z"))
    with db.engine.begin() as conn:
        stored = store_delivery(conn, WebhookDelivery(
            uuid.uuid4().hex, "orders/paid", SHOP, "2026-07", None, body), utcnow())
    with counting(db.engine) as statements:
        outcome = process_event(rt, stored.event_id)
    return outcome, statements


def test_a_paid_order_stays_within_its_statement_budget(pg, redis_url):
    with pg.transaction() as s:
        make_shop(s, domain=SHOP)
    # Follow-ups (metafield sync, friend discount) wait in Redis: only the event is counted.
    rt = create_app(app_config(pg, redis_url=redis_url)).extensions["runtime"]
    outcome, first = _paid(rt, pg, 1)
    assert outcome == "processed"
    assert len(first) <= NEW_CUSTOMER_BUDGET, "\n".join(first)
    outcome, second = _paid(rt, pg, 2)
    assert outcome == "processed"
    assert len(second) <= RETURNING_CUSTOMER_BUDGET, "\n".join(second)
    # The budget was not bought by skipping work: the messages are all there.
    with pg.sessions() as s:
        kinds = sorted(k for (k,) in s.query(Message.kind))
    assert kinds.count("nps_request") == 2 and kinds.count("points_unlocked") == 2
    assert kinds.count("welcome") == 1
