"""The topic registry is the one list of webhook topics: shopify.app.toml subscribes to exactly
its topics, and the inbox knows exactly those."""

from __future__ import annotations

import tomllib
from pathlib import Path

from app.pipeline.topics import HANDLERS, KNOWN_TOPICS, handler_for
from app.shopify.webhooks import COMPLIANCE_TOPICS, DESTRUCTIVE_TOPICS

REPO = Path(__file__).resolve().parents[3]


def subscribed_topics(config_text: str) -> set[str]:
    """Every topic a shopify.app.toml subscribes to, compliance topics included."""
    subscriptions = tomllib.loads(config_text)["webhooks"]["subscriptions"]
    return {topic for subscription in subscriptions
            for topic in subscription.get("topics", []) + subscription.get("compliance_topics", [])}


def registry_mismatch(subscribed: set[str], registered: set[str]) -> dict[str, list[str]]:
    """Topics subscribed without a handler, and handled topics never subscribed."""
    return {"subscribed, not in the registry": sorted(subscribed - registered),
            "in the registry, not subscribed": sorted(registered - subscribed)}


def test_every_subscribed_topic_is_registered_and_every_registered_topic_subscribed():
    subscribed = subscribed_topics((REPO / "shopify.app.toml").read_text())
    assert registry_mismatch(subscribed, set(HANDLERS)) == {
        "subscribed, not in the registry": [], "in the registry, not subscribed": []}


def test_a_topic_missing_on_either_side_is_named():
    config = ('[webhooks]\napi_version = "2026-07"\n[[webhooks.subscriptions]]\n'
              'topics = ["orders/paid", "orders/edited"]\nuri = "/webhooks"\n')
    mismatch = registry_mismatch(subscribed_topics(config), set(HANDLERS))
    assert mismatch["subscribed, not in the registry"] == ["orders/edited"]
    assert "refunds/create" in mismatch["in the registry, not subscribed"]


def test_the_inbox_knows_exactly_the_registered_topics():
    assert KNOWN_TOPICS == frozenset(HANDLERS)
    assert handler_for("orders/edited") is None


def test_destructive_topics_are_registered_and_need_no_installed_shop():
    assert set(COMPLIANCE_TOPICS) <= DESTRUCTIVE_TOPICS <= KNOWN_TOPICS
    for topic in DESTRUCTIVE_TOPICS:
        assert HANDLERS[topic].needs_installed_shop is False, topic
