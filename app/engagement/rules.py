"""Governance at send time: opt-out, consent, quiet hours, the frequency cap and the budget.

`judge` is asked about one due message and answers with a Verdict: send, suppress (the
member or the shop's rules say no; the reason is recorded), cancel (the fact it was about is
no longer true) or defer (quiet hours; it goes at the end of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.engagement.flows import DETRACTOR_ALERT, FLOWS, flow_enabled
from app.loyalty.holdout import is_held_out
from app.loyalty.program import ProgramSettings
from app.models import LedgerEntry, Member, Message, Shop

# Ledger entries written by engagement offers carry this actor; the budget sums them.
OFFER_ACTOR = "engagement"


@dataclass(frozen=True)
class Verdict:
    """What to do with a due message now, and why when it is not `send`."""

    action: str  # send, suppress, cancel, defer
    reason: str | None = None
    until: datetime | None = None


SEND = Verdict("send")


def shop_zone(shop: Shop) -> ZoneInfo:
    """The shop's timezone, UTC when Shopify gave us one we do not know."""
    try:
        return ZoneInfo(shop.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(moment: datetime, shop: Shop) -> datetime:
    """A naive UTC moment as the shop's wall-clock time."""
    return moment.replace(tzinfo=UTC).astimezone(shop_zone(shop))


def to_utc(local: datetime) -> datetime:
    """An aware local moment as naive UTC (how the database stores time)."""
    return local.astimezone(UTC).replace(tzinfo=None)


def quiet_hours_end(now: datetime, shop: Shop, start: int, end: int) -> datetime | None:
    """When the shop's quiet hours end if `now` falls inside them, else None.

    Quiet hours run from `start` o'clock to `end` o'clock local time and may cross midnight
    (21 → 8); equal hours mean none.
    """
    if start == end:
        return None
    local = local_time(now, shop)
    hour = local.hour
    quiet = start <= hour < end if start < end else hour >= start or hour < end
    if not quiet:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    # Built from the wall clock, so a DST change between now and then is respected.
    return to_utc(datetime.combine(day, time(end), tzinfo=shop_zone(shop)))


def quiet_hours_note(shop: Shop, until: datetime, now: datetime) -> str:
    """Where and until when messages wait for quiet hours to end, for the operator:
    "in America/New_York until 08:00 local, 13:00 UTC" (the local date too when not today)."""
    zone = shop_zone(shop)
    local = local_time(until, shop)
    day = "" if local.date() == local_time(now, shop).date() else f"{local:%Y-%m-%d} "
    return f"in {zone.key} until {day}{local:%H:%M} local, {until:%H:%M} UTC"


def consent_reason(member: Member, kind: str, settings: ProgramSettings) -> str | None:
    """Why the member may not get this kind of message, or None when they may."""
    if member.redacted_at is not None:
        return "member_redacted"
    if not member.email:
        return "no_email"
    if member.unsubscribed_at is not None:
        return "unsubscribed"
    flow = FLOWS[kind]
    needs_consent = flow.promotional or settings.engagement["transactional_needs_consent"]
    if needs_consent and not member.accepts_marketing:
        return "no_marketing_consent"
    return None


def messages_sent_recently(session: Session, member_id: int, settings: ProgramSettings,
                           now: datetime) -> int:
    """How many emails the member was sent within the cap's window.

    Only emails count: the messages table also records the member's own referral shares.
    """
    days = int(settings.engagement["frequency_cap_days"])
    return session.execute(select(func.count(Message.id)).where(
        Message.member_id == member_id, Message.status == "sent", Message.channel == "email",
        Message.sent_at > now - timedelta(days=days))).scalar_one()


def over_frequency_cap(session: Session, member_id: int, settings: ProgramSettings,
                       now: datetime) -> bool:
    """Whether one more message would exceed the member's cap (0 means no cap)."""
    cap = int(settings.engagement["frequency_cap_messages"])
    return cap > 0 and messages_sent_recently(session, member_id, settings, now) >= cap


def shop_day_start(now: datetime, shop: Shop) -> datetime:
    """The start of the shop's local day containing `now`, as naive UTC."""
    local = local_time(now, shop)
    return to_utc(datetime.combine(local.date(), time(0), tzinfo=shop_zone(shop)))


def reward_cost_today(session: Session, shop: Shop, settings: ProgramSettings,
                      now: datetime) -> Decimal:
    """What engagement offers have cost the shop today (its local day), in its currency."""
    points = session.execute(select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.shop_id == shop.id, LedgerEntry.actor == OFFER_ACTOR,
        LedgerEntry.created_at >= shop_day_start(now, shop),
        LedgerEntry.created_at <= now)).scalar_one()
    return Decimal(int(points)) * settings.point_value


def within_budget(session: Session, shop: Shop, settings: ProgramSettings, points: int,
                  now: datetime) -> bool:
    """Whether an offer of `points` fits in what is left of today's reward budget."""
    budget = Decimal(str(settings.engagement["daily_reward_budget"]))
    cost = Decimal(points) * settings.point_value
    return reward_cost_today(session, shop, settings, now) + cost <= budget


def judge(session: Session, shop: Shop, settings: ProgramSettings, message: Message,
          member: Member | None, now: datetime, *, offer_points: int = 0) -> Verdict:
    """Decide about a due shopper message whose facts still hold (content.py checked those)."""
    if message.kind == DETRACTOR_ALERT:
        return SEND if shop.email else Verdict("suppress", "no_merchant_email")
    if not flow_enabled(settings, message.kind):
        return Verdict("suppress", "flow_disabled")
    if member is None:
        return Verdict("suppress", "member_gone")
    if is_held_out(member):
        return Verdict("suppress", "held_out")
    reason = consent_reason(member, message.kind, settings)
    if reason is not None:
        return Verdict("suppress", reason)
    flow = FLOWS[message.kind]
    if message.scheduled_at is not None and now - message.scheduled_at > flow.max_delay:
        return Verdict("cancel", "too_late")
    engagement = settings.engagement
    wake = quiet_hours_end(now, shop, int(engagement["quiet_hours_start"]),
                           int(engagement["quiet_hours_end"]))
    if wake is not None:
        return Verdict("defer", "quiet_hours", wake)
    # Transactional notices always go (they still count toward the cap): when the cap is
    # reached, it is the promotional messages that give way.
    if flow.promotional and over_frequency_cap(session, member.id, settings, now):
        return Verdict("suppress", "frequency_cap")
    if flow.offer and offer_points > 0 and not within_budget(session, shop, settings,
                                                             offer_points, now):
        return Verdict("suppress", "daily_budget_reached")
    return SEND
