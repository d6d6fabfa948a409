"""An import run: stage the file with its preview, confirm, apply chunk by chunk, resume.

Staging reads the file once, as it arrives, into parsed chunks of CHUNK_ROWS rows and builds
the preview from the same pass (each chunk looked up against the shop's members as it is
written). Applying commits one chunk per transaction together with the run's resume point
(`next_chunk`), so a run stopped by an error or a dead worker goes on where it stopped, and
every row is applied once (its source key is unique per shop).

One job at a time applies a run: it claims the run (`claimed_by`) and every chunk it commits
refreshes the run's heartbeat. A run still importing whose heartbeat is older than
STALE_AFTER has lost its worker (killed, its machine gone): `take_over_stale` lets the admin's
next look at it queue one job that claims it, and a job that finds another's claim still
beating leaves the run alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from types import ModuleType

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db import Database
from app.loyalty.importing.apply import apply_rows, program_tier, tier_lookup
from app.loyalty.importing.bulk import plan_with_statistics
from app.loyalty.importing.matching import plan_chunk
from app.loyalty.importing.reader import Refusal, read_file
from app.loyalty.importing.rows import ImportRow
from app.loyalty.importing.sources import source_named
from app.loyalty.program import ProgramSettings, current_settings
from app.models import ImportChunk, ImportedRow, ImportRun, Member

CHUNK_ROWS = 2000
# The tables each chunk looks its rows up in (app/loyalty/importing/matching.py, apply.py).
LOOKED_UP_TABLES = (ImportedRow.__table__, Member.__table__)
# A chunk commits within seconds and a job hands over to its continuation with a fresh
# heartbeat, so a run silent this long has no live worker.
STALE_AFTER = timedelta(minutes=5)
# The preview lists this many refused lines (all of them are counted).
LISTED_REFUSALS = 200
LISTED_NOTES = 100


class Preview:
    """The preview's counters while the file is read."""

    def __init__(self) -> None:
        self.rows = self.create = self.match = self.already = self.refused = 0
        self.points = self.codes_reissued = 0
        self.refusals: list[list] = []
        self.code_notes: list[list] = []
        self.tiers: dict[str, dict] = {}

    def refuse(self, line: int, reason: str) -> None:
        """Count a refused line, listing the first ones."""
        self.refused += 1
        if len(self.refusals) < LISTED_REFUSALS:
            self.refusals.append([line, reason])

    def add_chunk(self, session: Session, shop_id: int, rows: list[ImportRow],
                  settings: ProgramSettings) -> None:
        """Count what applying this chunk would do now."""
        plan = plan_chunk(session, shop_id, rows)
        tiers = tier_lookup(settings)
        for line, reason in sorted(plan.refused.items()):
            self.refuse(line, reason)
        for row in rows:
            if row.line in plan.refused:
                continue
            if row.line in plan.already:
                self.already += 1
                continue
            if plan.members[row.line] is None:
                self.create += 1
            else:
                self.match += 1
            total = row.points + row.pending_points
            self.points += total
            name = row.tier or ""
            tier = self.tiers.get(name)
            if tier is None:
                tier = self.tiers[name] = {
                    "source_tier": row.tier, "program_tier": program_tier(tiers, row.tier),
                    "members": 0, "points": 0}
            tier["members"] += 1
            tier["points"] += total
            note = plan.code_notes.get(row.line)
            if note:
                self.codes_reissued += 1
                if len(self.code_notes) < LISTED_NOTES:
                    self.code_notes.append([row.line, note])

    def as_dict(self) -> dict:
        """The preview as stored on the run and shown to the merchant."""
        return {"rows": self.rows, "create": self.create, "match": self.match,
                "already": self.already, "refused": self.refused, "points": self.points,
                "refusals": self.refusals, "codes_reissued": self.codes_reissued,
                "code_notes": self.code_notes,
                "tiers": sorted(self.tiers.values(), key=lambda t: -t["points"])}


def stage_file(session: Session, shop_id: int, source: ModuleType, lines: Iterable[str], *,
               filename: str | None, actor: str | None, now: datetime) -> ImportRun:
    """Read the file into a new run's chunks and preview it; ImportFileError when the file as
    a whole is not this source's export (the caller's transaction then rolls back)."""
    run = ImportRun(shop_id=shop_id, source=source.SOURCE, filename=(filename or "")[:255]
                    or None, state="staged", actor=actor, created_at=now)
    session.add(run)
    session.flush()
    settings = current_settings(session, shop_id)
    preview = Preview()
    rows: list[ImportRow] = []
    refused: list[Refusal] = []

    def flush_chunk() -> None:
        if not rows and not refused:
            return
        preview.add_chunk(session, shop_id, rows, settings)
        session.add(ImportChunk(run_id=run.id, seq=run.chunk_count, rows=json.dumps(
            {"rows": [r.to_json() for r in rows],
             "refused": [[r.line, r.reason] for r in refused]})))
        run.chunk_count += 1
        session.flush()
        rows.clear()
        refused.clear()

    for item in read_file(lines, source, now):
        preview.rows += 1
        if isinstance(item, Refusal):
            preview.refuse(item.line, item.reason)
            refused.append(item)
        else:
            rows.append(item)
        if len(rows) + len(refused) >= CHUNK_ROWS:
            flush_chunk()
    flush_chunk()
    preview.refusals.sort()
    run.total_rows = preview.rows
    run.preview = json.dumps(preview.as_dict())
    return run


def shop_run(session: Session, shop_id: int, run_id: int, *, lock: bool = False
             ) -> ImportRun | None:
    """The shop's run with that id (another shop's is None)."""
    statement = select(ImportRun).where(ImportRun.id == run_id, ImportRun.shop_id == shop_id)
    if lock:
        statement = statement.with_for_update()
    return session.execute(statement).scalar_one_or_none()


def confirm(session: Session, run: ImportRun, now: datetime) -> bool:
    """Start applying a staged run, or resume one that failed; False when it is done or
    already running."""
    if run.state not in ("staged", "failed"):
        return False
    run.state, run.error = "importing", None
    run.confirmed_at = run.confirmed_at or now
    # The job queued now has STALE_AFTER to claim it before the run counts as abandoned.
    run.heartbeat_at, run.claimed_by = now, None
    return True


def is_stale(run: ImportRun, now: datetime) -> bool:
    """Importing, and no chunk committed nor job queued for STALE_AFTER: its worker died."""
    return run.state == "importing" and (run.heartbeat_at is None
                                         or run.heartbeat_at <= now - STALE_AFTER)


def take_over_stale(run: ImportRun, now: datetime) -> bool:
    """On a locked run: when it is stale, drop the dead job's claim and restart its heartbeat
    (so the next look does not queue it again); True when the caller should queue a job."""
    if not is_stale(run, now):
        return False
    run.heartbeat_at, run.claimed_by = now, None
    return True


def claim_run(db: Database, run_id: int, claim: str, now: datetime) -> bool:
    """Make `claim` the one job applying the run; False when the run is not importing or
    another job's claim is still beating."""
    with db.transaction() as session:
        run = session.get(ImportRun, run_id, with_for_update=True)
        if run is None or run.state != "importing":
            return False
        if run.claimed_by not in (None, claim) and not is_stale(run, now):
            return False
        run.claimed_by, run.heartbeat_at = claim, now
        return True


def release_run(db: Database, run_id: int, claim: str, now: datetime) -> bool:
    """Give up the claim with a fresh heartbeat (the continuation is being queued); False
    when `claim` no longer held the run (another job took it over)."""
    with db.transaction() as session:
        run = session.get(ImportRun, run_id, with_for_update=True)
        if run is None or run.claimed_by != claim:
            return False
        run.claimed_by, run.heartbeat_at = None, now
        return True


def apply_next_chunk(db: Database, run_id: int, now: datetime, claim: str | None = None
                     ) -> bool:
    """Apply the run's next chunk in one transaction; False when nothing is left to do, or
    when `claim` (a job's) no longer holds the run.

    The run row is locked first: even two appliers given the same run apply each chunk once.
    """
    with db.transaction() as session:
        run = session.execute(select(ImportRun).where(ImportRun.id == run_id)
                              .with_for_update()).scalar_one_or_none()
        if run is None or run.state != "importing":
            return False
        if claim is not None and run.claimed_by != claim:
            return False
        run.heartbeat_at = now
        if run.next_chunk >= run.chunk_count:
            _finish(session, run, now)
            return False
        chunk = session.execute(select(ImportChunk).where(
            ImportChunk.run_id == run.id, ImportChunk.seq == run.next_chunk)).scalar_one()
        data = json.loads(chunk.rows)
        rows = [ImportRow.from_json(r) for r in data["rows"]]
        source = source_named(run.source)
        result = apply_rows(session, run.shop_id, run.id, source.LABEL if source else run.source,
                            rows, current_settings(session, run.shop_id), now)
        if result.refused:
            preview = json.loads(run.preview or "{}")
            listed = preview.setdefault("refusals", [])
            for line, reason in result.refused:
                preview["refused"] = preview.get("refused", 0) + 1
                if len(listed) < LISTED_REFUSALS:
                    listed.append([line, reason])
            run.preview = json.dumps(preview)
        run.next_chunk += 1
        run.rows_done += len(data["rows"]) + len(data["refused"])
        # The next chunks' look-ups are planned from the rows this one wrote.
        plan_with_statistics(session, LOOKED_UP_TABLES)
        if run.next_chunk >= run.chunk_count:
            _finish(session, run, now)
        return run.state == "importing"


def _finish(session: Session, run: ImportRun, now: datetime) -> None:
    """Mark the run done and drop its staged file: the customers' data now lives in their
    member rows, where a redaction finds it."""
    run.state, run.finished_at, run.claimed_by = "done", now, None
    session.execute(delete(ImportChunk).where(ImportChunk.run_id == run.id))


def record_failure(db: Database, run_id: int, message: str) -> None:
    """Mark the run failed with the error; its committed chunks stay, resume goes on after."""
    with db.transaction() as session:
        run = session.get(ImportRun, run_id, with_for_update=True)
        if run is not None and run.state == "importing":
            run.state, run.error, run.claimed_by = "failed", message[:2000], None


def apply_run(db: Database, run_id: int, now: Callable[[], datetime], *,
              budget_seconds: float | None = None,
              progress: Callable[[ImportRun], None] | None = None,
              claim: str | None = None) -> str:
    """Apply chunks until the run is done, fails, `budget_seconds` have passed, or another
    job took over `claim`'s run.

    Returns the run's state ("importing" when the budget ran out: call again). An error
    marks the run failed and is raised again.
    """
    started = time.monotonic()
    try:
        while apply_next_chunk(db, run_id, now(), claim):
            if progress is not None:
                progress(run_state(db, run_id))
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                break
    except Exception as exc:
        record_failure(db, run_id, f"{type(exc).__name__}: {exc}")
        raise
    run = run_state(db, run_id)
    if progress is not None:
        progress(run)
    return run.state


def run_state(db: Database, run_id: int) -> ImportRun:
    """The run as committed."""
    with db.sessions() as session:
        return session.get(ImportRun, run_id)


def preview_of(run: ImportRun) -> dict:
    """The run's stored preview."""
    return json.loads(run.preview or "{}")
