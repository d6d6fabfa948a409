"""Who each imported row is here: a member matched by Shopify customer id, else by email, or
a member to create; and whether the row's referral code is free.

One look-up per question for a whole chunk of rows, never one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.importing.bulk import one_of
from app.loyalty.importing.rows import KEEPABLE_CODE, ImportRow
from app.models import ImportedRow, Member


@dataclass
class ChunkPlan:
    """What applying these rows would do."""

    # Rows whose source key was imported before: nothing to do.
    already: set[int] = field(default_factory=set)
    # line → the member the row is for (None: a new member).
    members: dict[int, Member | None] = field(default_factory=dict)
    # line → why the row's own referral code cannot be kept (it gets a new one).
    code_notes: dict[int, str] = field(default_factory=dict)
    # line → why the row is refused: another row of the chunk is for the same member.
    refused: dict[int, str] = field(default_factory=dict)


def keepable_code(row: ImportRow) -> str | None:
    """The row's referral code as we store codes (upper case: codes are compared so), when
    it is one we can keep at all."""
    code = (row.referral_code or "").strip()
    return code.upper() if code and KEEPABLE_CODE.match(code) else None


def plan_chunk(session: Session, shop_id: int, rows: Sequence[ImportRow], *,
               lock: bool = False) -> ChunkPlan:
    """Look up the chunk's rows against the shop's members and earlier imports.

    `lock`: take the matched members' rows FOR UPDATE (PostgreSQL), as the import updates
    their balances from the values read here.
    """
    plan = ChunkPlan()
    if not rows:
        return plan
    done = set(session.execute(select(ImportedRow.source_key).where(
        ImportedRow.shop_id == shop_id,
        one_of(session, ImportedRow.source_key, [r.key for r in rows]))).scalars())
    todo = [r for r in rows if r.key not in done]
    plan.already = {r.line for r in rows if r.key in done}
    customer_ids = [r.customer_id for r in todo if r.customer_id]
    emails = [r.email for r in todo if r.email]
    by_customer: dict[int, Member] = {}
    by_email: dict[str, Member] = {}
    # Two look-ups, not one with OR: each is an index probe per value.
    for column, values in ((Member.customer_id, customer_ids), (Member.email, emails)):
        if not values:
            continue
        statement = select(Member).where(Member.shop_id == shop_id,
                                         one_of(session, column, values))
        if lock:
            statement = statement.with_for_update()
        for member in session.execute(statement.order_by(Member.id)).scalars():
            if member.customer_id is not None:
                by_customer.setdefault(member.customer_id, member)
            if member.email is not None:
                by_email.setdefault(member.email, member)
    claimed: dict[int, int] = {}
    for row in todo:
        member = by_customer.get(row.customer_id) if row.customer_id else None
        if member is None and row.email:
            candidate = by_email.get(row.email)
            # An email match is the same person unless Shopify says it is another customer.
            if candidate is not None and (row.customer_id is None or candidate.customer_id
                                          in (None, row.customer_id)):
                member = candidate
        if member is not None and member.id in claimed:
            plan.refused[row.line] = (f"the same member as line {claimed[member.id]} "
                                      "(one matched by customer id, one by email)")
            continue
        if member is not None:
            claimed[member.id] = row.line
        plan.members[row.line] = member
    todo = [r for r in todo if r.line not in plan.refused]
    _plan_codes(session, shop_id, todo, plan)
    return plan


def _plan_codes(session: Session, shop_id: int, rows: Sequence[ImportRow],
                plan: ChunkPlan) -> None:
    wanted = {row.line: keepable_code(row) for row in rows}
    codes = [c for c in wanted.values() if c]
    holders = dict(session.execute(select(Member.referral_code, Member.id).where(
        Member.shop_id == shop_id, one_of(session, Member.referral_code, codes))).all()) \
        if codes else {}
    for row in rows:
        member = plan.members[row.line]
        code = wanted[row.line]
        if row.shared_code:
            plan.code_notes[row.line] = f"referral code {row.shared_code} was not kept"
        elif row.referral_code and code is None:
            plan.code_notes[row.line] = (f"referral code {row.referral_code[:64]!r} cannot be "
                                         "used in a link and was not kept")
        elif code and holders.get(code) not in (None, member.id if member else None):
            plan.code_notes[row.line] = (f"referral code {code} belongs to another member "
                                         "and was not kept")
