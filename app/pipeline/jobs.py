"""RQ entry points. Each owns its transaction and is safe to run twice.

Each takes first the runtime it acts on, then the primitive ids stored with the job: the RQ
worker gives every job the runtime it built when it started (app/pipeline/rq_worker.py), an
inline queue the runtime it belongs to, and a command or test its own. What each job's name
and id are: app/pipeline/enqueue.py.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from app.db import parse_utc, utcnow
from app.engagement.rules import quiet_hours_note
from app.engagement.schedule import plan_daily_messages
from app.insights.rollups import refresh_rollups as refresh_insight_rollups
from app.loyalty.daily import DailyRound, run_daily_round
from app.loyalty.importing.runs import apply_run, claim_run, release_run, run_state
from app.loyalty.program import current_settings
from app.loyalty.redemption import CombinesWith
from app.loyalty.referrals import friend_discount_for
from app.loyalty.rollup import refresh as refresh_dashboard_rollup
from app.messaging.dispatch import Dispatcher, dispatcher, send_due
from app.messaging.dispatch import send_message as send_one
from app.models import Member, Message, Shop, WebhookEvent
from app.pipeline import enqueue, flow_triggers
from app.pipeline.app_data import push_program_state, push_proxy_path, push_widget_settings
from app.pipeline.backfill import run_backfill as backfill_slice
from app.pipeline.consent import learn_member_consent
from app.pipeline.discounts import discount_issuer_for
from app.pipeline.enqueue import AfterCommit, after_commit
from app.pipeline.inbox import MAX_ATTEMPTS, unprocessed_event_ids
from app.pipeline.member_sync import push_member_metafields
from app.pipeline.runtime import Runtime
from app.pipeline.topics import handler_for

log = logging.getLogger(__name__)


class PayloadError(ValueError):
    """A payload that can never be applied (wrong shape, impossible ids): fail, don't retry."""


# Errors that say the payload itself is wrong (shape, numbers, values the database refuses):
# retrying for hours cannot help, so the event is recorded failed at once.
PERMANENT_ERRORS = (PayloadError, KeyError, TypeError, ValueError, AttributeError,
                    ArithmeticError, RecursionError, DataError)


def process_event(rt: Runtime, event_id: int) -> str:
    """Apply one inbox event in one transaction; returns what happened.

    The event row is locked (PostgreSQL) so two workers given the same event apply it once;
    processed_at makes a re-run a no-op.
    """
    now = utcnow()
    try:
        with rt.db.transaction() as session:
            jobs = after_commit(session, rt.queue)
            event = session.execute(select(WebhookEvent).where(WebhookEvent.id == event_id)
                                    .with_for_update()).scalar_one_or_none()
            if event is None or event.processed_at is not None:
                return "already processed"
            handler = handler_for(event.topic)
            shop = session.execute(select(Shop).where(
                Shop.domain == event.shop_domain)).scalar_one_or_none()
            if handler is None:
                outcome, note = "ignored", "unknown_topic"
            elif handler.needs_installed_shop and (shop is None or not shop.is_installed):
                outcome, note = "ignored", "shop_not_installed"
            else:
                payload = json.loads(event.payload)
                if not isinstance(payload, dict):
                    raise PayloadError("payload is not a JSON object")
                note = handler.apply(session, event, shop, payload, now, jobs)
                outcome = "processed"
            # Counted here, in the same UPDATE as the outcome: a failed attempt rolls back and
            # is counted by _record_failure instead.
            event.attempts += 1
            event.processed_at, event.outcome, event.last_error = now, outcome, note
    except PERMANENT_ERRORS as exc:
        # A payload we cannot apply now will not apply on retry either: record and stop.
        _record_failure(rt, event_id, f"{type(exc).__name__}: {exc}", final=True)
        log.warning("event failed permanently", extra={"event_id": event_id})
        return "failed"
    except Exception as exc:
        _record_failure(rt, event_id, f"{type(exc).__name__}: {exc}", final=False)
        raise
    return outcome


def _record_failure(rt: Runtime, event_id: int, message: str, *, final: bool) -> None:
    try:
        with rt.db.transaction() as session:
            event = session.get(WebhookEvent, event_id)
            if event is None or event.processed_at is not None:
                return
            event.last_error = message[:2000]
            if final:
                event.attempts += 1
                event.processed_at, event.outcome = utcnow(), "failed"
            elif event.attempts >= MAX_ATTEMPTS - 1:
                event.attempts += 1
                event.processed_at, event.outcome = utcnow(), "failed"
            else:
                session.execute(update(WebhookEvent).where(WebhookEvent.id == event_id)
                                .values(attempts=WebhookEvent.attempts + 1))
    except Exception:  # the database may be the thing that failed
        log.exception("could not record a failed event", extra={"event_id": event_id})


def sweep_inbox(rt: Runtime, older_than_seconds: int = 60) -> int:
    """Re-enqueue events that were stored but never processed; returns how many."""
    with rt.db.engine.connect() as conn:
        ids = unprocessed_event_ids(conn, utcnow(), timedelta(seconds=older_than_seconds))
    queued = 0
    for event_id in ids:
        if enqueue.enqueue(rt.queue, enqueue.process_event(event_id)):
            queued += 1
    return queued


def sync_member_metafields(rt: Runtime, shop_id: int, member_id: int) -> str:
    """Write a member's balance and tier to their customer metafields, so Liquid shows them."""
    return push_member_metafields(rt, shop_id, member_id)


def sweep_flow_triggers(rt: Runtime, older_than_seconds: int = 60) -> int:
    """Re-enqueue Flow triggers a lost job left unsent (written at least that long ago) and
    sends cut short; returns how many."""
    now = utcnow()
    with rt.db.transaction() as session:
        flow_triggers.give_up_cut_short(session, now)
        ids = flow_triggers.unsent_trigger_ids(session, now,
                                               timedelta(seconds=older_than_seconds))
    return sum(enqueue.enqueue(rt.queue, enqueue.deliver_flow_trigger(trigger_id))
               for trigger_id in ids)


def deliver_flow_trigger(rt: Runtime, trigger_id: int) -> str:
    """Send a committed Shopify Flow trigger row once."""
    return flow_triggers.deliver(rt, trigger_id)


def send_flow_trigger(rt: Runtime, shop_id: int, member_id: int, event_key: str, handle: str,
                      payload: dict[str, Any]) -> str:
    """A Flow trigger job an earlier deployment queued (it wrote the row in the job): write
    the row once and send it. Nothing enqueues this job any more."""
    return flow_triggers.record_from_old_job(rt, shop_id, member_id, event_key, handle,
                                             payload)


def sync_proxy_path(rt: Runtime, shop_id: int, path: str) -> str:
    """Tell the theme extension the storefront path of the app proxy (app-data metafield)."""
    return push_proxy_path(rt, shop_id, path)


def sync_widget_settings(rt: Runtime, shop_id: int) -> str:
    """Show the admin's newest Widget settings on the storefront (app-data metafield)."""
    return push_widget_settings(rt, shop_id)


def sync_program_state(rt: Runtime, shop_id: int) -> str:
    """Tell the theme extension whether the shop's program is a draft or live (app-data
    metafield), so the launcher is not rendered in draft."""
    return push_program_state(rt, shop_id)


def learn_marketing_consent(rt: Runtime, shop_id: int, member_id: int) -> str:
    """Read a new member's email marketing consent from Shopify (they may have consented
    before the program met them)."""
    return learn_member_consent(rt, shop_id, member_id)


def daily_round(rt: Runtime, shop_id: int, now_iso: str | None = None) -> str:
    """Run the shop's daily round (unlocks, expiry, referral payouts, birthdays, tiers), then
    schedule the messages it calls for."""
    now = parse_utc(now_iso) if now_iso else utcnow()
    with rt.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not shop.is_installed:
            return "skipped: shop not installed"
        jobs = after_commit(session, rt.queue)
        done = daily_round_of(session, shop, now, jobs)
        for member_id in sorted(done.changed_member_ids):
            jobs.add(enqueue.sync_member_metafields(shop_id, member_id, "daily"))
    return (f"unlocked {done.unlocked}, expired {done.expired}, referrals paid "
            f"{done.referrals_paid}, birthdays {done.birthdays}, tier changes "
            f"{done.tier_changes}, dashboard days {done.rollup_days}")


def daily_round_of(session: Session, shop: Shop, now: datetime, jobs: AfterCommit
                   ) -> DailyRound:
    """The shop's daily round and the messages it calls for (their wake-ups in `jobs`)."""
    done = run_daily_round(session, shop, now)
    # After the round, so its expiries and payouts of yesterday are in the closed day.
    done.rollup_days = refresh_dashboard_rollup(session, shop, now)
    # The effect and cohort pages read these sums (app/insights/rollups.py).
    refresh_insight_rollups(session, shop, now)
    if done.settings is not None:
        scheduled = plan_daily_messages(session, shop, done.settings, now,
                                        tier_changes=done.tier_change_rows,
                                        birthday_entries=done.birthday_entries)
        done.messages = len(scheduled)
        jobs.wake(scheduled)
    return done


@dataclass
class ShopsRun:
    """What an operational sweep did per shop: a summary each, and the shops whose work failed."""

    done: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def _installed_shops(rt: Runtime, domain: str | None = None) -> list[tuple[int, str]]:
    """(id, domain) of every installed shop, or of the one with `domain`."""
    query = select(Shop.id, Shop.domain).where(Shop.installed_at.is_not(None),
                                               Shop.uninstalled_at.is_(None))
    if domain is not None:
        query = query.where(Shop.domain == domain)
    with rt.db.sessions() as session:
        return [(shop_id, name) for shop_id, name in session.execute(query.order_by(Shop.id))]


def _each_shop(shops: list[tuple[int, str]], what: str, work: Callable[[int], str]) -> ShopsRun:
    """`work` for each shop, its summary kept; a failing shop is logged and the others run."""
    run = ShopsRun()
    for shop_id, name in shops:
        try:
            run.done[name] = work(shop_id)
        except Exception as exc:  # noqa: BLE001 - one shop's failure must not stop the others
            log.exception("%s failed", what, extra={"shop": name})
            run.failed[name] = f"{type(exc).__name__}: {exc}"
    return run


def daily_rounds_for_all_shops(rt: Runtime, now_iso: str | None = None) -> ShopsRun:
    """Run every installed shop's daily round now, one transaction each, and say how each went.

    In this process rather than queued, so the scheduler that runs it (cron) learns whether
    every shop's round happened. A failing shop is logged and the others still run.
    """
    now_iso = (parse_utc(now_iso) if now_iso else utcnow()).isoformat()
    return _each_shop(_installed_shops(rt), "daily round",
                      lambda shop_id: daily_round(rt, shop_id, now_iso))


def rebuild_insights(rt: Runtime, now_iso: str | None = None, domain: str | None = None
                     ) -> ShopsRun:
    """Recompute every installed shop's insight roll-ups from all their history (or one
    shop's), one transaction each: after a restore, or to check the nightly upkeep."""
    now = parse_utc(now_iso) if now_iso else utcnow()

    def rebuild(shop_id: int) -> str:
        with rt.db.transaction() as session:
            done = refresh_insight_rollups(session, session.get(Shop, shop_id), now,
                                           rebuild=True)
        return f"{done.holdout_rows} holdout rows, {done.cohort_cells} cohort cells"

    return _each_shop(_installed_shops(rt, domain), "insight rebuild", rebuild)


def rebuild_rollups(rt: Runtime, domain: str | None = None, now_iso: str | None = None
                    ) -> ShopsRun:
    """Build the dashboard roll-up of one installed shop (by domain) or of every one from its
    whole history, one transaction each."""
    now = parse_utc(now_iso) if now_iso else utcnow()

    def rebuild(shop_id: int) -> str:
        with rt.db.transaction() as session:
            days = refresh_dashboard_rollup(session, session.get(Shop, shop_id), now, full=True)
        return f"{days} day(s) rolled up"

    return _each_shop(_installed_shops(rt, domain), "roll-up rebuild", rebuild)


def ensure_friend_discount(rt: Runtime, shop_id: int, member_id: int) -> str:
    """Create the member's referral code as a Shopify discount for friends, once.

    Safe to run any number of times: an existing code is found first and left alone.
    """
    now = utcnow()
    with rt.db.transaction() as session:
        shop, member = session.get(Shop, shop_id), session.get(Member, member_id)
        if shop is None or not shop.is_installed or member is None or member.shop_id != shop_id:
            return "skipped"
        settings = current_settings(session, shop_id)
        if not settings.referrals.get("enabled", True):
            return "referrals are off"
        offer = friend_discount_for(member.referral_code, settings, shop.currency)
    with discount_issuer_for(rt.db, shop_id, rt.settings, now) as issuer:
        if issuer.find_discount(offer.code) is not None:
            return "exists"
        issuer.create_basic_discount(
            title=offer.title, code=offer.code, customer_gid=offer.customer_gid, starts_at=now,
            ends_at=None, amount=offer.amount, percentage=offer.percentage, min_subtotal=None,
            combines_with=CombinesWith(order_discounts=False, product_discounts=False,
                                       shipping_discounts=True),
            usage_limit=offer.usage_limit,
            applies_once_per_customer=offer.applies_once_per_customer)
    return "created"


# An import job applies chunks for at most this long, then queues the next slice: no job
# runs near RQ's timeout whatever the file's size, and a worker restart loses at most one
# chunk's transaction (the run's resume point is committed with every chunk).
IMPORT_SLICE_SECONDS = 60.0


def import_members(rt: Runtime, run_id: int) -> str:
    """Claim an import run, apply its chunks for up to IMPORT_SLICE_SECONDS, then hand it to
    the job that applies the rest; a run another live job holds is left to that job."""
    claim = uuid.uuid4().hex
    if not claim_run(rt.db, run_id, claim, utcnow()):
        return "skipped: not importing, or another job is applying it"
    state = apply_run(rt.db, run_id, utcnow, budget_seconds=IMPORT_SLICE_SECONDS, claim=claim)
    if state == "importing" and release_run(rt.db, run_id, claim, utcnow()):
        enqueue.enqueue(rt.queue, enqueue.import_members(
            run_id, run_state(rt.db, run_id).next_chunk))
    return state


def send_message(rt: Runtime, message_id: int) -> str:
    """Send one scheduled engagement message if it is due (the RQ scheduler's wake-up)."""
    return send_one(dispatcher_for(rt), message_id, utcnow())


def run_due_messages(rt: Runtime, now_iso: str | None = None) -> str:
    """Send every due engagement message of every shop; the schedule's sweep, safe to repeat.

    Nothing depends on Redis to survive: the scheduled rows are the schedule, and this sends
    whatever is due whether or not its wake-up ever ran (cron, or `flask run-due`).
    """
    summary, _ = send_due_messages(rt, now_iso)
    return summary


def _deferral_notes(rt: Runtime, deferrals: Counter[tuple[int, datetime]],
                    now: datetime) -> str:
    """When the deferred messages go out: quiet hours (the only deferral) end per shop.

    "quiet hours in America/New_York until 08:00 local, 13:00 UTC", or with several shops or
    times "quiet hours: 3 in America/New_York until …; 1 in Europe/Paris until …".
    """
    with rt.db.sessions() as session:
        shops = {s.id: s for s in session.execute(select(Shop).where(
            Shop.id.in_({shop_id for shop_id, _ in deferrals}))).scalars()}
    counts: Counter[str] = Counter()
    for (shop_id, until), count in deferrals.items():
        counts[quiet_hours_note(shops[shop_id], until, now)] += count
    if len(counts) == 1:
        return f"quiet hours {next(iter(counts))}"
    return "quiet hours: " + "; ".join(f"{count} {note}" for note, count in sorted(
        counts.items(), key=lambda item: (-item[1], item[0])))


def send_due_messages(rt: Runtime, now_iso: str | None = None) -> tuple[str, list[str]]:
    """run_due_messages, also naming the shops (domains) some of whose messages failed."""
    now = parse_utc(now_iso) if now_iso else utcnow()
    failed_ids: set[int] = set()
    deferrals: Counter[tuple[int, datetime]] = Counter()
    outcomes = send_due(dispatcher_for(rt), now, failed_shop_ids=failed_ids,
                        deferrals=deferrals)
    notes = {"deferred": _deferral_notes(rt, deferrals, now)} if deferrals else {}
    summary = ", ".join(f"{outcome} {count}" + (f" ({notes[outcome]})" if outcome in notes
                                                 else "")
                        for outcome, count in sorted(outcomes.items()))
    failed: list[str] = []
    if failed_ids:
        with rt.db.sessions() as session:
            failed = list(session.execute(select(Shop.domain).where(
                Shop.id.in_(failed_ids)).order_by(Shop.domain)).scalars())
    return summary or "nothing due", failed


def dispatcher_for(runtime: Runtime) -> Dispatcher:
    """The runtime's dispatcher: its mailer, and wake-ups through its queue after commit."""

    def wake(session: Session, messages: Iterable[Message]) -> None:
        after_commit(session, runtime.queue).wake(messages)

    return dispatcher(runtime.db, runtime.settings, wake)


def run_backfill(rt: Runtime, backfill_id: int) -> str:
    """Read the shop's order history (one slice; it enqueues the next)."""
    return backfill_slice(rt, backfill_id)
