"""Every email flow is one `Flow` in one registry, and every place that needs a flow finds it.

Walking the registry: a flow without a label, defaults, a subject, a content builder or either
email template fails here, as does a place (program defaults, settings form and labels, the
engagement page, the sender) that does not follow the registry.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.engagement.flows import (
    DETRACTOR_ALERT,
    FLOWS,
    key_parts,
    message_kinds,
    review_request_key,
    subject_of,
    transactional_kinds,
    win_back_key,
)
from app.engagement.stats import FlowStats
from app.loyalty.program import DEFAULT_SETTINGS, validate
from app.loyalty.settings_labels import known_label
from app.messaging.templates import EMAIL_TEMPLATES, render_email
from app.web.admin.engagement import flow_rows
from app.web.admin.forms import BOOL, INT, SECTIONS

NAMES = sorted(FLOWS)


def test_the_registry_holds_every_shopper_flow_once() -> None:
    assert len(NAMES) == 10
    assert DETRACTOR_ALERT not in FLOWS
    assert message_kinds() == (*FLOWS, DETRACTOR_ALERT)


@pytest.mark.parametrize("name", NAMES)
def test_a_flow_declares_everything_it_needs(name: str) -> None:
    flow = FLOWS[name]
    assert flow.name == name
    assert flow.label.strip() and "_" not in flow.label
    assert flow.subject.strip()
    assert callable(flow.compose)
    assert timedelta(0) < flow.max_delay <= timedelta(days=30)
    assert isinstance(flow.defaults.get("enabled"), bool)
    assert all(isinstance(v, int) for k, v in flow.defaults.items() if k != "enabled")
    assert key_parts(flow.key(7, 42)) == ["7", "42"]
    for template in flow.templates:
        assert (EMAIL_TEMPLATES / template).is_file(), f"{name} has no {template}"


@pytest.mark.parametrize("name", NAMES)
def test_the_program_defaults_and_the_settings_page_follow_the_registry(name: str) -> None:
    flow = FLOWS[name]
    assert DEFAULT_SETTINGS["engagement"]["flows"][name] == dict(flow.defaults)
    fields = SECTIONS["engagement"].fields
    for key, default in flow.defaults.items():
        path = f"engagement.flows.{name}.{key}"
        assert fields[path] == (BOOL if isinstance(default, bool) else INT)
        assert known_label(path) is not None, f"{path} has no label"
    assert known_label(f"engagement.flows.{name}.enabled") == f"{flow.label} flow: on"


def test_the_defaults_validate_and_an_unregistered_flow_is_refused() -> None:
    assert validate(DEFAULT_SETTINGS) == {}
    engagement = DEFAULT_SETTINGS["engagement"]
    bad = {**DEFAULT_SETTINGS, "engagement": {
        **engagement, "flows": {**engagement["flows"], "no_such_flow": {"enabled": True}}}}
    assert validate(bad) == {"engagement.flows.no_such_flow": "is not a flow"}


def test_the_engagement_page_lists_each_flow_by_its_label() -> None:
    rows = flow_rows([], {})
    assert [(r.kind, r.label) for r in rows] == [(n, f.label) for n, f in FLOWS.items()]
    assert all(isinstance(r.stats, FlowStats) for r in rows)


def test_the_sender_takes_the_subject_from_the_flow() -> None:
    assert subject_of("birthday") == FLOWS["birthday"].subject
    rendered = render_email("birthday", {
        "kind": "birthday", "shop": {"name": "Tea House", "url": "https://tea.example/"},
        "member": {"first_name": "Ada", "email": "ada@example.com"},
        "points": {"available": 10, "pending": 0}, "tier": None, "reward": None,
        "links": {"store": "https://x/c", "unsubscribe": "https://x/u"},
        "birthday": {"bonus": 200}})
    assert rendered.subject == "Happy birthday, Ada!"


def test_notices_go_first_and_promotions_need_consent() -> None:
    assert set(transactional_kinds()) == {n for n, f in FLOWS.items() if not f.promotional}
    assert all(FLOWS[n].priority == 0 for n in transactional_kinds())


def test_a_flows_key_is_the_format_of_its_key_function() -> None:
    assert FLOWS["win_back"].key(7, 42) == win_back_key(7, 42)
    assert FLOWS["review_request"].key(1042) == review_request_key(1042)
