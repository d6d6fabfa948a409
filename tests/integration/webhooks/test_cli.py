"""The sweep is also a `flask` command, for operators after an outage."""

from app import create_app
from app.models import WebhookEvent
from tests.conftest import app_config
from tests.support.factories import make_shop
from tests.support.webhook_signing import fixture_payload, post_webhook


def test_flask_sweep_inbox_applies_events_that_were_never_processed(db):
    with db.transaction() as s:
        make_shop(s, domain="cli-shop.myshopify.com")
    down = create_app(app_config(db, redis_url="redis://127.0.0.1:1/0"))
    post_webhook(down.test_client(), "customers/create", "cli-shop.myshopify.com",
                 fixture_payload("customers/create"))
    inline = create_app(app_config(db))
    result = inline.test_cli_runner().invoke(args=["sweep-inbox", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "re-enqueued 1 event(s)" in result.output
    with db.sessions() as s:
        [event] = s.query(WebhookEvent).all()
        assert event.outcome == "processed"
