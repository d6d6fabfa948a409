"""The holdout comparison's daily roll-up: per shop, UTC day of assignment and group, the
customers assigned and what they did each day after (app/models/rollup.py).

A customer's orders (paid, not test; total less refunds) and, in the program group, ledger
entries are placed at their offset: whole days from the assignment, -1 for the day before
(the order that assigned them is applied after its payment). Any follow-up period of N days
(effect.repeat_days, 7 to 730) is then the offsets below N, so the effect page sums rows
instead of reading every customer. Squares are kept as increments per offset, so the spread
Welch's interval needs comes from sums as well: var = (Σx² - n·mean²) / (n - 1).

The daily round recomputes the offsets the days since its last run can have changed (at least
the last RECOMPUTE_DAYS), and every day of assignment whose older offsets something changed
since, however old: an order recorded late, refunded or cancelled, or a customer count that no
longer matches (a customer redacted). So work follows what happened, not the shop's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from app.loyalty.holdout import PROGRAM
from app.models import HoldoutDay, HoldoutDayOffset, LedgerEntry, Member, Order, OrderRefund

DAY = timedelta(days=1)
# The longest follow-up period a merchant may choose (app/loyalty/program.py).
LONGEST_FOLLOW_UP = 730
# Offsets reached in the last days are recomputed every round, whatever changed.
RECOMPUTE_DAYS = 3
# Ledger kinds that give points for something other than an order.
BONUS_KINDS = ("bonus_signup", "bonus_birthday", "bonus_review", "bonus_nps",
               "referral_referrer", "referral_referee")
REVERSAL_KINDS = ("refund_reversal", "cancel_reversal")
_CHUNK = 5_000


@dataclass
class Sums:
    """Sums over customers of one group (and, in a row, one offset)."""

    customers: int = 0
    repeaters: int = 0
    orders: int = 0
    orders_squares: int = 0
    revenue: Decimal = Decimal(0)
    revenue_squares: Decimal = Decimal(0)
    order_value_squares: Decimal = Decimal(0)
    points_issued: int = 0
    bonus_points: int = 0
    points_redeemed: int = 0
    points_taken_back: int = 0
    points_expired: int = 0

    def add(self, other: Sums, sign: int = 1) -> None:
        """Add another's sums to these (take them away with `sign` -1)."""
        for name in _FIELDS:
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))


_FIELDS = tuple(f.name for f in fields(Sums))
# The columns a row of offsets sums (every field but customers).
OFFSET_FIELDS = _FIELDS[1:]


# A paid order (paid at, total less refunds, recorded at) and a ledger entry (created at,
# kind, points).
PaidOrder = tuple[datetime, Decimal, datetime]
Entry = tuple[datetime, str, int]


def customer_offsets(group: str, assigned_at: datetime,
                     orders: Iterable[tuple[datetime, Decimal]],
                     entries: Iterable[Entry], period: int | None = None) -> dict[int, Sums]:
    """One customer's orders (paid at, total less refunds) and ledger entries (created at,
    kind, points) by offset, within the longest follow-up period; with `period`, only the
    offsets below it, all summed as offset 0."""
    per: dict[int, Sums] = defaultdict(Sums)
    first = assigned_at - DAY
    last = assigned_at + (LONGEST_FOLLOW_UP if period is None else period) * DAY

    def place(moment: datetime) -> int:
        return 0 if period is not None else (moment - assigned_at) // DAY

    placed = sorted((place(paid_at), value) for paid_at, value in orders
                    if first <= paid_at < last)
    count, total = 0, Decimal(0)
    for offset, value in placed:
        sums = per[offset]
        sums.orders += 1
        sums.orders_squares += 2 * count + 1
        sums.revenue += value
        sums.revenue_squares += value * (2 * total + value)
        sums.order_value_squares += value * value
        count, total = count + 1, total + value
        sums.repeaters += count == 2
    if group != PROGRAM:
        return per
    for created_at, kind, points in entries:
        if not first <= created_at < last:
            continue
        sums = per[place(created_at)]
        if kind in ("redeem", "redeem_refund"):
            sums.points_redeemed -= points
        elif kind == "expire":
            sums.points_expired -= points
        elif kind in REVERSAL_KINDS or points < 0:
            sums.points_taken_back -= points
        else:
            sums.points_issued += points
            sums.bonus_points += points if kind in BONUS_KINDS else 0
    return per


@dataclass(frozen=True)
class Assigned:
    """A customer in the comparison: their group and when they were assigned."""

    member_id: int
    group: str
    at: datetime


def activity(session: Session, shop_id: int, members: list[Assigned],
             entries_since: datetime | None = None
             ) -> Iterator[tuple[Assigned, dict[int, Sums]]]:
    """Each customer with their offsets, reading their orders and entries in chunks (only
    the entries written from `entries_since` when given: points add up per offset, so older
    ones change nothing in the offsets after it, unlike orders, whose squares do)."""
    for assigned, (orders, entries) in _histories(session, shop_id, members, entries_since):
        yield assigned, customer_offsets(assigned.group, assigned.at,
                                         ((paid, value) for paid, value, _ in orders), entries)


def assigned_between(session: Session, shop_id: int, first: datetime, end: datetime
                     ) -> list[Assigned]:
    """The customers assigned in [first, end)."""
    return _assigned(session, *_assigned_in(shop_id, first, end))


def _assigned(session: Session, *conditions: Any) -> list[Assigned]:
    """The customers the conditions on members pick."""
    return [Assigned(*row) for row in session.execute(
        select(Member.id, Member.holdout_group, Member.holdout_assigned_at).where(*conditions))]


def _assigned_in(shop_id: int, first: datetime, end: datetime) -> tuple[Any, ...]:
    """The conditions on members assigned in [first, end)."""
    return (Member.shop_id == shop_id, Member.holdout_group.is_not(None),
            Member.holdout_assigned_at >= first, Member.holdout_assigned_at < end)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _as_date(value: date | str) -> date:
    """A SQL date(): a date on PostgreSQL, text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _day_counts(session: Session, shop_id: int) -> dict[tuple[date, str], int]:
    """Customers assigned per UTC day and group, from the members themselves."""
    rows = session.execute(
        select(func.date(Member.holdout_assigned_at), Member.holdout_group, func.count())
        .where(Member.shop_id == shop_id, Member.holdout_group.is_not(None),
               Member.holdout_assigned_at.is_not(None))
        .group_by(func.date(Member.holdout_assigned_at), Member.holdout_group))
    return {(_as_date(day), group): count for day, group, count in rows}


def _changed_days(session: Session, shop_id: int, since: datetime) -> set[date]:
    """Days of assignment with an order paid before `since` that was recorded, refunded or
    cancelled since: their offsets before `since` changed."""
    refunded = select(OrderRefund.shopify_order_id).where(
        OrderRefund.shop_id == shop_id, OrderRefund.created_at >= since)
    rows = session.execute(
        select(Member.holdout_assigned_at).join(Order, Order.member_id == Member.id).where(
            Member.shop_id == shop_id, Member.holdout_group.is_not(None),
            Order.shop_id == shop_id, Order.paid_at < since,
            or_(Order.created_at >= since, Order.cancelled_at >= since,
                Order.shopify_order_id.in_(refunded))).distinct())
    return {at.date() for (at,) in rows}


def _active_since(session: Session, shop_id: int, since: datetime) -> set[int]:
    """Customers with an order paid or an entry written since `since`, assigned recently
    enough for it to fall in their longest follow-up period."""
    recent = Member.holdout_assigned_at >= since - (LONGEST_FOLLOW_UP + 1) * DAY
    ids = set(session.scalars(
        select(Order.member_id).join(Member, Member.id == Order.member_id).where(
            Order.shop_id == shop_id, Order.paid_at >= since, Member.shop_id == shop_id,
            Member.holdout_group.is_not(None), recent).distinct()))
    ids |= set(session.scalars(
        select(LedgerEntry.member_id).join(Member, Member.id == LedgerEntry.member_id).where(
            LedgerEntry.shop_id == shop_id, LedgerEntry.created_at >= since,
            Member.holdout_group == PROGRAM, recent).distinct()))
    return ids


def _day_ranges(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) ranges."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] + DAY == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def refresh_holdout_days(session: Session, shop_id: int, now: datetime,
                         through: datetime | None) -> int:
    """Bring the shop's rows up to `now`; `through` is how far they reached before (None:
    rebuild them all). Returns how many offset rows were written."""
    live = _day_counts(session, shop_id)
    stored = {(day, group): customers for day, group, customers in session.execute(
        select(HoldoutDay.day, HoldoutDay.holdout_group, HoldoutDay.customers)
        .where(HoldoutDay.shop_id == shop_id))}
    if through is None:
        since = None
        whole_days = {day for day, _ in live}
        session.execute(delete(HoldoutDayOffset).where(HoldoutDayOffset.shop_id == shop_id))
    else:
        since = _midnight(min(now.date() - timedelta(days=RECOMPUTE_DAYS),
                              through.date() - DAY))
        whole_days = {key[0] for key in live.keys() | stored.keys()
                      if live.get(key) != stored.get(key)}
        whole_days |= _changed_days(session, shop_id, since)
        session.execute(delete(HoldoutDayOffset).where(
            HoldoutDayOffset.shop_id == shop_id, HoldoutDayOffset.reached_day >= since.date()))
        for first, last in _day_ranges(whole_days):
            session.execute(delete(HoldoutDayOffset).where(
                HoldoutDayOffset.shop_id == shop_id, HoldoutDayOffset.day >= first,
                HoldoutDayOffset.day <= last))
    session.execute(delete(HoldoutDay).where(HoldoutDay.shop_id == shop_id))
    if live:
        session.execute(insert(HoldoutDay), [
            {"shop_id": shop_id, "day": day, "holdout_group": group, "customers": customers}
            for (day, group), customers in sorted(live.items())])
    rows: dict[tuple[date, str, int], Sums] = defaultdict(Sums)

    def add(members: list[Assigned], reached_from: datetime | None) -> None:
        for assigned, offsets in activity(session, shop_id, members, reached_from):
            day = assigned.at.date()
            for offset, sums in offsets.items():
                if reached_from is None or day + offset * DAY >= reached_from.date():
                    rows[(day, assigned.group, offset)].add(sums)

    for first, last in _day_ranges(whole_days):
        add(assigned_between(session, shop_id, _midnight(first), _midnight(last + DAY)), None)
    if since is not None:
        active = _active_since(session, shop_id, since)
        ids = sorted(active)
        members = [m for start in range(0, len(ids), _CHUNK)
                   for m in _assigned(session, Member.id.in_(ids[start:start + _CHUNK]))]
        add([m for m in members if m.at.date() not in whole_days], since)
    values = [{"shop_id": shop_id, "day": day, "holdout_group": group, "offset_days": offset,
               "reached_day": day + offset * DAY,
               **{name: getattr(sums, name) for name in OFFSET_FIELDS}}
              for (day, group, offset), sums in sorted(rows.items())]
    for start in range(0, len(values), _CHUNK):
        session.execute(insert(HoldoutDayOffset), values[start:start + _CHUNK])
    return len(values)


def rolled_up_sums(session: Session, shop_id: int, first: date, last: date,
                   repeat_days: int) -> dict[str, Sums]:
    """Per group, the customers assigned on days first..last and their sums over offsets
    below `repeat_days`."""
    groups: dict[str, Sums] = defaultdict(Sums)
    for group, customers in session.execute(
            select(HoldoutDay.holdout_group, func.sum(HoldoutDay.customers)).where(
                HoldoutDay.shop_id == shop_id, HoldoutDay.day >= first, HoldoutDay.day <= last)
            .group_by(HoldoutDay.holdout_group)):
        groups[group].customers = int(customers or 0)
    columns = [func.sum(getattr(HoldoutDayOffset, name)) for name in OFFSET_FIELDS]
    for group, *totals in session.execute(
            select(HoldoutDayOffset.holdout_group, *columns).where(
                HoldoutDayOffset.shop_id == shop_id, HoldoutDayOffset.day >= first,
                HoldoutDayOffset.day <= last, HoldoutDayOffset.offset_days < repeat_days)
            .group_by(HoldoutDayOffset.holdout_group)):
        sums = groups[group]
        for name, total in zip(OFFSET_FIELDS, totals, strict=True):
            kind = type(getattr(sums, name))
            setattr(sums, name, kind(total or 0) if kind is int else Decimal(total or 0))
    return groups


def live_sums(session: Session, shop_id: int, first: datetime, end: datetime,
              repeat_days: int, now: datetime) -> tuple[dict[str, Sums], int]:
    """Per group, the customers assigned in [first, end) whose period is over, read from
    their rows; and how many assigned there are still in their period (counted only)."""
    groups: dict[str, Sums] = defaultdict(Sums)
    # Over when assigned_at + period <= now; timestamps are kept to the microsecond.
    still_in_period = now - repeat_days * DAY + timedelta(microseconds=1)
    for customer, (orders, entries) in _histories_assigned(session, shop_id, first,
                                                           min(end, still_in_period)):
        sums = groups[customer.group]
        sums.customers += 1
        if orders or entries:
            sums.add(_period_sums(customer, orders, entries, repeat_days))
    # The assignment time is written with the group, so the index alone counts them.
    waiting = session.execute(select(func.count()).select_from(Member).where(
        Member.shop_id == shop_id, Member.holdout_assigned_at >= max(first, still_in_period),
        Member.holdout_assigned_at < end)).scalar_one() if still_in_period < end else 0
    return groups, waiting


def changes_since(session: Session, shop_id: int, first: datetime, end: datetime,
                  through: datetime, repeat_days: int) -> dict[str, Sums]:
    """Per group, what the roll-up's round at `through` has not counted yet for the customers
    assigned in [first, end): for each one with an order recorded or paid since, or an entry
    written since, their first `repeat_days` days now less as the round counted them (the
    orders recorded and paid by then, the entries written by then). Refunds and
    cancellations since the round are counted by the next one."""
    changes: dict[str, Sums] = defaultdict(Sums)
    in_band = _assigned_in(shop_id, first, end)
    active = set(session.scalars(select(Order.member_id).where(
        Order.shop_id == shop_id, Order.member_id.in_(select(Member.id).where(*in_band)),
        or_(Order.created_at > through, Order.paid_at > through)).distinct()))
    active |= set(session.scalars(select(LedgerEntry.member_id).where(
        LedgerEntry.member_id.in_(select(Member.id).where(*in_band,
                                                          Member.holdout_group == PROGRAM)),
        LedgerEntry.created_at > through).distinct()))
    if not active:
        return changes
    members = _assigned(session, *in_band, Member.id.in_(sorted(active)))
    for assigned, (orders, entries) in _histories(session, shop_id, members):
        sums = changes[assigned.group]
        sums.add(_period_sums(assigned, orders, entries, repeat_days))
        # As the round counted them: orders recorded and paid by then, entries written by then.
        seen = [(paid, value, recorded) for paid, value, recorded in orders
                if paid <= through and recorded <= through]
        written = [(created, kind, points) for created, kind, points in entries
                   if created <= through]
        sums.add(_period_sums(assigned, seen, written, repeat_days), -1)
    return changes


def _period_sums(assigned: Assigned, orders: list[PaidOrder], entries: list[Entry],
                 repeat_days: int) -> Sums:
    """One customer's sums over their first `repeat_days` days."""
    period = customer_offsets(assigned.group, assigned.at,
                              ((paid, value) for paid, value, _ in orders), entries,
                              repeat_days)
    return period.get(0, Sums())


def _histories(session: Session, shop_id: int, members: list[Assigned],
               entries_since: datetime | None = None
               ) -> Iterator[tuple[Assigned, tuple[list[PaidOrder], list[Entry]]]]:
    """Each customer's paid orders (paid at, total less refunds, recorded at) and, in the
    program group, ledger entries (created at, kind, points; from `entries_since` when
    given), read in chunks."""
    for start in range(0, len(members), _CHUNK):
        chunk = {m.member_id: m for m in members[start:start + _CHUNK]}
        program = [m for m, a in chunk.items() if a.group == PROGRAM]
        yield from _read_histories(session, shop_id, chunk, Order.member_id.in_(list(chunk)),
                                   LedgerEntry.member_id.in_(program) if program else None,
                                   entries_since)


def _histories_assigned(session: Session, shop_id: int, first: datetime, end: datetime
                        ) -> Iterator[tuple[Assigned, tuple[list[PaidOrder], list[Entry]]]]:
    """The same for the customers assigned in [first, end), a week of them at a time, found
    by a subquery instead of a list of ids (thousands of parameters cost more to send and
    parse than the rows they find)."""
    start = first
    while start < end:
        upto = min(end, start + 7 * DAY)
        in_range = _assigned_in(shop_id, start, upto)
        chunk = {m.member_id: m for m in assigned_between(session, shop_id, start, upto)}
        if chunk:
            yield from _read_histories(
                session, shop_id, chunk, Order.member_id.in_(select(Member.id).where(*in_range)),
                LedgerEntry.member_id.in_(select(Member.id).where(
                    *in_range, Member.holdout_group == PROGRAM)), None)
        start = upto


def _read_histories(session: Session, shop_id: int, chunk: dict[int, Assigned],
                    whose_orders: Any, whose_entries: Any, entries_since: datetime | None
                    ) -> Iterator[tuple[Assigned, tuple[list[PaidOrder], list[Entry]]]]:
    """The chunk's customers with their orders and entries, read as plain rows."""
    session.flush()
    connection = session.connection()
    orders: dict[int, list[PaidOrder]] = defaultdict(list)
    for member_id, paid_at, total, refunded, recorded in connection.execute(
            select(Order.member_id, Order.paid_at, Order.total_price, Order.refunded_amount,
                   Order.created_at)
            .where(Order.shop_id == shop_id, whose_orders, Order.status == "paid",
                   Order.test.is_(False), Order.paid_at.is_not(None))):
        orders[member_id].append((paid_at, (total or Decimal(0)) - (refunded or 0), recorded))
    entries: dict[int, list[Entry]] = defaultdict(list)
    if whose_entries is not None:
        query = select(LedgerEntry.member_id, LedgerEntry.kind, LedgerEntry.points,
                       LedgerEntry.created_at).where(whose_entries)
        if entries_since is not None:
            query = query.where(LedgerEntry.created_at >= entries_since)
        for member_id, kind, points, created_at in connection.execute(query):
            entries[member_id].append((created_at, kind, points))
    for member_id, assigned in chunk.items():
        yield assigned, (orders.get(member_id, []), entries.get(member_id, []))
