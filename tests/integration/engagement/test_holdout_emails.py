"""A held-out customer gets no loyalty email: nothing is scheduled from their orders, and a
message that reaches them anyway (a daily flow) is suppressed when due, through real SMTP."""

from __future__ import annotations

from app.engagement import flows
from app.engagement.schedule import schedule_message
from app.loyalty import holdout
from tests.integration.engagement.conftest import JOINED, T0, days
from tests.integration.loyalty.test_holdout import customers_in


def test_a_held_out_customer_gets_no_email_while_the_program_customer_does(shopfront):
    with shopfront.session() as s:
        shop = shopfront.shop(s)
        holdout.start(shop, 10, JOINED - days(1))
        [control] = customers_in(shop, holdout.CONTROL, first=9_100)
        [treated] = customers_in(shop, holdout.PROGRAM, first=9_100)
    held_id = shopfront.customer(control, "held@example.com", "Hedy")
    shopfront.customer(treated, "in@example.com", "Ines")
    shopfront.pay(6001, control, "held@example.com", "60.00", T0)
    shopfront.pay(6002, treated, "in@example.com", "60.00", T0)
    with shopfront.session() as s:
        # Any message that reaches them anyway (one scheduled before this rule, say).
        schedule_message(s, shop_id=shopfront.shop_id, member_id=held_id, kind="welcome",
                         natural_key=flows.welcome_key(held_id), at=T0, now=T0)
    shopfront.run_due(T0)
    assert shopfront.inbox("held@example.com") == []
    assert [m["Subject"] is not None for m in shopfront.inbox("in@example.com")] == [True]
    held = [(m.kind, m.status, m.reason) for m in shopfront.messages()
            if m.member_id == held_id]
    assert held == [("welcome", "suppressed", "held_out")]
