"""Uninstall and the privacy webhooks: two shops, two customers each, rows in every table."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Base, Database
from app.loyalty.privacy import (
    REDACTED_PAYLOAD,
    export_customer_data,
    mark_uninstalled,
    redact_customer,
    redact_shop,
)
from app.models import (
    LedgerEntry,
    Member,
    Message,
    Order,
    OrderRefund,
    Redemption,
    Referral,
    RefusedWebhook,
    Reward,
    SettingsVersion,
    Shop,
    SurveyResponse,
    TierChange,
    WebhookEvent,
)

NOW = datetime(2026, 11, 20, 9, 0, 0)
SHOP_A, SHOP_B = "alpha-shop.myshopify.com", "beta-shop.myshopify.com"
# Distinctive values, so a plain-text scan of every row proves they are gone.
ADA_ID, ADA_EMAIL, ADA_ORDER, ADA_GUEST_ORDER = 7700001111, "ada.redact@example.com", 88001, 88002
BOB_ID, BOB_EMAIL, BOB_ORDER = 7700002222, "bob.keep@example.com", 88003
_webhook_ids = itertools.count(1)


def event(shop: str, topic: str, payload: dict[str, Any], processed: bool = True
          ) -> WebhookEvent:
    """An inbox row as the webhook endpoint stores it."""
    return WebhookEvent(webhook_id=f"wh-{next(_webhook_ids)}", topic=topic, shop_domain=shop,
                        payload=json.dumps(payload), received_at=NOW,
                        processed_at=NOW if processed else None,
                        outcome="processed" if processed else None)


def footprint(session: Session, shop: Shop, reward: Reward, customer_id: int, email: str,
              order_id: int, name: str) -> Member:
    """A customer with a row in every table that can hold them."""
    member = Member(shop_id=shop.id, customer_id=customer_id, email=email, first_name=name,
                    referral_code=f"{name.upper()}-{shop.id}", birthday=date(1990, 5, 17),
                    tier="Silver", points_available=300, points_lifetime=500)
    session.add(member)
    session.flush()
    session.add_all([
        LedgerEntry(shop_id=shop.id, member_id=member.id, points=500, kind="earn_order",
                    source_key=f"order:{order_id}:earn", available_at=NOW, order_id=order_id,
                    amount=Decimal("100")),
        LedgerEntry(shop_id=shop.id, member_id=member.id, points=-200, kind="redeem",
                    source_key=f"redeem:{order_id}", available_at=NOW),
        Order(shop_id=shop.id, shopify_order_id=order_id, member_id=member.id, email=email,
              name=f"#{order_id}", total_price=Decimal("100"), eligible_amount=Decimal("100"),
              browser_ip="203.0.113.9", address_digest=f"digest-{customer_id}"),
        OrderRefund(shop_id=shop.id, shopify_refund_id=order_id + 5, shopify_order_id=order_id,
                    eligible_amount=Decimal("40"), refunded_at=NOW, applied_at=NOW),
        Redemption(shop_id=shop.id, member_id=member.id, reward_id=reward.id, points=200,
                   code=f"LOYAL-{customer_id}", status="issued"),
        SurveyResponse(shop_id=shop.id, member_id=member.id, order_id=order_id, score=9,
                       comment=f"Lovely, thanks. {name}"),
        Message(shop_id=shop.id, member_id=member.id, kind="review_request",
                natural_key=f"review:{order_id}", status="scheduled",
                scheduled_at=NOW + timedelta(days=7)),
        Message(shop_id=shop.id, member_id=member.id, kind="welcome",
                natural_key=f"welcome:{customer_id}", status="sent", sent_at=NOW),
        TierChange(shop_id=shop.id, member_id=member.id, from_tier=None, to_tier="Silver",
                   reason="spend"),
        event(shop.domain, "orders/paid", {"id": order_id, "email": email,
                                           "customer": {"id": customer_id, "email": email}}),
        event(shop.domain, "customers/create", {"id": customer_id, "email": email}),
        event(shop.domain, "refunds/create", {"id": order_id + 5, "order_id": order_id}),
    ])
    session.flush()
    return member


def seed_shop(session: Session, domain: str) -> Shop:
    """A shop with Ada and Bob, who referred each other, Ada's guest order and inbox rows."""
    shop = Shop(domain=domain, installed_at=NOW - timedelta(days=60), currency="USD",
                access_token_enc="enc-a", refresh_token_enc="enc-r",
                access_token_expires_at=NOW + timedelta(hours=1))
    session.add(shop)
    session.flush()
    reward = Reward(shop_id=shop.id, title="5 off", kind="amount_off", cost=500,
                    value=Decimal("5"))
    session.add_all([reward, SettingsVersion(shop_id=shop.id, version=1, data={"v": 1})])
    session.flush()
    ada = footprint(session, shop, reward, ADA_ID, ADA_EMAIL, ADA_ORDER, "Ada")
    bob = footprint(session, shop, reward, BOB_ID, BOB_EMAIL, BOB_ORDER, "Bob")
    bob.referred_by_id = ada.id
    guest = Member(shop_id=shop.id, customer_id=None, email=ADA_EMAIL, referral_code=f"G-{shop.id}")
    session.add(guest)
    session.flush()
    session.add_all([
        Referral(shop_id=shop.id, referrer_id=ada.id, referee_id=bob.id,
                 referee_customer_id=BOB_ID, referee_email=BOB_EMAIL, order_id=BOB_ORDER,
                 code=ada.referral_code, status="rewarded", browser_ip="198.51.100.2"),
        Referral(shop_id=shop.id, referrer_id=bob.id, referee_id=ada.id,
                 referee_customer_id=ADA_ID, referee_email=ADA_EMAIL, order_id=ADA_ORDER,
                 code=bob.referral_code, status="pending", browser_ip="198.51.100.3",
                 detail=f"friend {ADA_EMAIL}"),
        Order(shop_id=shop.id, shopify_order_id=ADA_GUEST_ORDER, member_id=guest.id,
              email=ADA_EMAIL.upper(), total_price=Decimal("20")),
        LedgerEntry(shop_id=shop.id, member_id=guest.id, points=100, kind="earn_order",
                    source_key=f"order:{ADA_GUEST_ORDER}:earn", available_at=NOW,
                    order_id=ADA_GUEST_ORDER),
        OrderRefund(shop_id=shop.id, shopify_refund_id=ADA_GUEST_ORDER + 5,
                    shopify_order_id=ADA_GUEST_ORDER, eligible_amount=Decimal("5"),
                    store_credit_amount=Decimal("5"), refunded_at=NOW, applied_at=NOW),
    ])
    session.flush()
    return shop


def seed(db: Database) -> tuple[int, int]:
    """Both shops; their ids."""
    with db.transaction() as session:
        return seed_shop(session, SHOP_A).id, seed_shop(session, SHOP_B).id


def rows_of_shop(db: Database, shop_id: int, domain: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that belongs to one shop."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if "shop_id" in table.c:
                query = table.select().where(table.c.shop_id == shop_id)
            elif "shop_domain" in table.c:
                query = table.select().where(table.c.shop_domain == domain)
            elif table.name == "shops":
                query = table.select().where(table.c.id == shop_id)
            else:
                continue
            found[table.name] = sorted((tuple(r) for r in conn.execute(query)), key=repr)
    return found


def bobs_rows(db: Database, shop_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row that is Bob's own in one shop, all columns."""
    with db.engine.connect() as conn:
        members = Base.metadata.tables["members"]
        bob = conn.execute(members.select().where(members.c.shop_id == shop_id,
                                                  members.c.customer_id == BOB_ID)).one()
        # Who referred Bob is Ada's link, not Bob's data: it is the one column that changes.
        rows = {"members": [tuple(v for k, v in bob._mapping.items() if k != "referred_by_id")]}
        for table in Base.metadata.sorted_tables:
            if "member_id" in table.c:
                rows[table.name] = sorted((tuple(r) for r in conn.execute(
                    table.select().where(table.c.member_id == bob.id))), key=repr)
    return rows


# --- customers/redact -------------------------------------------------------------------------

def redact_ada(db: Database) -> Any:
    """The customers/redact Shopify sends for Ada of shop A."""
    payload = {"shop_id": 1, "shop_domain": SHOP_A, "orders_to_redact": [ADA_ORDER],
               "customer": {"id": ADA_ID, "email": ADA_EMAIL, "phone": "555-625-1199"}}
    with db.transaction() as session:
        session.add(event(SHOP_A, "customers/redact", payload, processed=False))
        session.add(event(SHOP_A, "orders/paid", {"id": 88999, "email": ADA_EMAIL},
                          processed=False))
    with db.transaction() as session:
        return redact_customer(session, SHOP_A, payload, NOW)


def test_a_redacted_customer_leaves_no_trace_in_their_shop(db: Database) -> None:
    shop_a, _ = seed(db)
    result = redact_ada(db)
    text = repr(rows_of_shop(db, shop_a, SHOP_A)).lower()
    assert result.code == "redacted"
    assert str(ADA_ID) not in text
    assert ADA_EMAIL not in text
    assert "555-625-1199" not in text
    assert "ada-" not in text and "lovely, thanks. ada" not in text  # code, survey comment
    with db.sessions() as session:
        orders = set(session.execute(select(Order.shopify_order_id).where(
            Order.shop_id == shop_a)).scalars())
        surveys = set(session.execute(select(SurveyResponse.order_id).where(
            SurveyResponse.shop_id == shop_a)).scalars())
    assert orders == surveys | {BOB_ORDER} == {BOB_ORDER}


def test_redaction_removes_the_customers_ledger_identity_with_the_guest_member(
        db: Database) -> None:
    shop_a, _ = seed(db)
    result = redact_ada(db)
    with db.sessions() as session:
        members = session.execute(select(Member.customer_id, Member.email).where(
            Member.shop_id == shop_a)).all()
        ledger_orders = set(session.execute(select(LedgerEntry.order_id).where(
            LedgerEntry.shop_id == shop_a)).scalars())
    assert members == [(BOB_ID, BOB_EMAIL)]
    assert ledger_orders == {BOB_ORDER, None}
    assert (result.counts["members"], result.counts["ledger_entries"],
            result.counts["orders"]) == (2, 3, 2)


def refunds_of_shop(db: Database, shop_id: int) -> list[tuple[int, int]]:
    """The shop's recorded refunds as (refund id, order id)."""
    with db.sessions() as session:
        return sorted(tuple(row) for row in session.execute(select(
            OrderRefund.shopify_refund_id, OrderRefund.shopify_order_id).where(
            OrderRefund.shop_id == shop_id)))


def test_redaction_deletes_the_recorded_refunds_of_the_customers_orders(db: Database) -> None:
    shop_a, shop_b = seed(db)
    result = redact_ada(db)
    assert result.counts["order_refunds"] == 2  # her order's and her guest order's
    assert refunds_of_shop(db, shop_a) == [(BOB_ORDER + 5, BOB_ORDER)]
    assert refunds_of_shop(db, shop_b) == sorted([
        (ADA_ORDER + 5, ADA_ORDER), (BOB_ORDER + 5, BOB_ORDER),
        (ADA_GUEST_ORDER + 5, ADA_GUEST_ORDER)])


def test_a_refund_that_came_before_its_order_was_paid_is_redacted_with_the_order(
        db: Database) -> None:
    # An early refund leaves an order row with no customer on it: only orders_to_redact
    # ties it to the customer.
    shop_a, _ = seed(db)
    early_order = 88005
    with db.transaction() as session:
        session.add_all([
            Order(shop_id=shop_a, shopify_order_id=early_order, status="awaiting_payment",
                  refunded_amount=Decimal("12")),
            OrderRefund(shop_id=shop_a, shopify_refund_id=early_order + 5,
                        shopify_order_id=early_order, eligible_amount=Decimal("12"),
                        refunded_at=NOW)])
    payload = {"orders_to_redact": [ADA_ORDER, early_order],
               "customer": {"id": ADA_ID, "email": ADA_EMAIL}}
    with db.transaction() as session:
        result = redact_customer(session, SHOP_A, payload, NOW)
    assert (result.counts["order_refunds"], result.counts["orders"]) == (3, 3)
    assert refunds_of_shop(db, shop_a) == [(BOB_ORDER + 5, BOB_ORDER)]


def test_a_referral_in_which_the_customer_was_the_friend_keeps_only_the_referrers_side(
        db: Database) -> None:
    shop_a, _ = seed(db)
    redact_ada(db)
    with db.sessions() as session:
        referrals = session.execute(select(Referral).where(Referral.shop_id == shop_a)
                                    ).scalars().all()
    assert [(r.code, r.status, r.referee_id, r.referee_customer_id, r.referee_email,
             r.browser_ip, r.detail) for r in referrals] == [
        (f"BOB-{shop_a}", "pending", None, None, None, None, None)]


def test_inbox_payloads_naming_the_customer_are_blanked_and_never_processed(
        db: Database) -> None:
    shop_a, _ = seed(db)
    result = redact_ada(db)
    with db.sessions() as session:
        events = session.execute(select(WebhookEvent).where(
            WebhookEvent.shop_domain == SHOP_A).order_by(WebhookEvent.id)).scalars().all()
    blanked = [(e.topic, e.outcome) for e in events if e.payload == REDACTED_PAYLOAD]
    assert sorted(blanked) == sorted([
        ("orders/paid", "processed"), ("customers/create", "processed"),
        ("refunds/create", "processed"), ("customers/redact", "redacted"),
        ("orders/paid", "redacted")])
    assert result.counts["inbox_payloads"] == 5
    assert all(e.processed_at is not None for e in events)
    assert {e.topic for e in events if e.payload != REDACTED_PAYLOAD} == {
        "orders/paid", "customers/create", "refunds/create"}  # Bob's


def test_redacting_one_customer_leaves_the_other_and_the_other_shop_untouched(
        db: Database) -> None:
    shop_a, shop_b = seed(db)
    bob_before, shop_b_before = bobs_rows(db, shop_a), rows_of_shop(db, shop_b, SHOP_B)
    redact_ada(db)
    assert bobs_rows(db, shop_a) == bob_before
    with db.sessions() as session:
        assert session.execute(select(Member.referred_by_id).where(
            Member.customer_id == BOB_ID, Member.shop_id == shop_a)).scalar_one() is None
    assert rows_of_shop(db, shop_b, SHOP_B) == shop_b_before
    assert str(ADA_ID) in repr(shop_b_before)  # the same person in shop B is not theirs


def test_redacting_twice_is_harmless(db: Database) -> None:
    shop_a, _ = seed(db)
    redact_ada(db)
    after_first = rows_of_shop(db, shop_a, SHOP_A)
    with db.transaction() as session:
        again = redact_customer(session, SHOP_A, {"customer": {"id": ADA_ID,
                                                               "email": ADA_EMAIL}}, NOW)
    assert rows_of_shop(db, shop_a, SHOP_A) == after_first
    assert sum(again.counts.values()) == 0


def test_redacting_for_an_unknown_shop_does_nothing(db: Database) -> None:
    seed(db)
    with db.transaction() as session:
        result = redact_customer(session, "nobody.myshopify.com", {"customer": {"id": 1}}, NOW)
    assert result.code == "unknown_shop"


# --- customers/data_request -------------------------------------------------------------------

def test_a_data_request_exports_everything_held_about_the_customer(db: Database,
                                                                   tmp_path: Path) -> None:
    shop_a, _ = seed(db)
    payload = {"shop_id": 1, "shop_domain": SHOP_A, "orders_requested": [ADA_ORDER],
               "customer": {"id": ADA_ID, "email": ADA_EMAIL, "phone": "555-625-1199"},
               "data_request": {"id": 9999}}
    with db.sessions() as session:
        path = export_customer_data(session, SHOP_A, payload, NOW, tmp_path)
    data = json.loads(path.read_text())
    assert path.name == f"alpha-shop-customer-{ADA_ID}-request-9999.json"
    assert sorted(((m["customer_id"], m["email"]) for m in data["members"]), key=repr) == [
        (ADA_ID, ADA_EMAIL), (None, ADA_EMAIL)]
    assert sorted(e["points"] for e in data["ledger"]) == [-200, 100, 500]
    assert sorted(o["shopify_order_id"] for o in data["orders"]) == [ADA_ORDER, ADA_GUEST_ORDER]
    assert sorted((r["shopify_order_id"], r["eligible_amount"], r["store_credit_amount"])
                  for r in data["order_refunds"]) == [
        (ADA_ORDER, "40.0000", "0.0000"), (ADA_GUEST_ORDER, "5.0000", "5.0000")]
    assert [r["code"] for r in data["redemptions"]] == [f"LOYAL-{ADA_ID}"]
    assert [r["code"] for r in data["referrals_made"]] == [f"ADA-{shop_a}"]
    assert [r["code"] for r in data["referred_by"]] == [f"BOB-{shop_a}"]
    assert [s["comment"] for s in data["survey_responses"]] == ["Lovely, thanks. Ada"]
    assert sorted(m["kind"] for m in data["messages"]) == ["review_request", "welcome"]
    assert [t["to_tier"] for t in data["tier_changes"]] == ["Silver"]
    assert {m["birthday"] for m in data["members"]} == {"1990-05-17", None}
    # Other people's data stays out: the friend Ada referred, and shop B.
    text = path.read_text()
    assert BOB_EMAIL not in text and str(BOB_ID) not in text and SHOP_B not in text


def test_a_data_request_for_an_unknown_customer_still_answers_with_an_empty_export(
        db: Database, tmp_path: Path) -> None:
    seed(db)
    payload = {"customer": {"id": 1, "email": "nobody@example.com"}, "data_request": {"id": 5}}
    with db.sessions() as session:
        path = export_customer_data(session, SHOP_A, payload, NOW, tmp_path)
    data = json.loads(path.read_text())
    assert (data["members"], data["ledger"], data["orders"]) == ([], [], [])
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


# --- shop/redact ------------------------------------------------------------------------------

def test_a_shop_redaction_deletes_everything_of_the_shop_and_nothing_else(db: Database) -> None:
    shop_a, shop_b = seed(db)
    with db.transaction() as session:
        mark_uninstalled(session, SHOP_A, NOW)
        session.add(event(SHOP_A, "shop/redact", {"shop_id": 1, "shop_domain": SHOP_A},
                          processed=False))
        session.add_all([RefusedWebhook(reason="shop_mismatch", topic="app/uninstalled",
                                        shop_domain=shop, named_shop="x.myshopify.com",
                                        webhook_id=f"refused-{shop}", received_at=NOW)
                         for shop in (SHOP_A, SHOP_B)])
    shop_b_before = rows_of_shop(db, shop_b, SHOP_B)
    with db.transaction() as session:
        result = redact_shop(session, SHOP_A, NOW + timedelta(hours=48))
    left = {name: rows for name, rows in rows_of_shop(db, shop_a, SHOP_A).items() if rows}
    assert result.code == "redacted"
    assert list(left) == ["webhook_events"]
    assert [row[2] for row in left["webhook_events"]] == ["shop/redact"]
    assert rows_of_shop(db, shop_b, SHOP_B) == shop_b_before


def test_a_shop_that_came_back_is_not_redacted(db: Database) -> None:
    shop_a, _ = seed(db)
    before = rows_of_shop(db, shop_a, SHOP_A)
    with db.transaction() as session:
        result = redact_shop(session, SHOP_A, NOW)
    assert result.code == "shop_installed"
    assert rows_of_shop(db, shop_a, SHOP_A) == before


# --- app/uninstalled --------------------------------------------------------------------------

def test_an_uninstall_clears_tokens_and_cancels_scheduled_messages(db: Database) -> None:
    shop_a, _ = seed(db)
    with db.transaction() as session:
        changed = mark_uninstalled(session, SHOP_A, NOW)
    with db.sessions() as session:
        shop = session.get(Shop, shop_a)
        statuses = sorted(session.execute(select(Message.status, Message.reason).where(
            Message.shop_id == shop_a)).all(), key=repr)
    assert changed is True
    assert (shop.uninstalled_at, shop.is_installed) == (NOW, False)
    assert (shop.access_token_enc, shop.refresh_token_enc, shop.access_token_expires_at) == (
        None, None, None)
    assert statuses == sorted([("cancelled", "app_uninstalled"), ("cancelled", "app_uninstalled"),
                               ("sent", None), ("sent", None)], key=repr)


def test_a_repeated_uninstall_changes_nothing(db: Database) -> None:
    shop_a, _ = seed(db)
    with db.transaction() as session:
        mark_uninstalled(session, SHOP_A, NOW)
    with db.transaction() as session:
        changed = mark_uninstalled(session, SHOP_A, NOW + timedelta(hours=1))
    with db.sessions() as session:
        assert session.get(Shop, shop_a).uninstalled_at == NOW
    assert changed is False


def test_an_uninstall_from_before_the_latest_install_is_ignored(db: Database) -> None:
    shop_a, _ = seed(db)
    with db.transaction() as session:
        changed = mark_uninstalled(session, SHOP_A, NOW,
                                   occurred_at=NOW - timedelta(days=61))
    with db.sessions() as session:
        shop = session.get(Shop, shop_a)
    assert (changed, shop.is_installed, shop.access_token_enc) == (False, True, "enc-a")


def test_an_uninstall_of_an_unknown_shop_is_a_no_op(db: Database) -> None:
    with db.transaction() as session:
        assert mark_uninstalled(session, "nobody.myshopify.com", NOW) is False
