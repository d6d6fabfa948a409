"""What each webhook topic does: a plain map from topic to the business function it triggers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Shop, WebhookEvent
from app.queueing import JobQueue, enqueue_or_leave_to_sweep


@dataclass
class FollowUps:
    """Jobs a handler asks for, enqueued only after its transaction commits."""

    jobs: list[tuple[str, tuple[Any, ...], str, str]] = field(default_factory=list)

    def add(self, func: str, *args: Any, job_id: str, queue: str = "default") -> None:
        """Ask for func(*args) after commit."""
        self.jobs.append((func, args, job_id, queue))

    def enqueue(self, queue: JobQueue) -> None:
        """Enqueue every requested job (called after the commit)."""
        for func, args, job_id, queue_name in self.jobs:
            enqueue_or_leave_to_sweep(queue, func, *args, job_id=job_id, queue_name=queue_name)


Apply = Callable[[Session, WebhookEvent, Shop | None, dict[str, Any], datetime, FollowUps],
                 str | None]


@dataclass(frozen=True)
class TopicHandler:
    """How to apply one topic; most need a shop that is still installed."""

    apply: Apply
    needs_installed_shop: bool = True


def _enrol_customer(session: Session, event: WebhookEvent, shop: Shop | None,
                    payload: dict[str, Any], now: datetime, followups: FollowUps) -> str | None:
    from app.loyalty.members import enrol

    marketing = (payload.get("email_marketing_consent") or {}).get("state")
    enrol(session, shop, now=now, customer_id=int(payload["id"]), email=payload.get("email"),
          first_name=payload.get("first_name"), last_name=payload.get("last_name"),
          accepts_marketing=marketing == "subscribed" if marketing else None)
    return None


HANDLERS: dict[str, TopicHandler] = {
    "customers/create": TopicHandler(_enrol_customer),
    "customers/update": TopicHandler(_enrol_customer),
}


def handler_for(topic: str) -> TopicHandler | None:
    """The handler of a topic, or None for topics we acknowledge and ignore."""
    return HANDLERS.get(topic)
