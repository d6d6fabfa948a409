"""What each flow did: sends, suppressions and why, opens, clicks and the orders that followed.

For the merchant admin: `flow_stats(session, shop_id, start, end)` counts messages whose
moment (sent, else scheduled) falls in [start, end); `waiting_by_flow(session, shop_id)` counts
the messages scheduled and not yet sent, whenever they are due. An order "followed" a message
when the same member paid for it within ATTRIBUTION_WINDOW after the send.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.engagement.flows import message_kinds
from app.models import Message, Order

ATTRIBUTION_WINDOW = timedelta(days=7)


@dataclass
class FlowStats:
    """One flow's numbers over a period."""

    kind: str
    scheduled: int = 0
    sent: int = 0
    suppressed: int = 0
    cancelled: int = 0
    failed: int = 0
    opened: int = 0
    clicked: int = 0
    orders: int = 0
    revenue: Decimal = Decimal("0.00")
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def click_rate(self) -> float:
        """Clicks per sent message (0 when nothing was sent)."""
        return round(self.clicked / self.sent, 4) if self.sent else 0.0


def flow_stats(session: Session, shop_id: int, start: datetime,
               end: datetime) -> list[FlowStats]:
    """Every flow's sends, suppressions (by reason), opens, clicks and following orders."""
    moment = func.coalesce(Message.sent_at, Message.scheduled_at)
    rows = session.execute(
        select(Message.kind, Message.status, Message.reason, Message.member_id,
               Message.sent_at, Message.opened_at, Message.clicked_at)
        .where(Message.shop_id == shop_id, moment >= start, moment < end)).all()
    stats = {kind: FlowStats(kind) for kind in message_kinds()}
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    sends: list[tuple[str, int, datetime]] = []
    for kind, status, reason, member_id, sent_at, opened_at, clicked_at in rows:
        flow = stats.setdefault(kind, FlowStats(kind))
        if status in ("scheduled", "sent", "suppressed", "cancelled", "failed"):
            setattr(flow, status, getattr(flow, status) + 1)
        if status in ("suppressed", "cancelled", "failed") and reason:
            reasons[kind][reason] += 1
        flow.opened += opened_at is not None
        flow.clicked += clicked_at is not None
        if status == "sent" and member_id is not None and sent_at is not None:
            sends.append((kind, member_id, sent_at))
    for kind, counted in reasons.items():
        stats[kind].reasons = dict(sorted(counted.items()))
    _attribute_orders(session, shop_id, sends, stats)
    return list(stats.values())


def waiting_by_flow(session: Session, shop_id: int) -> dict[str, int]:
    """Each flow's messages scheduled and not yet sent, due in the past (the sweep has not
    reached them) or in the future: what the flow is about to send, outside any period."""
    return {kind: count for kind, count in session.execute(
        select(Message.kind, func.count()).where(
            Message.shop_id == shop_id, Message.status == "scheduled")
        .group_by(Message.kind))}


def _attribute_orders(session: Session, shop_id: int, sends: list[tuple[str, int, datetime]],
                      stats: dict[str, FlowStats]) -> None:
    """Count each flow's distinct orders paid by the member within the window after a send."""
    if not sends:
        return
    members = {member_id for _, member_id, _ in sends}
    earliest = min(sent_at for _, _, sent_at in sends)
    latest = max(sent_at for _, _, sent_at in sends) + ATTRIBUTION_WINDOW
    orders: dict[int, list[tuple[int, datetime, Decimal]]] = defaultdict(list)
    for order_id, member_id, paid_at, total in session.execute(
            select(Order.id, Order.member_id, Order.paid_at, Order.total_price).where(
                Order.shop_id == shop_id, Order.member_id.in_(members),
                Order.status == "paid", Order.paid_at > earliest, Order.paid_at <= latest)):
        orders[member_id].append((order_id, paid_at, Decimal(str(total))))
    followed: dict[str, dict[int, Decimal]] = defaultdict(dict)
    for kind, member_id, sent_at in sends:
        for order_id, paid_at, total in orders.get(member_id, []):
            if sent_at < paid_at <= sent_at + ATTRIBUTION_WINDOW:
                followed[kind][order_id] = total
    for kind, found in followed.items():
        stats[kind].orders = len(found)
        stats[kind].revenue = sum(found.values(), Decimal("0.00")).quantize(Decimal("0.01"))
