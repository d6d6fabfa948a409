"""Benchmark: importing a 100,000-row Smile export (target: under a minute, PostgreSQL).

The shop already has 10,000 members (a tenth of the file matches them by email); the file has
tiers, birthdays, referral codes (some taken, so re-issued) and a few bad lines. Timed: staging
with its preview (the file read once, in chunks), then the import (bulk writes, a transaction
per chunk), then the same file again (nothing to do). Also on SQLite for comparison. The
process's peak memory shows the file is never held whole. Wall time depends on what else the
shared machine runs; the CPU seconds of this process and of its PostgreSQL backends do not
(on an idle machine the import takes about their sum: the two mostly take turns).
"""

from __future__ import annotations

import os
import random
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from app.db import Database, utcnow
from app.loyalty.importing.runs import apply_run, confirm, preview_of, stage_file
from app.loyalty.importing.sources import source_named
from app.models import ImportRun, LedgerEntry, Member, Shop
from bench.report import table
from bench.services import BENCH_DATABASE_URL, ensure_schema

SCHEMA = "bench_import"
TIERS = ("", "", "Silver", "Gold")


def write_smile_file(path: Path, rows: int, existing: int) -> None:
    """A Smile customer export of `rows` customers, written line by line."""
    rng = random.Random(17)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("id,first_name,last_name,email,state,date_of_birth,points_balance,"
                  "referral_url,vip_tier,created_at,updated_at\n")
        for i in range(rows):
            email = f"shopper{i}@example.com"
            if i % 997 == 0:
                email = "not-an-email"
            code = f"http://i.refs.cc/SM{i:06d}" if i % 3 else ""
            if i % 1000 == 1:
                code = f"http://i.refs.cc/TAKEN{i % existing}"
            birthday = f"1004-{1 + i % 12:02d}-{1 + i % 28:02d}" if i % 4 == 0 else ""
            out.write(f"{9_000_000 + i},Shopper,{i},{email},member,{birthday},"
                      f"{rng.randint(0, 5000)},{code},{TIERS[i % 4]},2025-01-01T00:00:00Z,"
                      f"2026-{1 + i % 11:02d}-15T10:00:00Z\n")


def _prepare(url: str, existing: int) -> tuple[Database, int]:
    db = Database(url)
    with db.transaction() as session:
        shop = Shop(domain="import-bench.myshopify.com", name="Import bench", currency="USD",
                    installed_at=utcnow(), launched_at=utcnow())
        session.add(shop)
        session.flush()
        session.execute(insert(Member), [
            {"shop_id": shop.id, "customer_id": 5_000_000 + i,
             "email": f"shopper{i * 10}@example.com", "first_name": "Known",
             "referral_code": f"TAKEN{i}", "created_at": utcnow()} for i in range(existing)])
        return db, shop.id


def _backend_cpu(db: Database) -> dict[int, float]:
    """CPU seconds each PostgreSQL backend of this database has used (it runs on this
    machine: /proc), so the figure does not depend on what else the machine runs."""
    if db.dialect != "postgresql":
        return {}
    with db.engine.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity "
                                 "WHERE datname = current_database()")).scalars().all()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return cpu


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time_import(db: Database, shop_id: int, path: Path) -> dict[str, Any]:
    backends, own = _backend_cpu(db), _own_cpu()
    began = time.perf_counter()
    with db.transaction() as session, path.open(newline="", encoding="utf-8") as lines:
        run = stage_file(session, shop_id, source_named("smile"), lines, filename=path.name,
                         actor="bench", now=utcnow())
        preview = preview_of(run)
        confirm(session, run, utcnow())
        run_id = run.id
    staged = time.perf_counter() - began
    state = apply_run(db, run_id, utcnow)
    total = time.perf_counter() - began
    own = _own_cpu() - own
    backend = sum(cpu - backends.get(pid, 0.0) for pid, cpu in _backend_cpu(db).items())
    return {"state": state, "app_cpu_s": round(own, 2), "db_cpu_s": round(backend, 2),
            "stage_s": round(staged, 2), "apply_s": round(total - staged, 2),
            "total_s": round(total, 2), "create": preview["create"], "match": preview["match"],
            "already": preview["already"], "refused": preview["refused"],
            "codes_reissued": preview["codes_reissued"], "run_id": run_id}


def _one_backend(name: str, url: str, path: Path, rows: int, existing: int) -> list[dict]:
    db, shop_id = _prepare(url, existing)
    try:
        first = _time_import(db, shop_id, path)
        second = _time_import(db, shop_id, path)
        with db.sessions() as session:
            entries = session.execute(select(func.count()).select_from(LedgerEntry)
                                      ).scalar_one()
            members = session.execute(select(func.count()).select_from(Member)).scalar_one()
            runs = session.execute(select(func.count()).select_from(ImportRun)).scalar_one()
    finally:
        db.dispose()
    assert runs == 2 and first["state"] == second["state"] == "done"
    return [{"backend": name, "import": label, "rows": rows, **figures,
             "rows_per_s": round(rows / figures["total_s"]), "members_after": members,
             "ledger_entries_after": entries}
            for label, figures in (("first", first), ("same file again", second))]


def run(quick: bool = False) -> dict[str, Any]:
    """Time the import on PostgreSQL and SQLite; returns the figures for the JSON result."""
    rows = 5_000 if quick else 100_000
    existing = rows // 10
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "smile-export.csv"
        write_smile_file(path, rows, existing)
        size = path.stat().st_size
        admin = Database(BENCH_DATABASE_URL)
        try:
            with admin.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        except Exception:  # noqa: BLE001 - no database yet: ensure_schema creates it
            pass
        finally:
            admin.dispose()
        results = _one_backend("postgresql", ensure_schema(SCHEMA), path, rows, existing)
        from app.migrate import upgrade_head

        sqlite_url = f"sqlite:///{folder}/bench.db"
        upgrade_head(sqlite_url)
        results += _one_backend("sqlite", sqlite_url, path, rows, existing)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(table(["backend", "import", "rows", "stage s", "apply s", "total s", "rows/s",
                 "app CPU s", "db CPU s", "created", "matched", "already", "refused",
                 "codes re-issued"],
                [[r["backend"], r["import"], r["rows"], r["stage_s"], r["apply_s"],
                  r["total_s"], r["rows_per_s"], r["app_cpu_s"], r["db_cpu_s"], r["create"],
                  r["match"], r["already"], r["refused"], r["codes_reissued"]]
                 for r in results]))
    print(f"file {size / 1e6:.1f} MB; peak RSS of the process {peak_mb:.0f} MB; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return {"rows": results, "file_bytes": size, "peak_rss_mb": round(peak_mb),
            "load_average_after": os.getloadavg(),
            "at": datetime.now().isoformat(timespec="seconds"),
            "notes": "in-process: stage (parse + preview) then apply, as the CLI runs it; "
                     f"chunks of {2000} rows, one transaction each"}
