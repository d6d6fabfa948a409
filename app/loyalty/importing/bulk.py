"""Bulk reads and writes for imports, the fastest way each database has.

On PostgreSQL rows go in with COPY and look-ups take one array parameter, unnested
(`IN (SELECT unnest(%s))`): a multi-row INSERT or an IN list of 2,000 values is one huge
statement that psycopg parses again for every chunk, and `= ANY(array)` lets a prepared
statement's generic plan scan every member of the shop comparing each with the whole array
(125 s of PostgreSQL CPU for 100,000 rows; bench/imports.py). The unnested array is a
semi-join the planner probes the index with. SQLite takes executemany INSERTs and IN lists at
full speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def one_of(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`, as one array parameter on PostgreSQL."""
    if _postgresql(session):
        column_type = column.type if isinstance(column, Column) else column.expression.type
        return column.in_(select(func.unnest(
            bindparam(None, list(values), type_=ARRAY(column_type)))))
    return column.in_(list(values))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert these rows (all with the same keys) in the session's transaction."""
    if not rows:
        return
    if not _postgresql(session):
        session.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    connection = session.connection().connection.driver_connection
    columns = ", ".join(f'"{name}"' for name in names)
    with connection.cursor() as cursor, cursor.copy(
            f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def plan_with_statistics(session: Session, tables: Sequence[Table]) -> None:
    """ANALYZE those of the tables PostgreSQL has no statistics for (never analyzed, or
    analyzed while empty). The look-ups above are planned from statistics: on a table that
    has none the planner compares every row with every key, and a first 100,000-row import
    into a new database took 280 s of PostgreSQL CPU instead of seconds (bench/imports.py).
    Planned from one ANALYZE, the estimates follow the table as it grows. Without the right
    to analyze, PostgreSQL skips the table with a warning and nothing else changes."""
    if not _postgresql(session):
        return
    for table in tables:
        estimate = session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
            {"name": table.name}).scalar_one_or_none()
        if estimate is not None and estimate <= 0:
            session.execute(text(f'ANALYZE "{table.name}"'))
