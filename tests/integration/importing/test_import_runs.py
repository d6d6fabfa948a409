"""Importing members on both databases: balances as single ledger entries, matching, tiers,
codes, birthdays; the same file twice; a re-issued code; resuming after a failure; and our
export read back into another shop."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.loyalty.expiry import expires_at
from app.loyalty.importing import apply as apply_module
from app.loyalty.importing import runs as runs_module
from app.loyalty.importing.exporting import ledger_rows, member_rows
from app.loyalty.importing.runs import apply_run, confirm, preview_of, stage_file
from app.loyalty.importing.sources import source_named
from app.loyalty.ledger import ledger_balances
from app.loyalty.members import enrol
from app.loyalty.privacy import redact_customer
from app.loyalty.program import current_settings
from app.models import (
    ImportChunk,
    ImportedRow,
    ImportRun,
    LedgerEntry,
    Member,
    Shop,
    TierChange,
)
from tests.support.factories import make_member, make_shop

SAMPLES = Path(__file__).parents[2] / "unit" / "importing" / "samples"
NOW = datetime(2026, 12, 5, 12, 0)


def _shop(db: Database, domain: str = "importer.myshopify.com") -> int:
    with db.transaction() as session:
        return make_shop(session, domain).id


def _stage(db: Database, shop_id: int, source: str, text: str | None = None) -> tuple[int, dict]:
    lines = (text if text is not None else (SAMPLES / f"{source}.csv").read_text("utf-8")
             ).splitlines(keepends=True)
    with db.transaction() as session:
        run = stage_file(session, shop_id, source_named(source), lines, filename=f"{source}.csv",
                         actor="test", now=NOW)
        return run.id, preview_of(run)


def _import(db: Database, shop_id: int, source: str, text: str | None = None
            ) -> tuple[int, dict]:
    run_id, preview = _stage(db, shop_id, source, text)
    with db.transaction() as session:
        assert confirm(session, session.get(ImportRun, run_id), NOW)
    assert apply_run(db, run_id, lambda: NOW) == "done"
    return run_id, preview


def _members(db: Database, shop_id: int) -> dict[str, Member]:
    with db.sessions() as session:
        return {m.email: m for m in session.execute(
            select(Member).where(Member.shop_id == shop_id)).scalars()}


def _snapshot(db: Database, shop_id: int) -> tuple:
    with db.sessions() as session:
        members = session.execute(select(
            Member.id, Member.email, Member.customer_id, Member.points_available,
            Member.points_pending, Member.points_lifetime, Member.tier, Member.tier_since,
            Member.referral_code, Member.birthday, Member.last_activity_at)
            .where(Member.shop_id == shop_id).order_by(Member.id)).all()
        entries = session.execute(select(LedgerEntry.id, LedgerEntry.points)
                                  .where(LedgerEntry.shop_id == shop_id)).all()
        tiers = session.execute(select(func.count()).select_from(TierChange)).scalar_one()
    return members, entries, tiers


def _ledger_matches_cache(db: Database, shop_id: int) -> None:
    with db.sessions() as session:
        for member in session.execute(select(Member).where(Member.shop_id == shop_id)).scalars():
            sums = ledger_balances(session, member.id, NOW)
            assert (sums.available, sums.pending, sums.lifetime) == (
                member.points_available, member.points_pending, member.points_lifetime)


def test_a_smile_export_becomes_members_with_one_dated_ledger_entry_each(db: Database) -> None:
    shop_id = _shop(db)
    run_id, preview = _import(db, shop_id, "smile")
    assert (preview["create"], preview["match"], preview["refused"]) == (2, 0, 4)
    assert preview["tiers"][0] == {"source_tier": "Gold", "program_tier": "Gold", "members": 1,
                                   "points": 1250}
    members = _members(db, shop_id)
    ada = members["ada@example.com"]
    assert (ada.points_available, ada.points_pending, ada.tier) == (1250, 0, "Gold")
    assert ada.tier_since == NOW  # kept until its review after the retention period
    assert ada.referral_code == "9QR5PW"
    assert ada.birthday == date(1904, 12, 10)
    # Expiry counts from Smile's last activity, not from the import.
    assert ada.last_activity_at == datetime(2026, 10, 15, 9, 30)
    with db.sessions() as session:
        settings = current_settings(session, shop_id)
        entries = session.execute(select(LedgerEntry).where(
            LedgerEntry.member_id == ada.id)).scalars().all()
    assert expires_at(ada, settings) == datetime(2027, 10, 15, 9, 30)
    assert [(e.kind, e.points, e.created_at, e.note) for e in entries] == [
        ("import", 1250, datetime(2026, 10, 15, 9, 30), "Balance brought over from Smile.io")]
    _ledger_matches_cache(db, shop_id)
    with db.sessions() as session:
        assert session.get(ImportRun, run_id).rows_done == 6


def test_importing_the_same_file_twice_changes_nothing(db: Database) -> None:
    shop_id = _shop(db)
    _import(db, shop_id, "loyaltylion")
    before = _snapshot(db, shop_id)
    _, preview = _import(db, shop_id, "loyaltylion")
    assert (preview["create"], preview["match"], preview["already"]) == (0, 0, 3)
    assert _snapshot(db, shop_id) == before


def test_rows_match_by_customer_id_else_by_email_and_add_to_the_balance(db: Database) -> None:
    shop_id = _shop(db)
    with db.transaction() as session:
        shop = session.get(Shop, shop_id)
        ada = make_member(session, shop, customer_id=7001, email="ada@old.example",
                          now=NOW - timedelta(days=3))
        guest = make_member(session, shop, customer_id=None, email="guest@example.com")
        guest.customer_id = None
        ada.points_available = 0
    _, preview = _import(db, shop_id, "loyaltylion")
    assert (preview["create"], preview["match"]) == (1, 2)
    members = _members(db, shop_id)
    ada = members["ada@old.example"]  # matched by customer id: the email we had is kept
    assert (ada.points_available, ada.points_pending, ada.tier) == (800, 200, "Silver")
    assert ada.birthday == date(1904, 6, 22)
    # Pending points stay pending for the program's pending days from the import.
    assert ada.next_unlock_at == NOW + timedelta(days=30)
    assert members["guest@example.com"].points_available == 40
    assert "grace@navy.example" in members
    _ledger_matches_cache(db, shop_id)


def test_a_referral_code_another_member_holds_is_reissued_with_a_note(db: Database) -> None:
    shop_id = _shop(db)
    with db.transaction() as session:
        holder = make_member(session, session.get(Shop, shop_id), email="holder@example.com")
        holder.referral_code = "9QR5PW"
    _, preview = _import(db, shop_id, "smile")
    assert preview["codes_reissued"] == 1
    assert preview["code_notes"] == [
        [2, "referral code 9QR5PW belongs to another member and was not kept"]]
    ada = _members(db, shop_id)["ada@example.com"]
    assert ada.referral_code.startswith("ADA-") and ada.referral_code != "9QR5PW"
    with db.sessions() as session:
        note = session.execute(select(ImportedRow.note).where(
            ImportedRow.member_id == ada.id)).scalar_one()
    assert note == ("referral code 9QR5PW belongs to another member and was not kept: the "
                    f"member's code is {ada.referral_code}")
    assert _members(db, shop_id)["holder@example.com"].referral_code == "9QR5PW"


def _many(count: int) -> str:
    lines = ["email,points_balance,vip_tier,updated_at"]
    lines += [f"c{i}@example.com,{i * 10},Silver,2026-11-0{1 + i % 9}T00:00:00Z"
              for i in range(count)]
    return "\n".join(lines) + "\n"


def test_a_run_that_fails_part_way_resumes_where_it_stopped(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    shop_id = _shop(db)
    monkeypatch.setattr(runs_module, "CHUNK_ROWS", 2)
    run_id, preview = _stage(db, shop_id, "smile", _many(7))
    assert preview["create"] == 7
    with db.sessions() as session:
        assert session.get(ImportRun, run_id).chunk_count == 4
    real = apply_module.apply_rows
    calls = {"n": 0}

    def fail_third_chunk(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(runs_module, "apply_rows", fail_third_chunk)
    with db.transaction() as session:
        confirm(session, session.get(ImportRun, run_id), NOW)
    with pytest.raises(RuntimeError):
        apply_run(db, run_id, lambda: NOW)
    with db.sessions() as session:
        run = session.get(ImportRun, run_id)
        assert (run.state, run.next_chunk, run.rows_done) == ("failed", 2, 4)
        assert "database went away" in run.error
    assert len(_members(db, shop_id)) == 4
    with db.transaction() as session:
        assert confirm(session, session.get(ImportRun, run_id), NOW)
    assert apply_run(db, run_id, lambda: NOW) == "done"
    members = _members(db, shop_id)
    assert sorted(m.points_available for m in members.values()) == [i * 10 for i in range(7)]
    with db.sessions() as session:
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 6
    _ledger_matches_cache(db, shop_id)


def test_our_export_imports_into_another_shop_with_the_same_members(db: Database) -> None:
    first = _shop(db, "leaving.myshopify.com")
    _import(db, first, "loyaltylion")
    with db.transaction() as session:
        ada = session.execute(select(Member).where(Member.email == "ada@example.com")
                              ).scalar_one()
        ada.last_name = "=HYPERLINK(\"x\")"  # a spreadsheet must not run it
    exported = "".join(member_rows(db.sessions, first))
    second = _shop(db, "arriving.myshopify.com")
    _, preview = _import(db, second, "loyaltyloop", exported)
    assert (preview["create"], preview["refused"]) == (3, 0)

    def facts(shop_id: int) -> list[tuple]:
        return sorted((m.email, m.customer_id, m.first_name, m.last_name, m.points_available,
                       m.points_pending, m.tier, m.referral_code, m.birthday,
                       m.last_activity_at) for m in _members(db, shop_id).values())

    assert '\'=HYPERLINK(""x"")' in exported
    assert facts(second) == facts(first)
    assert "".join(member_rows(db.sessions, second)) == exported
    _ledger_matches_cache(db, second)


def test_the_ledger_export_has_every_entry_of_the_shop_only(db: Database) -> None:
    shop_id = _shop(db)
    other = _shop(db, "other.myshopify.com")
    _import(db, shop_id, "loyaltylion")
    _import(db, other, "smile")
    lines = "".join(ledger_rows(db.sessions, shop_id, NOW)).splitlines()
    assert lines[0] == ("entry_id,customer_id,email,points,kind,status,created_at,"
                        "available_at,order_id,note,source_key")
    body = sorted(line.split(",")[2:6] for line in lines[1:])
    assert body == [["ada@example.com", "200", "import", "pending"],
                    ["ada@example.com", "800", "import", "available"],
                    ["guest@example.com", "40", "import", "available"]]


def test_a_finished_run_drops_its_staged_file(db: Database) -> None:
    shop_id = _shop(db)
    run_id, _ = _import(db, shop_id, "yotpo")
    with db.sessions() as session:
        assert session.execute(select(func.count()).select_from(ImportChunk).where(
            ImportChunk.run_id == run_id)).scalar_one() == 0
        assert preview_of(session.get(ImportRun, run_id))["match"] == 0


def test_a_customer_redaction_discards_files_not_yet_imported(db: Database) -> None:
    shop_id = _shop(db)
    other = _shop(db, "other.myshopify.com")
    run_id, _ = _stage(db, shop_id, "smile")
    other_run, _ = _stage(db, other, "smile")
    _import(db, shop_id, "loyaltylion")
    with db.transaction() as session:
        result = redact_customer(session, "importer.myshopify.com",
                                 {"customer": {"id": 7001, "email": "ada@example.com"}}, NOW)
    assert result.counts["import_files_discarded"] == 1
    with db.transaction() as session:
        run = session.get(ImportRun, run_id)
        assert run.state == "discarded" and not confirm(session, run, NOW)
        assert session.execute(select(func.count()).select_from(ImportChunk).where(
            ImportChunk.run_id == run_id)).scalar_one() == 0
        assert session.get(ImportRun, other_run).state == "staged"
    assert "ada@example.com" not in _members(db, shop_id)


def test_a_guest_claimed_by_a_customer_keeps_its_import_key(db: Database) -> None:
    shop_id = _shop(db)
    with db.transaction() as session:
        make_member(session, session.get(Shop, shop_id), customer_id=555,
                    email="lovelace@example.com")
    _import(db, shop_id, "yotpo")  # Ada's points land on a guest: Yotpo has no customer id
    with db.transaction() as session:
        enrol(session, session.get(Shop, shop_id), now=NOW, customer_id=555,
              email="ada@example.com", first_name="Ada")
    members = _members(db, shop_id)
    assert "lovelace@example.com" not in members  # the guest merged into customer 555
    assert (members["ada@example.com"].customer_id,
            members["ada@example.com"].points_available) == (555, 640)
    before = _snapshot(db, shop_id)
    _import(db, shop_id, "yotpo")
    assert _snapshot(db, shop_id) == before


def test_the_job_applies_a_slice_then_queues_the_rest(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import create_app
    from app.pipeline import enqueue, jobs
    from tests.conftest import app_config

    # The app's runtime: this database, jobs inline (the queue hands its jobs this runtime).
    rt = create_app(app_config(db)).extensions["runtime"]
    shop_id = _shop(db)
    monkeypatch.setattr(runs_module, "CHUNK_ROWS", 2)
    monkeypatch.setattr(jobs, "IMPORT_SLICE_SECONDS", 0.0)  # one chunk per job
    queued: list[str] = []
    real_request = enqueue.import_members

    def counting(run_id, next_chunk):  # noqa: ANN001, ANN202
        job = real_request(run_id, next_chunk)
        queued.append(job.job_id)
        return job

    monkeypatch.setattr(enqueue, "import_members", counting)
    run_id, _ = _stage(db, shop_id, "smile", _many(5))
    with db.transaction() as session:
        confirm(session, session.get(ImportRun, run_id), NOW)
    assert jobs.import_members(rt, run_id) == "importing"
    assert queued == [f"import-{run_id}-{n}" for n in (1, 2)]
    with db.sessions() as session:
        assert session.get(ImportRun, run_id).state == "done"
    assert len(_members(db, shop_id)) == 5


def test_one_job_at_a_time_applies_a_run_and_a_stale_claim_is_taken_over(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import create_app
    from app.pipeline import jobs
    from tests.conftest import app_config

    rt = create_app(app_config(db)).extensions["runtime"]
    shop_id = _shop(db)
    monkeypatch.setattr(runs_module, "CHUNK_ROWS", 2)
    run_id, _ = _stage(db, shop_id, "smile", _many(5))
    with db.transaction() as session:
        run = session.get(ImportRun, run_id)
        confirm(session, run, NOW)
        assert (run.heartbeat_at, run.claimed_by) == (NOW, None)
    from app.db import utcnow

    now = utcnow()  # the job below reads the clock
    assert runs_module.claim_run(db, run_id, "first", now)
    # A second job while the first one beats: it applies nothing.
    assert jobs.import_members(rt, run_id).startswith("skipped")
    assert not runs_module.claim_run(db, run_id, "second", now + timedelta(minutes=4))
    assert runs_module.apply_next_chunk(db, run_id, now, "first")
    with db.sessions() as session:
        assert session.get(ImportRun, run_id).next_chunk == 1
    # The first job's worker dies; after STALE_AFTER another job may claim the run, and the
    # first one, were it alive after all, stops at its next chunk.
    later = now + runs_module.STALE_AFTER + timedelta(seconds=1)
    with db.transaction() as session:
        run = session.get(ImportRun, run_id, with_for_update=True)
        assert runs_module.is_stale(run, later)
        assert runs_module.take_over_stale(run, later)
        assert not runs_module.take_over_stale(run, later)  # queued once
    assert runs_module.claim_run(db, run_id, "second", later)
    assert not runs_module.apply_next_chunk(db, run_id, later, "first")
    assert runs_module.apply_run(db, run_id, lambda: later, claim="second") == "done"
    with db.sessions() as session:
        run = session.get(ImportRun, run_id)
        assert (run.state, run.rows_done, run.claimed_by) == ("done", 5, None)
    assert not runs_module.claim_run(db, run_id, "third", later)  # a done run is nobody's
    assert len(_members(db, shop_id)) == 5
    _ledger_matches_cache(db, shop_id)
