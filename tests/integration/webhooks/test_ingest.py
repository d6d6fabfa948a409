"""POST /webhooks: verified, stored once, processed by a worker, never lost."""

import json

from sqlalchemy import select

from app import create_app
from app.models import Member, WebhookEvent
from app.pipeline.jobs import sweep_inbox
from app.pipeline.queueing import RedisQueue
from app.pipeline.rq_worker import Worker
from tests.conftest import app_config
from tests.support.factories import make_shop
from tests.support.webhook_signing import fixture_payload, post_webhook, signed_headers

SHOP = "loyal-shop.myshopify.com"


def _install_shop(db):
    with db.transaction() as s:
        make_shop(s, domain=SHOP)


def _events(db):
    with db.sessions() as s:
        return s.execute(select(WebhookEvent).order_by(WebhookEvent.id)).scalars().all()


def _members(db):
    with db.sessions() as s:
        return s.execute(select(Member)).scalars().all()


def test_a_signed_delivery_is_stored_once_and_applied(db, client):
    _install_shop(db)
    response = post_webhook(client, "customers/create", SHOP, fixture_payload("customers/create"),
                            webhook_id="wh-1")
    assert response.status_code == 200
    [event] = _events(db)
    assert (event.webhook_id, event.topic, event.shop_domain) == ("wh-1", "customers/create", SHOP)
    assert event.outcome == "processed" and event.processed_at is not None
    [member] = _members(db)
    assert member.customer_id == fixture_payload("customers/create")["id"]


def test_a_duplicate_delivery_is_acknowledged_and_ignored(db, client):
    _install_shop(db)
    payload = fixture_payload("customers/create")
    for _ in range(2):
        response = post_webhook(client, "customers/create", SHOP, payload, webhook_id="dup")
        assert response.status_code == 200
    assert len(_events(db)) == 1
    assert len(_members(db)) == 1


def test_a_forged_signature_is_401_and_stores_nothing(db, client):
    body = json.dumps(fixture_payload("customers/create")).encode()
    headers = signed_headers(body, "customers/create", SHOP,
                             secret="another-secret-0123456789abcdef0123456789")
    response = client.post("/webhooks", data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_hmac"
    assert _events(db) == []


def test_a_tampered_body_is_401(db, client):
    body = json.dumps(fixture_payload("customers/create")).encode()
    headers = signed_headers(body, "customers/create", SHOP)
    tampered = body.replace(b"Bob", b"Mallory")
    assert tampered != body
    response = client.post("/webhooks", data=tampered, headers=headers)
    assert response.status_code == 401
    assert _events(db) == []


def test_a_missing_signature_is_400(db, client):
    body = b"{}"
    headers = signed_headers(body, "customers/create", SHOP)
    del headers["X-Shopify-Hmac-Sha256"]
    response = client.post("/webhooks", data=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "missing_hmac_header"


def test_malformed_json_with_a_valid_signature_is_400(db, client):
    response = post_webhook(client, "orders/paid", SHOP, b'{"id": 1,')
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json"
    assert _events(db) == []


def test_a_shop_header_that_is_not_a_myshopify_domain_is_400(db, client):
    response = post_webhook(client, "orders/paid", "evil.example.com", {"id": 1})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_shop_domain"


def test_an_unknown_topic_is_acknowledged_recorded_and_ignored(db, client):
    _install_shop(db)
    response = post_webhook(client, "products/create", SHOP, {"id": 1})
    assert response.status_code == 200
    [event] = _events(db)
    assert (event.outcome, event.last_error) == ("ignored", "unknown_topic")


def test_events_for_a_shop_we_do_not_know_are_recorded_and_ignored(db, client):
    response = post_webhook(client, "customers/create", "stranger.myshopify.com",
                            fixture_payload("customers/create"))
    assert response.status_code == 200
    [event] = _events(db)
    assert (event.outcome, event.last_error) == ("ignored", "shop_not_installed")
    assert _members(db) == []


def test_a_body_over_the_size_cap_is_413(db):
    client = create_app(app_config(db, webhook_max_bytes=1024)).test_client()
    response = post_webhook(client, "orders/paid", SHOP, {"note": "x" * 5000})
    assert response.status_code == 413
    assert _events(db) == []


def test_a_payload_that_can_never_apply_is_recorded_as_failed(db, client):
    _install_shop(db)
    response = post_webhook(client, "customers/create", SHOP, {"id": "not-a-number"})
    assert response.status_code == 200
    [event] = _events(db)
    assert event.outcome == "failed"
    assert "ValueError" in event.last_error


def test_when_the_database_is_down_shopify_is_asked_to_retry(db):
    from app.db import Database

    dead = Database("postgresql://postgres@127.0.0.1:1/none")
    client = create_app(app_config(dead)).test_client()
    response = post_webhook(client, "customers/create", SHOP, fixture_payload("customers/create"))
    dead.dispose()
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"


def test_a_pooled_connection_that_died_is_replaced_without_a_retry_from_shopify(pg):
    """The inbox pool does not ping before each insert (bench/ingest.py): a connection that
    a database restart killed fails its insert, and the insert runs again on a fresh one."""
    from sqlalchemy import text

    _install_shop(pg)
    client = create_app(app_config(pg)).test_client()
    # One pooled connection, so the next delivery is sure to get the one that dies.
    pg.autocommit_engine.dispose()
    first = post_webhook(client, "customers/create", SHOP, fixture_payload("customers/create"),
                         webhook_id="before-restart")
    assert first.status_code == 200
    ingest = pg.autocommit_engine
    with ingest.connect() as conn:
        pooled_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    with pg.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled_pid})
    second = post_webhook(client, "customers/update", SHOP, fixture_payload("customers/update"),
                          webhook_id="after-restart")
    assert second.status_code == 200
    assert [e.webhook_id for e in _events(pg)] == ["before-restart", "after-restart"]
    with ingest.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != pooled_pid


def test_with_redis_a_real_rq_worker_applies_the_event(db, redis_url):
    _install_shop(db)
    app = create_app(app_config(db, redis_url=redis_url))
    response = post_webhook(app.test_client(), "customers/create", SHOP,
                            fixture_payload("customers/create"))
    assert response.status_code == 200
    [event] = _events(db)
    assert event.processed_at is None
    queue = app.extensions["runtime"].queue
    assert queue.rq_queue("webhooks").count == 1
    Worker([queue.rq_queue("webhooks")], connection=queue.redis,
           runtime=app.extensions["runtime"]).work(burst=True)
    [event] = _events(db)
    assert event.outcome == "processed"
    assert len(_members(db)) == 1


def test_when_redis_is_down_the_delivery_is_kept_and_the_sweep_applies_it_later(db, redis_url):
    _install_shop(db)
    down = create_app(app_config(db, redis_url="redis://127.0.0.1:1/0"))
    response = post_webhook(down.test_client(), "customers/create", SHOP,
                            fixture_payload("customers/create"))
    assert response.status_code == 200
    [event] = _events(db)
    assert event.processed_at is None

    up = create_app(app_config(db, redis_url=redis_url))
    assert sweep_inbox(up.extensions["runtime"], older_than_seconds=0) == 1
    queue: RedisQueue = up.extensions["runtime"].queue
    Worker([queue.rq_queue("webhooks")], connection=queue.redis,
           runtime=up.extensions["runtime"]).work(burst=True)
    [event] = _events(db)
    assert event.outcome == "processed"
    assert len(_members(db)) == 1
    assert sweep_inbox(up.extensions["runtime"], older_than_seconds=0) == 0
