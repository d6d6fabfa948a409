"""Shared fixtures: a clean database per test on SQLite and on the real PostgreSQL, Redis.

Services are found through TEST_DATABASE_URL and TEST_REDIS_URL (design.md §5). Where one is
unreachable its tests skip, unless CI or REQUIRE_SERVICES is set: then they fail loudly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text

# The email flows register their settings defaults with the program when app.engagement.content
# is imported, as every entry point (the app, the worker, the CLI) does: a test module that
# reaches only the rules gets the same program settings.
import app.engagement.content  # noqa: F401
from app import create_app
from app.db import Base, Database
from app.migrate import upgrade_head

# The local Shopify emulator and a live app server, for every test that wants them; and the
# guard that fails the run if a process a test started outlives it.
pytest_plugins = ["tests.support.emulator_fixture", "tests.support.process_guard"]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SERVICES_REQUIRED = bool(os.environ.get("CI") or os.environ.get("REQUIRE_SERVICES"))

# Long secrets: PyJWT warns on HMAC keys shorter than 32 bytes.
TEST_API_KEY = "loyalty-loop-test-client-id"
TEST_API_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def unavailable(service: str, reason: str) -> None:
    """Skip outside CI; fail when the services are required."""
    message = f"{service} unreachable: {reason}"
    if SERVICES_REQUIRED:
        pytest.fail(message + " (CI/REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(message)


_schemas: dict[str, Database] = {}


@pytest.fixture(scope="session", autouse=True)
def _dispose_databases() -> Iterator[None]:
    yield
    for database in _schemas.values():
        database.dispose()


def _migrated_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Database:
    if backend in _schemas:
        return _schemas[backend]
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        db = Database(url)
    else:
        db = Database(TEST_DATABASE_URL)
        if not db.ping():
            db.dispose()
            unavailable("PostgreSQL", TEST_DATABASE_URL)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade_head(db.url)
    _schemas[backend] = db
    return db


def wipe(db: Database) -> None:
    """Delete every row, children first, so the next test starts clean."""
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
       ) -> Iterator[Database]:
    """A migrated, empty database; the test runs once on each backend."""
    database = _migrated_database(request.param, tmp_path_factory)
    wipe(database)
    yield database
    wipe(database)


@pytest.fixture
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The real PostgreSQL only, for behaviour SQLite cannot show (row locks, concurrency)."""
    database = _migrated_database("postgresql", tmp_path_factory)
    wipe(database)
    yield database
    wipe(database)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The real Redis, its test database flushed before and after."""
    from redis import Redis

    conn = Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1)
    try:
        conn.ping()
    except Exception as exc:  # noqa: BLE001
        unavailable("Redis", f"{TEST_REDIS_URL}: {exc}")
    conn.flushdb()
    yield TEST_REDIS_URL
    conn.flushdb()
    conn.close()


def app_config(db: Database, **extra: object) -> dict[str, object]:
    """Settings overrides every test app shares."""
    return {
        "DATABASE": db, "database_url": db.url, "redis_url": None, "env": "test",
        "shopify_api_key": TEST_API_KEY, "shopify_api_secret": TEST_API_SECRET,
        "shopify_app_url": "https://loyalty.test", **extra,
    }


@pytest.fixture
def app(db: Database):  # noqa: ANN201 - Flask app
    """The app on the test database, jobs inline."""
    return create_app(app_config(db))


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    """A Flask test client."""
    return app.test_client()
