"""Applying one staged chunk: members created or matched, each balance one ledger entry.

Everything is written in bulk (one INSERT for the chunk's members, one for their ledger
entries, one for the tier changes, one for the imported rows, one UPDATE for the matched
members), and the cached balances move by exactly the entries written, as `ledger.post` would
move them. The chunk is one transaction with its resume point (see `runs.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.loyalty.importing.bulk import insert_rows, one_of
from app.loyalty.importing.matching import keepable_code, plan_chunk
from app.loyalty.importing.rows import ImportRow
from app.loyalty.members import referral_code_for
from app.loyalty.program import ProgramSettings
from app.models import ImportedRow, LedgerEntry, Member, TierChange

# Draws of fresh referral codes for a chunk before giving up (each draw checks the whole
# chunk's candidates in one query).
CODE_DRAWS = 20


@dataclass
class ChunkResult:
    """What one chunk did."""

    created: int = 0
    matched: int = 0
    already: int = 0
    notes: list[tuple[int, str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def tier_lookup(settings: ProgramSettings) -> dict[str, str]:
    """The program's tier names by their lower-case spelling (built once per chunk)."""
    return {tier.name.lower(): tier.name for tier in settings.tiers}


def program_tier(tiers: dict[str, str], name: str | None) -> str | None:
    """The program's tier of that name (any case), or None."""
    return tiers.get(name.strip().lower()) if name else None


def _fresh_codes(session: Session, shop_id: int, names: dict[int, str | None],
                 taken: set[str]) -> dict[int, str]:
    """A new, free referral code for each line, checked in one query per draw."""
    codes: dict[int, str] = {}
    todo = dict(names)
    for draw in range(CODE_DRAWS):
        if not todo:
            return codes
        candidates = {line: referral_code_for(name, 4 + draw // 5) for line, name in todo.items()}
        clash = set(session.execute(select(Member.referral_code).where(
            Member.shop_id == shop_id,
            one_of(session, Member.referral_code, list(candidates.values())))).scalars())
        for line, code in candidates.items():
            if code not in clash and code not in taken:
                codes[line] = code
                taken.add(code)
                del todo[line]
    raise RuntimeError("could not find free referral codes")


def _split(row: ImportRow, now: datetime, pending_until_default: datetime
           ) -> tuple[int, int, datetime]:
    """(available, pending, until): pending points whose date the source gave and that has
    passed are available now; others unlock on the source's date, else after the program's
    pending days."""
    if row.pending_until is not None and row.pending_until <= now:
        return row.points + row.pending_points, 0, row.pending_until
    return row.points, row.pending_points, row.pending_until or pending_until_default


def apply_rows(session: Session, shop_id: int, run_id: int, source_label: str,
               rows: Sequence[ImportRow], settings: ProgramSettings, now: datetime
               ) -> ChunkResult:
    """Import these rows; rows imported before (by source key) are left alone."""
    result = ChunkResult()
    plan = plan_chunk(session, shop_id, rows, lock=True)
    result.already = len(plan.already)
    result.refused = sorted(plan.refused.items())
    todo = [r for r in rows if r.line not in plan.already and r.line not in plan.refused]
    if not todo:
        return result
    # Codes: the row's own when it is free, else a new one (with a note).
    own = {r.line: keepable_code(r) for r in todo if r.line not in plan.code_notes}
    own = {line: code for line, code in own.items() if code}
    taken = set(own.values())
    # A matched member whose imported code cannot be kept keeps the code they have.
    need_new = {r.line: r.first_name for r in todo
                if plan.members[r.line] is None and r.line not in own}
    fresh = _fresh_codes(session, shop_id, need_new, taken)
    code_for = {**own, **fresh}
    pending_until_default = now + timedelta(days=settings.pending_days)
    tiers = tier_lookup(settings)

    member_rows: list[dict] = []
    new_rows: list[ImportRow] = []
    updates: list[dict] = []
    tier_changes: list[dict] = []
    entries: list[tuple[ImportRow, dict]] = []
    final_code: dict[int, str] = {}
    for row in todo:
        member = plan.members[row.line]
        activity = min(row.last_activity_at or now, now)
        available, pending, pending_until = _split(row, now, pending_until_default)
        tier = program_tier(tiers, row.tier)
        final_code[row.line] = code_for.get(row.line) or (member.referral_code if member
                                                          else "")
        if member is None:
            member_rows.append({
                "shop_id": shop_id, "customer_id": row.customer_id, "email": row.email,
                "first_name": row.first_name, "last_name": row.last_name,
                "referral_code": code_for[row.line], "birthday": row.birthday,
                "birthday_set_at": now if row.birthday else None,
                "tier": tier, "tier_since": now if tier else None,
                "points_available": available, "points_pending": pending,
                "points_lifetime": available + pending,
                "next_unlock_at": pending_until if pending else None,
                "accepts_marketing": False, "last_activity_at": activity,
                "created_at": min(row.enrolled_at or now, now)})
            new_rows.append(row)
            continue
        values: dict = {
            "id": member.id,
            "points_available": member.points_available + available,
            "points_pending": member.points_pending + pending,
            "points_lifetime": member.points_lifetime + available + pending,
            "last_activity_at": max(member.last_activity_at or activity, activity),
            "customer_id": member.customer_id or row.customer_id,
            "first_name": member.first_name or row.first_name,
            "last_name": member.last_name or row.last_name,
            "email": member.email or row.email,
            "referral_code": final_code[row.line],
            "tier": member.tier, "tier_since": member.tier_since,
            "birthday": member.birthday, "birthday_set_at": member.birthday_set_at,
            "next_unlock_at": member.next_unlock_at}
        if pending and (member.next_unlock_at is None or member.next_unlock_at > pending_until):
            values["next_unlock_at"] = pending_until
        if member.birthday is None and row.birthday is not None:
            values["birthday"], values["birthday_set_at"] = row.birthday, now
        if tier and tier != member.tier:
            values["tier"], values["tier_since"] = tier, now
            tier_changes.append({"shop_id": shop_id, "member_id": member.id,
                                 "from_tier": member.tier, "to_tier": tier,
                                 "reason": "import", "created_at": now})
        updates.append(values)
        entries.append((row, {"member_id": member.id}))
        result.matched += 1

    if member_rows:
        insert_rows(session, Member.__table__, member_rows)
        # Every new member's referral code is its own (drawn or kept above): its id by code.
        ids = dict(session.execute(select(Member.referral_code, Member.id).where(
            Member.shop_id == shop_id,
            one_of(session, Member.referral_code, [m["referral_code"] for m in member_rows]))
        ).all())
        for row, values in zip(new_rows, member_rows, strict=True):
            member_id = ids[values["referral_code"]]
            entries.append((row, {"member_id": member_id}))
            if values["tier"]:
                tier_changes.append({"shop_id": shop_id, "member_id": member_id,
                                     "from_tier": None, "to_tier": values["tier"],
                                     "reason": "import", "created_at": now})
        result.created = len(member_rows)
    if updates:
        members = Member.__table__
        columns = [name for name in updates[0] if name != "id"]
        session.execute(update(members).where(members.c.id == bindparam("member_id")).values(
            {name: bindparam(f"new_{name}") for name in columns}),
            [{"member_id": u["id"], **{f"new_{n}": u[n] for n in columns}} for u in updates])
    insert_rows(session, TierChange.__table__, tier_changes)

    ledger: list[dict] = []
    imported: list[dict] = []
    for row, ref in entries:
        member_id = ref["member_id"]
        activity = min(row.last_activity_at or now, now)
        note = f"Balance brought over from {source_label}"
        if row.points:
            ledger.append({"shop_id": shop_id, "member_id": member_id, "points": row.points,
                           "kind": "import", "source_key": f"import:{row.key}",
                           "available_at": activity, "created_at": activity,
                           "actor": f"import {run_id}", "note": note, "shortfall": 0})
        if row.pending_points:
            _, still_pending, until = _split(row, now, pending_until_default)
            ledger.append({"shop_id": shop_id, "member_id": member_id,
                           "points": row.pending_points, "kind": "import",
                           "source_key": f"import:{row.key}:pending",
                           "available_at": until if still_pending else row.pending_until,
                           "created_at": now, "actor": f"import {run_id}",
                           "note": f"Pending points brought over from {source_label}",
                           "shortfall": 0})
        code_note = plan.code_notes.get(row.line)
        if code_note:
            code_note = f"{code_note}: the member's code is {final_code[row.line]}"
            result.notes.append((row.line, code_note))
        imported.append({"shop_id": shop_id, "run_id": run_id, "source_key": row.key,
                         "line": row.line, "member_id": member_id,
                         "outcome": "matched" if plan.members[row.line] else "created",
                         "note": code_note})
    insert_rows(session, LedgerEntry.__table__, ledger)
    insert_rows(session, ImportedRow.__table__, imported)
    return result
