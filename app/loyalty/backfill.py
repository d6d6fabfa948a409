"""Order history read back at install: tiers from real spend and, if the merchant chooses,
points for recent orders, applied in batches that a crash can resume.

An order is recorded once by its (shop, Shopify id) row and earns once by its ledger source
key `order:{id}:earn`, the keys live orders use: whichever of the backfill and an
`orders/paid` webhook comes first records it, and the other finds it done. Orders placed in
the hour before the backfill was asked for are left to their webhooks, which a live program
answers with points as it does for every new order. A customer the holdout keeps out of the
program earns nothing from the backfill either; customers first met by the backfill are not
assigned (their orders predate the holdout, like those of customers seen before it began).
While POS earning is off, in-store orders (`sourceName` "pos") earn nothing and enrol nobody,
as live ones: such an order is its customer's when they were a member by then (before this
run, or through an earlier online order of the history), and then counts toward their tier.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, case, func, select
from sqlalchemy.orm import Session

from app.db import insert_rows, update_rows
from app.errors import DomainError
from app.loyalty.earning import CANCELLED, PAID, earn_source_key, points_for
from app.loyalty.holdout import CONTROL, is_held_out
from app.loyalty.ledger import lifetime_change
from app.loyalty.members import enrol, normalise_email, referral_code_for
from app.loyalty.order_history import HistoricOrder
from app.loyalty.program import ProgramSettings, Tier
from app.loyalty.rollup import mark_stale
from app.loyalty.tiers import (
    ROLLING_WINDOW,
    counted_order_filter,
    evaluate_tier,
    qualifying_tier,
    reevaluate_shop_tiers,
    tier_named,
)
from app.models import BACKFILL_MODES, Backfill, LedgerEntry, Member, Order, Shop, TierChange

DEFAULT_WINDOW_DAYS = 365
MAX_WINDOW_DAYS = 3 * 365
# Without read_all_orders Shopify answers only the last 60 days of orders.
RECENT_ORDERS_DAYS = 60
ALL_ORDERS_SCOPE = "read_all_orders"
LIVE_MARGIN = timedelta(hours=1)
TIER_REASON = "order_history"


class BackfillRefused(DomainError):
    """The merchant's choice cannot run as asked; `field` names what to change."""

    code = "invalid_backfill"
    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.fields = {field: message}


@dataclass(frozen=True)
class Window:
    """How far back the backfill reads, and why it is shorter than asked when it is."""

    days: int
    capped_reason: str | None


def readable_window(asked_days: int, granted_scopes: str | None) -> Window:
    """The window the shop's granted scopes allow: all of it with read_all_orders, else 60
    days with the reason in words."""
    scopes = {s.strip() for s in (granted_scopes or "").split(",")}
    if asked_days <= RECENT_ORDERS_DAYS or ALL_ORDERS_SCOPE in scopes:
        return Window(asked_days, None)
    return Window(RECENT_ORDERS_DAYS, (
        f"Shopify lets apps read only the last {RECENT_ORDERS_DAYS} days of orders unless the "
        f"store grants the read_all_orders access scope, which this installation has not: "
        f"orders older than {RECENT_ORDERS_DAYS} days are not read."))


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BackfillRefused(field, f"a whole number from {low} to {high}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise BackfillRefused(field, f"a whole number from {low} to {high}") from None
    if not low <= number <= high:
        raise BackfillRefused(field, f"a whole number from {low} to {high}")
    return number


def latest_backfill(session: Session, shop_id: int) -> Backfill | None:
    """The shop's newest backfill."""
    return session.execute(select(Backfill).where(Backfill.shop_id == shop_id)
                           .order_by(Backfill.id.desc()).limit(1)).scalar_one_or_none()


def request_backfill(session: Session, shop: Shop, *, mode: Any, window_days: Any,
                     points_days: Any, now: datetime, actor: str | None) -> Backfill:
    """A new backfill run as the merchant asked, its window capped to what Shopify lets the
    app read; refused while another one is still running."""
    if mode not in BACKFILL_MODES:
        raise BackfillRefused("mode", "choose none, tiers or points")
    asked = _whole(window_days, "window_days", 1, MAX_WINDOW_DAYS)
    days_of_points = _whole(points_days, "points_days", 0, asked) if mode == "points" else 0
    if mode == "points" and days_of_points == 0:
        raise BackfillRefused("points_days", f"a whole number from 1 to {asked}")
    running = latest_backfill(session, shop.id)
    if running is not None and not running.finished:
        raise BackfillRefused("mode", "a backfill is already running for this store")
    window = readable_window(asked, shop.scopes)
    backfill = Backfill(shop_id=shop.id, mode=mode, window_days=window.days,
                        points_days=min(days_of_points, window.days),
                        since=(now - timedelta(days=window.days)).replace(
                            hour=0, minute=0, second=0, microsecond=0),
                        capped_reason=window.capped_reason, status="requested",
                        objects_found=0, lines_applied=0, orders_recorded=0, orders_skipped=0,
                        points_awarded=0, tier_changes=0, requested_by=actor, created_at=now)
    session.add(backfill)
    session.flush()
    return backfill


# --- applying a batch -----------------------------------------------------------------------

@dataclass(frozen=True)
class MemberRef:
    """A member as a batch needs it: its id, the tier its points are multiplied by, and
    whether the holdout keeps them out of the program (they earn nothing, as live)."""

    id: int
    tier: str | None
    held_out: bool = False


def _new_member_row(shop: Shop, customer_id: int | None, email: str | None,
                    order: HistoricOrder | None, now: datetime) -> dict[str, Any]:
    return {"shop_id": shop.id, "customer_id": customer_id, "email": email,
            "first_name": order.first_name if order else None,
            "last_name": order.last_name if order else None,
            "referral_code": referral_code_for(order.first_name if order else None),
            "accepts_marketing": False, "points_available": 0, "points_pending": 0,
            "points_lifetime": 0, "created_at": now, "last_activity_at": None}


def _insert_members(session: Session, rows: list[dict[str, Any]]) -> list[Any]:
    """INSERT the rows, a row whose referral code is taken left out; (id, customer_id, email)
    of those inserted, in one batched statement."""
    table = Member.__table__
    return insert_rows(session, table, rows, skip_conflicts=True,
                       returning=(table.c.id, table.c.customer_id, table.c.email))


def _ref(member: Member) -> MemberRef:
    return MemberRef(member.id, member.tier, is_held_out(member))


def _customer_refs(session: Session, shop: Shop, customer_ids: list[int]
                   ) -> dict[int, MemberRef]:
    """The members these customers already are, by customer id, in one query."""
    if not customer_ids:
        return {}
    table = Member.__table__
    return {cid: MemberRef(mid, tier, group == CONTROL and released is None)
            for mid, cid, tier, group, released in session.execute(
                select(table.c.id, table.c.customer_id, table.c.tier, table.c.holdout_group,
                       table.c.holdout_released_at).where(
                    table.c.shop_id == shop.id, table.c.customer_id.in_(customer_ids)))}


def _guest_refs(session: Session, shop: Shop, emails: set[str]) -> dict[str, MemberRef]:
    """The oldest guest member with each email (as `enrol` finds one), in one query."""
    if not emails:
        return {}
    table = Member.__table__
    found: dict[str, MemberRef] = {}
    for member_id, email, tier in session.execute(
            select(table.c.id, table.c.email, table.c.tier).where(
                table.c.shop_id == shop.id, table.c.customer_id.is_(None),
                table.c.email.in_(list(emails))).order_by(table.c.id)):
        found.setdefault(email, MemberRef(member_id, tier))
    return found


def _customer_members(session: Session, shop: Shop, orders: list[HistoricOrder],
                      now: datetime) -> dict[int, MemberRef]:
    """The members of the batch's customers, the new ones created in one batched INSERT.

    A customer whose email a guest member holds goes through `enrol`, which hands them the
    guest's history as a live order would; so does one whose new row collided (a referral
    code drawn twice, or a webhook that created the member meanwhile).
    """
    first: dict[int, HistoricOrder] = {}
    for order in orders:
        if order.customer_id is not None:
            first.setdefault(order.customer_id, order)
    if not first:
        return {}
    table = Member.__table__
    found = _customer_refs(session, shop, list(first))
    missing = [cid for cid in first if cid not in found]
    emails = {normalise_email(first[cid].shopper_email) for cid in missing} - {None}
    guests = set(session.execute(select(table.c.email).where(
        table.c.shop_id == shop.id, table.c.customer_id.is_(None),
        table.c.email.in_(list(emails)))).scalars()) if emails else set()
    rows, one_by_one = [], []
    for cid in missing:
        email = normalise_email(first[cid].shopper_email)
        if email is not None and email in guests:
            one_by_one.append(cid)
        else:
            rows.append(_new_member_row(shop, cid, email, first[cid], now))
    for member_id, cid, _email in _insert_members(session, rows):
        found[cid] = MemberRef(member_id, None)
    one_by_one += [row["customer_id"] for row in rows if row["customer_id"] not in found]
    for cid in one_by_one:
        order = first[cid]
        found[cid] = _ref(enrol(session, shop, now=now, customer_id=cid,
                                email=order.shopper_email, first_name=order.first_name,
                                last_name=order.last_name))
    return found


def _guest_members(session: Session, shop: Shop, orders: list[HistoricOrder],
                   now: datetime) -> dict[str, MemberRef]:
    """Guest checkouts' members by email (guests earn too, and a later account claims them):
    the oldest guest with the email, as `enrol` finds it, else a new one."""
    emails = {normalise_email(o.shopper_email) for o in orders if o.customer_id is None} - {None}
    if not emails:
        return {}
    found = _guest_refs(session, shop, emails)
    rows = [_new_member_row(shop, None, email, None, now)
            for email in sorted(emails) if email not in found]
    for member_id, _cid, email in _insert_members(session, rows):
        found[email] = MemberRef(member_id, None)
    for email in sorted(emails - set(found)):
        found[email] = _ref(enrol(session, shop, now=now, customer_id=None, email=email))
    return found


def _earns_nothing_in_store(order: HistoricOrder, settings: ProgramSettings) -> bool:
    """An in-store order while the merchant has POS earning off (app/loyalty/earning.py)."""
    return order.in_store and not settings.earning["pos_orders_earn"]


def _member_key(order: HistoricOrder) -> tuple[str, Any]:
    """Whose order it is: a customer by id, else a guest by email."""
    if order.customer_id is not None:
        return "customer", order.customer_id
    return "guest", normalise_email(order.shopper_email)


def _members_already(session: Session, shop: Shop, orders: list[HistoricOrder]
                     ) -> dict[tuple[str, Any], MemberRef]:
    """The members these orders' customers (or guest emails) already are, by member key."""
    customers = _customer_refs(session, shop, sorted(
        {o.customer_id for o in orders if o.customer_id is not None}))
    guests = _guest_refs(session, shop, {normalise_email(o.shopper_email)
                                         for o in orders if o.customer_id is None} - {None})
    return {**{("customer", cid): ref for cid, ref in customers.items()},
            **{("guest", email): ref for email, ref in guests.items()}}


def _in_store_owners(kept: list[HistoricOrder], settings: ProgramSettings,
                     known: dict[tuple[str, Any], MemberRef]) -> dict[int, tuple[str, Any]]:
    """The member key of each paid in-store order that earns nothing and is someone's: a
    member before this batch (`known`), or one an earlier online order of the batch makes
    (`kept` is in the file's order, oldest first). The others are nobody's."""
    joined: set[tuple[str, Any]] = set(known)
    owners: dict[int, tuple[str, Any]] = {}
    for order in kept:
        if not order.paid:
            continue
        key = _member_key(order)
        if not _earns_nothing_in_store(order, settings):
            joined.add(key)
        elif key in joined:
            owners[order.shopify_order_id] = key
    return owners


@dataclass
class BatchResult:
    """What one batch did."""

    recorded: int = 0
    skipped: int = 0
    points: int = 0


def _order_row(shop: Shop, order: HistoricOrder, member: MemberRef | None,
               settings: ProgramSettings, now: datetime) -> dict[str, Any]:
    eligible = order.amounts.eligible(settings.earning)
    return {
        "shop_id": shop.id, "shopify_order_id": order.shopify_order_id,
        "admin_graphql_id": order.admin_graphql_id,
        "member_id": member.id if member is not None else None, "name": order.name,
        "email": normalise_email(order.shopper_email), "currency": order.currency,
        "total_price": order.total_price, "eligible_amount": eligible,
        "refunded_amount": min(order.refunded, eligible),
        "status": PAID if order.paid else CANCELLED, "points_awarded": 0, "test": order.test,
        "taxes_included": order.amounts.taxes_included, "placed_at": order.created_at,
        "paid_at": (order.processed_at or order.created_at) if order.paid else None,
        "cancelled_at": order.cancelled_at, "shopify_updated_at": order.updated_at,
        "created_at": now,
    }


def apply_batch(session: Session, shop: Shop, backfill: Backfill, orders: list[HistoricOrder],
                settings: ProgramSettings, now: datetime) -> BatchResult:
    """Record a batch of past orders (new ones only), with points when the run gives them.

    Orders never paid, or placed so recently that their webhook answers them, are skipped.
    """
    result = BatchResult()
    recent = backfill.created_at - LIVE_MARGIN
    kept = []
    for order in orders:
        if ((not order.paid and order.cancelled_at is None)
                or (order.created_at is not None and order.created_at >= recent)):
            result.skipped += 1
        else:
            kept.append(order)
    if not kept:
        return result
    customers: dict[int, MemberRef] = {}
    guests: dict[str, MemberRef] = {}
    known: dict[tuple[str, Any], MemberRef] = {}
    owners: dict[int, tuple[str, Any]] = {}
    if backfill.mode != "none":
        paid = [o for o in kept if o.paid]
        in_store = [o for o in paid if _earns_nothing_in_store(o, settings)]
        # Read before this batch makes anyone a member: who already was one.
        known = _members_already(session, shop, in_store) if in_store else {}
        owners = _in_store_owners(kept, settings, known) if in_store else {}
        enrolling = [o for o in paid if not _earns_nothing_in_store(o, settings)]
        customers = _customer_members(session, shop, enrolling, now)
        guests = _guest_members(session, shop, enrolling, now)

    def member_by_key(key: tuple[str, Any]) -> MemberRef | None:
        if key in known:
            return known[key]
        kind, value = key
        return customers.get(value) if kind == "customer" else guests.get(value or "")

    def member_of(order: HistoricOrder) -> MemberRef | None:
        if not order.paid:
            return None
        if _earns_nothing_in_store(order, settings):
            owner = owners.get(order.shopify_order_id)
            return member_by_key(owner) if owner is not None else None
        return member_by_key(_member_key(order))

    rows = {o.shopify_order_id: _order_row(shop, o, member_of(o), settings, now) for o in kept}
    orders_table = Order.__table__
    inserted = {number: order_id for order_id, number in insert_rows(
        session, orders_table, list(rows.values()), skip_conflicts=True,
        conflict_columns=["shop_id", "shopify_order_id"],
        returning=(orders_table.c.id, orders_table.c.shopify_order_id))}
    result.recorded = len(inserted)
    # Past days gain sales (and points): the dashboard reads them live until the next round.
    mark_stale(session, shop.id, min((rows[n]["paid_at"] for n in inserted
                                      if rows[n]["paid_at"] is not None), default=None))
    result.skipped += len(kept) - len(inserted)
    if backfill.mode == "points":
        fresh = [o for o in kept if o.shopify_order_id in inserted]
        result.points = _award_points(session, backfill, fresh, member_of, rows, inserted,
                                      settings, now)
    return result


def _award_points(session: Session, backfill: Backfill, orders: list[HistoricOrder],
                  member_of: Any, rows: dict[int, dict[str, Any]], inserted: dict[int, int],
                  settings: ProgramSettings, now: datetime) -> int:
    """Earn entries for the paid orders of the last `points_days` days, at today's rate and
    the multiplier of the tier the member had when the order was paid (`_tiers_when_paid`),
    pending for the shop's pending period from payment."""
    since = now - timedelta(days=backfill.points_days)
    test_orders_earn = bool(settings.earning["test_orders_earn"])
    earning = []
    for order in orders:
        row, member = rows[order.shopify_order_id], member_of(order)
        if (member is None or member.held_out or row["paid_at"] is None
                or row["paid_at"] < since
                or (order.test and not test_orders_earn)
                or _earns_nothing_in_store(order, settings)):
            continue
        earning.append((order, row, member))
    tiers = _tiers_when_paid(session, backfill.shop_id, settings,
                             [(member, row["paid_at"], inserted[order.shopify_order_id])
                              for order, row, member in earning])
    entries = []
    for order, row, member in earning:
        multiplier = tiers[inserted[order.shopify_order_id]].multiplier
        net = row["eligible_amount"] - row["refunded_amount"]
        points = points_for(net, settings.points_per_unit, multiplier)
        if points <= 0:
            continue
        entries.append({
            "shop_id": backfill.shop_id, "member_id": member.id, "points": points,
            "kind": "earn_order", "source_key": earn_source_key(order.shopify_order_id),
            "available_at": row["paid_at"] + timedelta(days=settings.pending_days),
            "order_id": order.shopify_order_id, "rate": settings.points_per_unit,
            "multiplier": multiplier, "amount": net, "shortfall": 0, "actor": None,
            "note": f"Order {order.name or order.shopify_order_id} (order history)",
            "created_at": now})
    if not entries:
        return 0
    ledger = LedgerEntry.__table__
    posted = insert_rows(session, ledger, entries, skip_conflicts=True,
                         conflict_columns=["shop_id", "source_key"],
                         returning=(ledger.c.member_id, ledger.c.order_id, ledger.c.points,
                                    ledger.c.available_at))
    if not posted:
        return 0
    orders_table = Order.__table__
    update_rows(session, orders_table,
                [{"row_id": inserted[order_id], "points": points}
                 for _member, order_id, points, _at in posted],
                {"row_id": BigInteger(), "points": Integer()},
                lambda given: {"points_awarded": given.points})
    _add_to_balances(session, posted, rows, now)
    return sum(points for _member, _order, points, _at in posted)


def _tiers_when_paid(session: Session, shop_id: int, settings: ProgramSettings,
                     earning: list[tuple[MemberRef, datetime, int]]) -> dict[int, Tier]:
    """The tier each (member, paid_at, order row id) earns at: the one the member's spend of
    the 12 months before that payment reaches, as far as the orders we hold tell it.

    The file lists orders oldest first (`sortKey: CREATED_AT`) and each batch's rows are
    written before its points, so every earlier order of the window is recorded by now, with
    the orders live webhooks recorded. What we cannot know is left out: orders older than the
    window, refunds dated after the order (a refund counts against the order's spend from
    its start), and a tier kept through its retention period after the spend fell. A shop
    whose tiers follow lifetime points earns at each member's tier of today, since the points
    a member held on a past day are not replayable from the orders.
    """
    if not earning:
        return {}
    if settings.tier_basis != "spend_12m":
        return {row_id: tier_named(settings, member.tier) or settings.tiers[0]
                for member, _paid_at, row_id in earning}
    net = Order.eligible_amount - Order.refunded_amount
    earliest = min(paid_at for _member, paid_at, _row in earning) - ROLLING_WINDOW
    history: dict[int, list[tuple[datetime, Decimal]]] = defaultdict(list)
    for member_id, paid_at, amount in session.execute(
            select(Order.member_id, Order.paid_at, case((net > 0, net), else_=0))
            .where(Order.shop_id == shop_id,
                   Order.member_id.in_({member.id for member, _at, _row in earning}),
                   Order.paid_at > earliest, *counted_order_filter(settings))
            .order_by(Order.member_id, Order.paid_at)):
        history[member_id].append((paid_at, Decimal(str(amount or 0))))
    tiers = {}
    for member, paid_at, row_id in earning:
        spend = sum((amount for at, amount in history[member.id]
                     if paid_at - ROLLING_WINDOW < at < paid_at), Decimal(0))
        tiers[row_id] = qualifying_tier(settings, spend)
    return tiers


def _add_to_balances(session: Session, posted: list[Any], rows: dict[int, dict[str, Any]],
                     now: datetime) -> None:
    """Add the batch's entries to their members' cached balances (as `ledger.post` would, in
    batched UPDATEs); the member's last activity is their latest order's payment."""
    sums: dict[int, dict[str, Any]] = defaultdict(lambda: {
        "pending": 0, "available": 0, "lifetime": 0, "unlock": None, "active": None})
    for member_id, order_id, points, available_at in posted:
        bucket = sums[member_id]
        bucket["pending" if available_at > now else "available"] += points
        bucket["lifetime"] += lifetime_change("earn_order", points, 0)
        if available_at > now and (bucket["unlock"] is None or available_at < bucket["unlock"]):
            bucket["unlock"] = available_at
        paid_at = rows[order_id]["paid_at"]
        if bucket["active"] is None or paid_at > bucket["active"]:
            bucket["active"] = paid_at
    table = Member.__table__

    def balances(given: Any) -> dict[str, Any]:
        return {
            "points_pending": table.c.points_pending + given.pending,
            "points_available": table.c.points_available + given.available,
            "points_lifetime": table.c.points_lifetime + given.lifetime,
            "last_activity_at": case((table.c.last_activity_at.is_(None), given.active),
                                     (table.c.last_activity_at < given.active, given.active),
                                     else_=table.c.last_activity_at),
            # The earliest moment a pending lot unlocks; a batch of available lots only
            # leaves it as it was.
            "next_unlock_at": case((given.unlock.is_(None), table.c.next_unlock_at),
                                   (table.c.next_unlock_at.is_(None), given.unlock),
                                   (table.c.next_unlock_at > given.unlock, given.unlock),
                                   else_=table.c.next_unlock_at),
        }

    update_rows(session, table,
                [{"row_id": member_id, "pending": b["pending"], "available": b["available"],
                  "lifetime": b["lifetime"], "active": b["active"], "unlock": b["unlock"]}
                 for member_id, b in sums.items()],
                {"row_id": BigInteger(), "pending": Integer(), "available": Integer(),
                 "lifetime": Integer(), "active": DateTime(), "unlock": DateTime()},
                balances)


def record_batch(backfill: Backfill, result: BatchResult, last_line: int) -> None:
    """Move the run's cursor past a committed batch (in the batch's own transaction)."""
    backfill.lines_applied = last_line
    backfill.orders_recorded += result.recorded
    backfill.orders_skipped += result.skipped
    backfill.points_awarded += result.points


def set_tiers_from_spend(session: Session, shop: Shop, settings: ProgramSettings,
                         now: datetime) -> int:
    """Every member's tier from their rolling 12-month spend, in one query and batched
    writes; a member moving down goes through `evaluate_tier`, which keeps a tier through its
    retention period. Returns how many members changed tier."""
    if settings.tier_basis != "spend_12m":
        return len(reevaluate_shop_tiers(session, shop, settings, now, reason=TIER_REASON))
    net = Order.eligible_amount - Order.refunded_amount
    spend = dict(session.execute(
        select(Order.member_id, func.sum(case((net > 0, net), else_=0)))
        .where(Order.shop_id == shop.id, Order.member_id.is_not(None),
               Order.paid_at > now - ROLLING_WINDOW, *counted_order_filter(settings))
        .group_by(Order.member_id)).all())
    table = Member.__table__
    moves, downgrades = [], []
    for member_id, tier in session.execute(select(table.c.id, table.c.tier).where(
            table.c.shop_id == shop.id)):
        target = qualifying_tier(settings, Decimal(str(spend.get(member_id) or 0)))
        current = tier_named(settings, tier)
        if current is not None and current.name == target.name:
            continue
        if current is not None and current.threshold > target.threshold:
            downgrades.append(member_id)
        else:
            moves.append({"row_id": member_id, "from_tier": tier, "to_tier": target.name})
    if moves:
        update_rows(session, table, moves,
                    {"row_id": BigInteger(), "from_tier": String(), "to_tier": String()},
                    lambda given: {"tier": given.to_tier, "tier_since": now})
        insert_rows(session, TierChange.__table__, [
            {"shop_id": shop.id, "member_id": m["row_id"], "from_tier": m["from_tier"],
             "to_tier": m["to_tier"], "reason": TIER_REASON, "created_at": now}
            for m in moves])
    changed = len(moves)
    for member_id in downgrades:
        member = session.get(Member, member_id)
        value = Decimal(str(spend.get(member_id) or 0))
        if evaluate_tier(session, member, settings, now, TIER_REASON, value=value) is not None:
            changed += 1
    return changed


def finish_backfill(session: Session, shop: Shop, backfill: Backfill,
                    settings: ProgramSettings, now: datetime) -> None:
    """Set every member's tier from the spend now recorded, and close the run."""
    if backfill.mode != "none":
        backfill.tier_changes = set_tiers_from_spend(session, shop, settings, now)
    backfill.status = "completed"
    backfill.finished_at = now
