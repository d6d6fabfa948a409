"""A shop's program as CSV, streamed: members (the shape `loyaltyloop.py` imports) and the
full ledger. Rows are read in pages by id and written as they are read."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.bonuses import UNKNOWN_YEAR
from app.loyalty.importing.loyaltyloop import MEMBER_COLUMNS
from app.models import LedgerEntry, Member

PAGE = 2000
LEDGER_COLUMNS = ("entry_id", "customer_id", "email", "points", "kind", "status",
                  "created_at", "available_at", "order_id", "note", "source_key")


def _iso(moment: datetime | None) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z" if moment else ""


def _birthday(value: date | None) -> str:
    if value is None:
        return ""
    return f"{value:%m-%d}" if value.year == UNKNOWN_YEAR else value.isoformat()


def _csv_lines(header: tuple[str, ...], pages: Iterator[list[list]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    yield buffer.getvalue()
    for page in pages:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(page)
        yield buffer.getvalue()


def _formula_safe(text: str | None) -> str:
    """Text a spreadsheet will not run as a formula (=, +, -, @ first)."""
    text = text or ""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def member_rows(session_factory: Callable[[], Session], shop_id: int) -> Iterator[str]:
    """The members CSV, a page of rows per chunk of text."""

    def pages() -> Iterator[list[list]]:
        last = 0
        while True:
            with session_factory() as session:
                members = session.execute(select(Member).where(
                    Member.shop_id == shop_id, Member.id > last, Member.redacted_at.is_(None))
                    .order_by(Member.id).limit(PAGE)).scalars().all()
            if not members:
                return
            last = members[-1].id
            yield [[m.customer_id or "", m.email or "", _formula_safe(m.first_name),
                    _formula_safe(m.last_name), m.points_available, m.points_pending,
                    _iso(m.next_unlock_at) if m.points_pending else "", m.points_lifetime,
                    m.tier or "", _iso(m.tier_since), m.referral_code, _birthday(m.birthday),
                    _iso(m.last_activity_at), _iso(m.created_at)] for m in members]

    return _csv_lines(MEMBER_COLUMNS, pages())


def ledger_rows(session_factory: Callable[[], Session], shop_id: int,
                now: datetime) -> Iterator[str]:
    """Every ledger entry of the shop with its member's customer id and email."""

    def pages() -> Iterator[list[list]]:
        last = 0
        while True:
            with session_factory() as session:
                rows = session.execute(
                    select(LedgerEntry, Member.customer_id, Member.email)
                    .join(Member, Member.id == LedgerEntry.member_id)
                    .where(LedgerEntry.shop_id == shop_id, LedgerEntry.id > last)
                    .order_by(LedgerEntry.id).limit(PAGE)).all()
            if not rows:
                return
            last = rows[-1][0].id
            yield [[e.id, customer_id or "", email or "", e.points, e.kind,
                    "pending" if e.available_at > now else "available", _iso(e.created_at),
                    _iso(e.available_at), e.order_id or "", _formula_safe(e.note),
                    e.source_key] for e, customer_id, email in rows]

    return _csv_lines(LEDGER_COLUMNS, pages())
