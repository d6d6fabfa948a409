"""`flask import-members` and `flask export-members`: the admin's import and export, from a
terminal, printing progress."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from app.db import Database, utcnow
from app.models import Shop


def _shop(db: Database, domain: str | None) -> Shop:
    """The shop named, or the only installed shop when none is named."""
    with db.sessions() as session:
        if domain:
            shop = session.execute(select(Shop).where(Shop.domain == domain)
                                   ).scalar_one_or_none()
            if shop is None:
                raise click.ClickException(f"no shop {domain}")
            return shop
        shops = session.execute(select(Shop).where(Shop.installed_at.is_not(None),
                                                   Shop.uninstalled_at.is_(None))
                                ).scalars().all()
    if len(shops) != 1:
        raise click.ClickException(f"{len(shops)} installed shops: name one with --shop")
    return shops[0]


def _print_preview(preview: dict) -> None:
    click.echo(f"{preview['rows']} row(s): {preview['create']} member(s) to create, "
               f"{preview['match']} to match, {preview['already']} already imported, "
               f"{preview['refused']} refused")
    for tier in preview["tiers"]:
        kept = tier["program_tier"] or "no tier of the program (placed at the next review)"
        click.echo(f"  tier {tier['source_tier'] or '(none)'} → {kept}: "
                   f"{tier['members']} member(s), {tier['points']:,} points")
    for line, reason in preview["refusals"]:
        click.echo(f"  line {line}: refused, {reason}")
    if preview["refused"] > len(preview["refusals"]):
        click.echo(f"  … and {preview['refused'] - len(preview['refusals'])} more refused")
    for line, note in preview["code_notes"]:
        click.echo(f"  line {line}: {note}")


def register_import_commands(app: Flask) -> None:
    """Attach the import and export commands."""

    @app.cli.command("import-members")
    @click.option("--source", required=True,
                  type=click.Choice(["smile", "loyaltylion", "yotpo", "loyaltyloop"]),
                  help="The app the file was exported from.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--shop", "domain", default=None, help="The shop's myshopify.com domain.")
    @click.option("--dry-run", is_flag=True, help="Preview only: change nothing.")
    def import_members_command(source: str, file: Path, domain: str | None,
                               dry_run: bool) -> None:
        """Import members, balances, tiers, referral codes and birthdays from another app's
        export (preview first; the same file twice changes nothing)."""
        from app.loyalty.importing.reader import ImportFileError
        from app.loyalty.importing.runs import confirm, preview_of, stage_file
        from app.loyalty.importing.sources import source_named

        db: Database = app.extensions["runtime"].db
        shop = _shop(db, domain)
        try:
            with db.transaction() as session, file.open(newline="",
                                                        encoding="utf-8-sig") as lines:
                run = stage_file(session, shop.id, source_named(source), lines,
                                 filename=file.name, actor="cli", now=utcnow())
                preview = preview_of(run)
                if dry_run:
                    session.rollback()
                else:
                    confirm(session, run, utcnow())
                run_id = run.id
        except ImportFileError as exc:
            raise click.ClickException(str(exc)) from None
        except UnicodeDecodeError:
            raise click.ClickException("the file is not UTF-8 text: save it as CSV UTF-8") from None
        _print_preview(preview)
        if dry_run:
            click.echo("dry run: nothing imported")
            return
        _run_with_progress(db, run_id)

    @app.cli.command("resume-import")
    @click.argument("run_id", type=int)
    def resume_import_command(run_id: int) -> None:
        """Go on with an import run that failed or whose worker stopped."""
        from app.loyalty.importing.runs import confirm
        from app.models import ImportRun

        db: Database = app.extensions["runtime"].db
        with db.transaction() as session:
            run = session.get(ImportRun, run_id, with_for_update=True)
            if run is None:
                raise click.ClickException(f"no import run {run_id}")
            if run.state == "done":
                click.echo(f"import run {run_id} is done")
                return
            if run.state == "staged":
                raise click.ClickException(f"import run {run_id} was never confirmed")
            confirm(session, run, utcnow())
        _run_with_progress(db, run_id)

    @app.cli.command("export-members")
    @click.option("--shop", "domain", default=None, help="The shop's myshopify.com domain.")
    @click.option("--ledger", is_flag=True, help="Every ledger entry instead of the members.")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  default=None, help="File to write (default: standard output).")
    def export_members_command(domain: str | None, ledger: bool, output: Path | None) -> None:
        """Write the members (balances, tiers, referral codes, birthdays) or the full ledger
        as CSV; the members file imports back with --source loyaltyloop."""
        from app.loyalty.importing.exporting import ledger_rows, member_rows

        db: Database = app.extensions["runtime"].db
        shop = _shop(db, domain)
        chunks = ledger_rows(db.sessions, shop.id, utcnow()) if ledger \
            else member_rows(db.sessions, shop.id)
        target = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
        try:
            for text in chunks:
                target.write(text)
        finally:
            if output:
                target.close()


def _run_with_progress(db: Database, run_id: int) -> None:
    import uuid

    from app.loyalty.importing.runs import STALE_AFTER, apply_run, claim_run, release_run

    claim = f"cli-{uuid.uuid4().hex}"
    if not claim_run(db, run_id, claim, utcnow()):
        minutes = int(STALE_AFTER.total_seconds() // 60)
        raise click.ClickException(
            f"a worker is applying import run {run_id}; if that worker died, the run can be "
            f"taken over {minutes} minutes after its last chunk")

    def show(run) -> None:  # noqa: ANN001 - ImportRun
        share = run.rows_done * 100 // run.total_rows if run.total_rows else 100
        click.echo(f"imported {run.rows_done:,}/{run.total_rows:,} rows ({share}%)")

    try:
        state = apply_run(db, run_id, utcnow, progress=show, claim=claim)
    except Exception as exc:
        raise click.ClickException(
            f"import run {run_id} stopped: {exc}; `flask resume-import {run_id}` goes on "
            "where it stopped") from None
    release_run(db, run_id, claim, utcnow())
    click.echo(f"import run {run_id}: {state}")
