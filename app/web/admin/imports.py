"""Import members from the app a merchant leaves (upload → preview → confirm, with progress),
and export everything as CSV.

The upload is the request body itself (`Content-Type: text/csv`), read as it arrives; the
import runs as jobs after the confirming request commits. Status and exports are fetches
(session token in the header), so the only pages are the list and a run's preview.
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, g, jsonify, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.inputs import parse_id
from app.loyalty.importing.exporting import ledger_rows, member_rows
from app.loyalty.importing.reader import ImportFileError
from app.loyalty.importing.runs import (
    confirm,
    is_stale,
    preview_of,
    shop_run,
    stage_file,
    take_over_stale,
)
from app.loyalty.importing.sources import SOURCES, source_named
from app.models import ImportedRow, ImportRun
from app.pipeline import enqueue
from app.pipeline.enqueue import after_commit
from app.web.admin.embedded import actor, database, fetch_only, now, render_page, runtime
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_imports", __name__)

# An export of 1,000,000 customers is about 150 MB; a bigger file is split first.
UPLOAD_MAX_BYTES = 256 * 1024 * 1024
RECENT_RUNS = 20
LISTED_NOTES = 100


def _no_run():  # noqa: ANN202 - Flask response
    return error("not_found", "no such import in this shop", 404)


def _url_run(session: Session, raw_run_id: str, *, lock: bool = False) -> ImportRun | None:
    """The shop's run the URL names (None for a malformed id or another shop's run)."""
    run_id = parse_id(raw_run_id)
    return None if run_id is None else shop_run(session, g.shop.id, run_id, lock=lock)


def _resume_if_abandoned(session: Session, run: ImportRun) -> None:
    """A run whose worker died is taken over by one new job, queued once this commits (a look
    at a run beating normally changes nothing)."""
    if not is_stale(run, now()):
        return
    locked = shop_run(session, g.shop.id, run.id, lock=True)
    if locked is not None and take_over_stale(locked, now()):
        after_commit(session, runtime().queue).add(
            enqueue.take_over_import(locked.id, locked.next_chunk, now()))


def _status(run: ImportRun) -> dict:
    return {"id": run.id, "state": run.state, "rows_done": run.rows_done,
            "total_rows": run.total_rows, "error": run.error}


@bp.get("/admin/imports")
@require_admin_session
def imports_page():  # noqa: ANN201 - Flask view
    """Upload a file from another app; earlier imports; the export buttons."""
    with database().sessions() as session:
        runs = session.execute(select(ImportRun).where(ImportRun.shop_id == g.shop.id)
                               .order_by(ImportRun.id.desc()).limit(RECENT_RUNS)
                               ).scalars().all()
    return render_page("admin/imports.html", title="Import and export", nav="imports",
                       runs=runs, sources=SOURCES)


@bp.post("/admin/imports")
@fetch_only
@require_admin_session
def upload():  # noqa: ANN201 - Flask view
    """Stage the CSV in the body and answer its preview (nothing is imported yet)."""
    source = source_named(request.args.get("source", ""))
    if source is None:
        return error("unknown_source", "source must be one of " + ", ".join(SOURCES), 400)
    request.max_content_length = UPLOAD_MAX_BYTES
    if not request.content_length and request.headers.get("Transfer-Encoding") != "chunked":
        return error("empty_file", "choose a CSV file to upload", 400)
    lines = io.TextIOWrapper(request.stream, encoding="utf-8-sig", newline="")
    filename = request.args.get("filename", "")[:255].replace("\x00", "")
    try:
        with database().transaction() as session:
            run = stage_file(session, g.shop.id, source, lines, filename=filename,
                             actor=actor(), now=now())
            answer = {**_status(run), "preview": preview_of(run)}
    except ImportFileError as exc:
        return error("invalid_file", str(exc), 400)
    except UnicodeDecodeError:
        return error("not_utf8", "the file is not UTF-8 text: save it as CSV UTF-8", 400)
    return jsonify(answer), 201


@bp.get("/admin/imports/<raw_run_id>")
@require_admin_session
def run_page(raw_run_id: str):  # noqa: ANN201 - Flask view
    """A run's preview, its confirm button and progress, and the codes it re-issued."""
    with database().transaction() as session:
        run = _url_run(session, raw_run_id)
        if run is None:
            return _no_run()
        _resume_if_abandoned(session, run)
        notes = session.execute(select(ImportedRow.line, ImportedRow.note).where(
            ImportedRow.run_id == run.id, ImportedRow.note.is_not(None))
            .order_by(ImportedRow.line).limit(LISTED_NOTES)).all()
    source = source_named(run.source)
    return render_page("admin/import_run.html", title=f"Import {run.id}", nav="imports",
                       run=run, preview=preview_of(run), notes=notes,
                       source_label=source.LABEL if source else run.source)


@bp.post("/admin/imports/<raw_run_id>/confirm")
@fetch_only
@require_admin_session
def confirm_run(raw_run_id: str):  # noqa: ANN201 - Flask view
    """Start the import (or resume one that failed): jobs apply it after this commits."""
    with database().transaction() as session:
        run = _url_run(session, raw_run_id, lock=True)
        if run is None:
            return _no_run()
        if not confirm(session, run, now()):
            return error("not_startable", f"this import is {run.state}", 409)
        answer = _status(run)
        after_commit(session, runtime().queue).add(enqueue.import_members(run.id,
                                                                         run.next_chunk))
    return jsonify({**answer, "message": "Import started."})


@bp.post("/admin/imports/<raw_run_id>/status")
@fetch_only
@require_admin_session
def run_status(raw_run_id: str):  # noqa: ANN201 - Flask view
    """How far the run is (the page's progress bar asks every second); a run whose worker
    died is resumed."""
    with database().transaction() as session:
        run = _url_run(session, raw_run_id)
        if run is None:
            return _no_run()
        _resume_if_abandoned(session, run)
        answer = _status(run)
    return jsonify(answer)


@bp.post("/admin/exports/<any(members, ledger):what>")
@fetch_only
@require_admin_session
def export(what: str):  # noqa: ANN201 - Flask view
    """The members (the shape `--source loyaltyloop` imports) or the full ledger, streamed."""
    db = database()
    shop_id = g.shop.id
    rows = member_rows(db.sessions, shop_id) if what == "members" \
        else ledger_rows(db.sessions, shop_id, now())
    filename = f"{g.shop.domain.split('.')[0]}-{what}-{now():%Y%m%d}.csv"
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

