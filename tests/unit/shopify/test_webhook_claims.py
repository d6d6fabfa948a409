"""What a webhook payload claims about its shop, and when a destructive delivery is fresh."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from app.shopify.webhooks import (
    DESTRUCTIVE_TOPICS,
    freshness_refusal_code,
    named_shop_id,
    named_shop_mismatch,
    parse_triggered_at,
)
from devstore.payloads import fixtures_dir

SHOP, OTHER = "alpha-shop.myshopify.com", "beta-shop.myshopify.com"
SAMPLES = sorted(p.stem.replace("__", "/") for p in fixtures_dir("2026-07").glob("*.json"))
NOW = datetime(2026, 12, 5, 9, 0, 0)


def _as_shopify_sends_it(topic: str, shop: str) -> dict:
    """Shopify's sample for the topic as one shop receives it (its placeholders filled)."""
    path = fixtures_dir("2026-07") / f"{topic.replace('/', '__')}.json"
    body = json.loads(path.read_text().replace("{shop}.myshopify.com", shop))
    if topic == "app/uninstalled":
        body.update(domain=shop, myshopify_domain=shop)
    return body


@pytest.mark.parametrize("topic", SAMPLES)
def test_every_shopify_sample_received_by_its_own_shop_names_no_other(topic):
    assert named_shop_mismatch(_as_shopify_sends_it(topic, SHOP), SHOP) is None


@pytest.mark.parametrize("topic", sorted(DESTRUCTIVE_TOPICS))
def test_every_destructive_sample_sent_for_another_shop_names_its_own(topic):
    assert named_shop_mismatch(_as_shopify_sends_it(topic, OTHER), SHOP) == OTHER


@pytest.mark.parametrize("topic", ["orders/paid", "refunds/create", "customers/create"])
def test_orders_refunds_and_customers_name_no_shop(topic):
    assert named_shop_mismatch(_as_shopify_sends_it(topic, OTHER), SHOP) is None


def test_a_shop_domain_that_is_not_a_myshopify_domain_is_a_mismatch():
    assert named_shop_mismatch({"shop_domain": "evil.example"}, SHOP) == "evil.example"
    assert named_shop_mismatch({"shop_domain": 42}, SHOP) == "42"


def test_the_primary_domain_counts_only_when_it_is_a_myshopify_domain():
    assert named_shop_mismatch({"domain": "www.alpha.example", "myshopify_domain": SHOP},
                               SHOP) is None
    assert named_shop_mismatch({"domain": OTHER, "myshopify_domain": SHOP}, SHOP) == OTHER


def test_the_shop_id_is_the_shop_resources_id_or_the_privacy_topics_shop_id():
    assert named_shop_id("app/uninstalled", {"id": 548380009}) == 548380009
    assert named_shop_id("shop/redact", {"shop_id": "954889"}) == 954889
    assert named_shop_id("orders/paid", {"id": 1}) is None


@pytest.mark.parametrize("value", [True, None, "", "²", "1" * 5000, 1.5, [1], {"id": 1}, -3])
def test_a_shop_id_that_is_not_a_plain_number_names_none(value):
    assert named_shop_id("shop/redact", {"shop_id": value}) is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-12-05T09:00:00.123Z", datetime(2026, 12, 5, 9, 0, 0, 123000)),
    ("2026-12-05T09:00:00.123456789Z", datetime(2026, 12, 5, 9, 0, 0, 123456)),
    ("2026-12-05T10:00:00+01:00", datetime(2026, 12, 5, 9, 0, 0)),
    ("2026-12-05T09:00:00", None),
    ("soon", None),
    ("", None),
    ("9999-12-31T23:59:59-23:59", None),
    ("0001-01-01T00:00:00+23:59", None),
])
def test_triggered_at_is_read_as_utc_and_needs_its_zone(raw, expected):
    assert parse_triggered_at(raw) == expected


@pytest.mark.parametrize(("age", "code"), [
    (timedelta(0), None),
    (timedelta(hours=48), None),
    (timedelta(hours=48, seconds=1), "stale_delivery"),
    (timedelta(minutes=-5), None),
    (timedelta(minutes=-5, seconds=-1), "triggered_in_the_future"),
])
def test_a_destructive_delivery_is_fresh_for_48_hours(age, code):
    triggered = (NOW - age).isoformat() + "Z"
    assert freshness_refusal_code(triggered, NOW) == code


def test_no_trigger_time_is_its_own_refusal():
    assert freshness_refusal_code(None, NOW) == "missing_triggered_at"
    assert freshness_refusal_code("2026-13-01T00:00:00Z", NOW) == "invalid_triggered_at"


def test_only_the_uninstall_and_privacy_topics_count_as_destructive():
    assert DESTRUCTIVE_TOPICS == {"app/uninstalled", "customers/data_request",
                                           "customers/redact", "shop/redact"}
