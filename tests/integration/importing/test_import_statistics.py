"""An import into tables PostgreSQL has no statistics for gets them after its first chunk:
without them the already-imported look-up compared every row with every key (a first
100,000-row import into a new database took 280 s of PostgreSQL CPU; bench/imports.py)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, insert, text

from app.db import Database
from app.loyalty.importing.bulk import plan_with_statistics

PROBE = Table("import_statistics_probe", MetaData(), Column("id", Integer, primary_key=True))


def _estimate(session) -> float:
    return session.execute(text("SELECT reltuples FROM pg_class "
                                "WHERE oid = to_regclass('import_statistics_probe')")
                           ).scalar_one()


def test_a_table_without_statistics_is_analyzed_once_it_has_rows(pg: Database) -> None:
    with pg.engine.begin() as connection:
        PROBE.create(connection)
    try:
        with pg.transaction() as session:
            session.execute(insert(PROBE), [{"id": n} for n in range(1, 501)])
            assert _estimate(session) < 0  # never analyzed: the planner guesses
            plan_with_statistics(session, [PROBE])
            assert _estimate(session) == 500
            # With statistics, it is left alone: their estimate follows the table's growth.
            session.execute(insert(PROBE), [{"id": n} for n in range(501, 601)])
            plan_with_statistics(session, [PROBE])
            assert _estimate(session) == 500
    finally:
        with pg.engine.begin() as connection:
            PROBE.drop(connection)

