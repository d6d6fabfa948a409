"""The program's daily round for one shop: unlock, expire, pay referrals, birthdays, tiers.

Every step is idempotent (source keys, statuses), so a round run twice, late or after a crash
changes nothing more than one on time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty import flow_triggers
from app.loyalty.bonuses import award_birthday
from app.loyalty.expiry import expire_inactive_points
from app.loyalty.ledger import release_unlocked
from app.loyalty.program import ProgramSettings, current_settings
from app.loyalty.referrals import pay_due_referrals
from app.loyalty.tiers import reevaluate_shop_tiers
from app.models import LedgerEntry, Member, Shop, TierChange


@dataclass
class DailyRound:
    """What one round did, and whose balances changed (their metafields need a sync)."""

    unlocked: int = 0
    expired: int = 0
    referrals_paid: int = 0
    birthdays: int = 0
    tier_changes: int = 0
    # Engagement messages the pipeline scheduled after the round (expiry and tier warnings,
    # birthdays, …).
    messages: int = 0
    # Days of the dashboard's roll-up the round (re)computed (app/loyalty/rollup.py).
    rollup_days: int = 0
    changed_member_ids: set[int] = field(default_factory=set)
    # What the follow-ups are decided from: the settings the round applied, its tier changes
    # and birthday bonuses (None while the program is a draft: nothing to follow up).
    settings: ProgramSettings | None = None
    tier_change_rows: list[TierChange] = field(default_factory=list)
    birthday_entries: list[LedgerEntry] = field(default_factory=list)


def run_daily_round(session: Session, shop: Shop, now: datetime) -> DailyRound:
    """Apply every time-driven rule of the shop as of `now`; nothing while it is a draft (no
    birthday bonus, no message: shoppers meet the program at its launch)."""
    done = DailyRound()
    if not shop.is_live:
        return done
    settings = done.settings = current_settings(session, shop.id)
    due = session.execute(select(Member).where(
        Member.shop_id == shop.id, Member.next_unlock_at <= now)).scalars()
    for member in due:
        if release_unlocked(session, member, now):
            done.unlocked += 1
            done.changed_member_ids.add(member.id)
    for entry in expire_inactive_points(session, shop, settings, now):
        done.expired += 1
        done.changed_member_ids.add(entry.member_id)
    flow_triggers.points_expiring_soon(session, shop, settings, now)
    for referral in pay_due_referrals(session, shop, settings, now):
        if referral.status == "rewarded":
            done.referrals_paid += 1
            done.changed_member_ids.add(referral.referrer_id)
    with_birthday = session.execute(select(Member).where(
        Member.shop_id == shop.id, Member.birthday.is_not(None))).scalars()
    birthday_entries = done.birthday_entries
    for member in with_birthday:
        entry = award_birthday(session, member, settings, now, shop.timezone)
        if entry is not None:
            birthday_entries.append(entry)
            done.birthdays += 1
            done.changed_member_ids.add(member.id)
    done.tier_change_rows = list(reevaluate_shop_tiers(session, shop, settings, now,
                                                       reason="daily"))
    for change in done.tier_change_rows:
        done.tier_changes += 1
        done.changed_member_ids.add(change.member_id)
    return done
