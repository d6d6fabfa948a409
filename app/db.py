"""Engine, sessions and the declarative Base: plain SQLAlchemy 2, usable without Flask."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    MetaData,
    Row,
    Table,
    bindparam,
    cast,
    column,
    create_engine,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Constraint names fixed by convention so Alembic diffs are stable on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

T = TypeVar("T")

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Naive UTC now: the database stores UTC without a zone on both backends."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time as naive UTC, like utcnow: with an offset (`Z`, `+02:00`) converted,
    without one taken as UTC already. ValueError when it is not ISO 8601."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each backend needs."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(_pg_url(url), pool_size=10, max_overflow=20, pool_pre_ping=True)


def _pg_url(url: str) -> str:
    return "postgresql+psycopg://" + url[len("postgresql://"):] \
        if url.startswith("postgresql://") else url


def make_autocommit_engine(url: str, shared: Engine) -> Engine:
    """An engine for single statements that commit themselves (the webhook inbox insert).

    No pre-ping: pinging a pooled connection before each use cost a round trip, about as
    much as the insert itself (bench/ingest.py). A connection that died while pooled fails
    its statement instead, and the caller retries once on a fresh one (inbox.store_once).
    """
    if shared.dialect.name != "postgresql":
        return shared.execution_options(isolation_level="AUTOCOMMIT")
    return create_engine(_pg_url(url), pool_size=2, max_overflow=8,
                         isolation_level="AUTOCOMMIT")


class Database:
    """One engine and its session factory; the app, workers and tests each hold one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit: Engine | None = None

    @property
    def autocommit_engine(self) -> Engine:
        """The engine for self-committing single statements (see make_autocommit_engine)."""
        if self._autocommit is None:
            self._autocommit = make_autocommit_engine(self.url, self.engine)
        return self._autocommit

    @property
    def dialect(self) -> str:
        """Backend name: 'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means unreachable
            return False

    def dispose(self) -> None:
        """Close pooled connections (after fork, at shutdown)."""
        if self._autocommit is not None and self._autocommit.pool is not self.engine.pool:
            self._autocommit.dispose()
        self.engine.dispose()


_process_databases: dict[str, Database] = {}


def database_for(url: str) -> Database:
    """The per-process Database for a URL, for workers that run without a Flask app."""
    db = _process_databases.get(url)
    if db is None:
        db = _process_databases[url] = Database(url)
    return db


def dialect_insert(session: Session) -> Any:
    """The session's dialect's `insert` (both spell ON CONFLICT the same way)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]], *,
                skip_conflicts: bool = False, conflict_columns: list[str] | None = None,
                returning: Sequence[ColumnElement[Any]] = ()) -> list[Row[Any]]:
    """INSERT many rows (every row with the same keys) in one statement; with
    `skip_conflicts`, ON CONFLICT (conflict_columns, else any unique constraint) DO NOTHING.
    Returns the `returning` columns of the rows inserted.

    On PostgreSQL the values travel as one array per column, unnested into the rows
    (`INSERT … SELECT … FROM unnest(…)`): the statement's text is the same whatever the
    number of rows, so psycopg converts it once instead of parsing a VALUES list of thousands
    of placeholders per batch (most of a bulk insert's time in a profile). Elsewhere
    SQLAlchemy's batched `INSERT … VALUES`.
    """
    if not rows:
        return []
    columns = list(rows[0])
    if session.get_bind().dialect.name == "postgresql":
        unnested = _unnested(rows, {name: table.c[name].type for name in columns})
        statement: Any = postgresql.insert(table).from_select(
            columns, select(*(unnested.c[name] for name in columns)))
        if skip_conflicts:
            statement = statement.on_conflict_do_nothing(index_elements=conflict_columns)
        if returning:
            return session.execute(statement.returning(*returning)).all()
        session.execute(statement)
        return []
    statement = sqlite.insert(table)
    if skip_conflicts:
        statement = statement.on_conflict_do_nothing(index_elements=conflict_columns)
    if returning:
        return session.execute(statement.returning(*returning), rows).all()
    session.execute(statement, rows)
    return []


def _unnested(rows: list[dict[str, Any]], types: dict[str, Any]) -> Any:
    """PostgreSQL: the rows as a derived table `given`, one array parameter per column."""
    arrays = [cast(bindparam(f"column_{i}", [row[name] for row in rows],
                             type_=postgresql.ARRAY(kind)), postgresql.ARRAY(kind))
              for i, (name, kind) in enumerate(types.items())]
    return func.unnest(*arrays).table_valued(
        *(column(name, kind) for name, kind in types.items())).render_derived(name="given")


def update_rows(session: Session, table: Table, rows: list[dict[str, Any]],
                types: dict[str, Any], values: Callable[[Any], dict[str, Any]]) -> None:
    """UPDATE many rows by id in one statement: each row's "row_id" names it, and `values`
    maps the given columns (`given.<key>`, typed by `types`, "row_id" among them) to what
    the row's columns become.

    On PostgreSQL `UPDATE … FROM unnest(…) AS given`, one statement and one round trip
    whatever the count; elsewhere an executemany of the same UPDATE.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        given = _unnested(rows, types).c
        session.execute(update(table).where(table.c.id == given.row_id).values(**values(given)))
        return
    given = SimpleNamespace(**{name: bindparam(name, type_=kind) for name, kind in types.items()})
    session.execute(update(table).where(table.c.id == given.row_id).values(**values(given)),
                    rows)


def insert_once(session: Session, entity: type[T], values: dict[str, Any],
                unique: list[str] | None) -> T | None:
    """INSERT … ON CONFLICT (unique) DO NOTHING RETURNING the whole row, as an ORM object;
    None when the row already existed. One statement, not an INSERT and a SELECT.

    `unique` None: a conflict on any unique constraint means None."""
    statement = (dialect_insert(session)(entity).values(**values)
                 .on_conflict_do_nothing(index_elements=unique).returning(entity))
    return session.scalars(statement).one_or_none()


def get_for_shop(session: Session, model: type[T], shop_id: int, row_id: int, *,
                 for_update: bool = False) -> T | None:
    """The row of `model` with that id in this shop only: another shop's id finds nothing.

    Every read of a row by an id that came from outside (a URL, a body, a token) goes through
    here, so the shop scope is never left out.
    """
    entity: Any = model
    query = select(entity).where(entity.id == row_id, entity.shop_id == shop_id)
    if for_update:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()
