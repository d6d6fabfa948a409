"""An A/B test of a flow's email subject: the member in arm B receives the welcome email with
B's subject, the member in arm A the flow's own, through the real send path (SMTP); adopting
B saves it as the flow's subject for everyone; a merchant's subject is text, never a
template."""

from __future__ import annotations

from app.insights.experiments import ExperimentError, adopt_arm, start_experiment
from app.loyalty import events
from app.loyalty.experiments import arm_for, running_experiment
from app.loyalty.program import SettingsError, current_settings, save_settings
from devstore.payloads import customer_payload
from tests.integration.engagement.conftest import JOINED, T0, days

SUBJECT = "engagement.flows.welcome.subject"
B_SUBJECT = "Your points are waiting, {{ member.first_name }}"


def _start(shopfront, value_b: str):
    with shopfront.session() as s:
        shop = shopfront.shop(s)
        return start_experiment(s, shop, current_settings(s, shop.id), variable=SUBJECT,
                                value_b=value_b, metric="next_order_30d",
                                smallest_effect_points="10", guardrail_cost="5", now=JOINED,
                                started_by="test").assignment_key


def _sign_up(shopfront, customer_id: int, email: str) -> None:
    """customers/create: the member signs up while the test runs, and enters it."""
    shopfront.names[customer_id] = "Ada"
    with shopfront.session() as s:
        events.customer_joined(s, shopfront.shop(s), customer_payload(
            customer_id, email=email, first_name="Ada", last_name="Tester"), JOINED,
            welcome=True)


def test_each_arm_gets_its_subject_and_adopting_b_gives_it_to_everyone(shopfront):
    key = _start(shopfront, B_SUBJECT)
    customers: dict[str, int] = {}
    customer = 9_100
    while len(customers) < 2:
        customers.setdefault(arm_for(key, customer), customer)
        customer += 1
    for arm, customer_id in customers.items():
        _sign_up(shopfront, customer_id, f"{arm.lower()}@example.com")
        shopfront.pay(5_000 + customer_id, customer_id, f"{arm.lower()}@example.com", "60.00", T0)
    assert shopfront.run_due(T0)["sent"] == 2
    [a] = shopfront.inbox("a@example.com")
    [b] = shopfront.inbox("b@example.com")
    assert a["Subject"] == "Welcome to Tea & Co rewards, Ada"
    # Sent as written: the braces are text, not template code.
    assert b["Subject"] == B_SUBJECT
    with shopfront.session() as s:
        experiment = running_experiment(s, shopfront.shop_id)
        adopt_arm(s, shopfront.shop(s), experiment, "B", now=T0, changed_by="test")
        assert current_settings(s, shopfront.shop_id).engagement["flows"]["welcome"][
            "subject"] == B_SUBJECT
    # Someone who was never in the test now gets B's subject too.
    shopfront.customer(9_300, "late@example.com", "Lin", at=T0 + days(1))
    shopfront.pay(9_301, 9_300, "late@example.com", "60.00", T0 + days(1))
    shopfront.run_due(T0 + days(1))
    assert [m["Subject"] for m in shopfront.inbox("late@example.com")] == [B_SUBJECT]


def test_a_subject_must_be_one_line_of_at_most_150_characters(shopfront):
    for bad in ("", "   ", "x" * 151, "two\nlines", "nul\x00"):
        try:
            _start(shopfront, bad)
        except ExperimentError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    with shopfront.session() as s:
        for bad in (12, "x" * 151, "a\r\nBcc: x@example.com"):
            try:
                save_settings(s, shopfront.shop_id,
                              {"engagement": {"flows": {"welcome": {"subject": bad}}}},
                              changed_by="test", now=T0)
            except SettingsError as exc:
                assert "engagement.flows.welcome.subject" in exc.errors
                continue
            raise AssertionError(f"{bad!r} was saved")
