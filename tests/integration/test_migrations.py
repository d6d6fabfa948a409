"""The migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, inspect

from app.db import Base


def _drift(db) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_upgrade_head_builds_every_table(db):
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_do_not_drift(db):
    assert _drift(db) == []


def test_a_model_change_without_a_migration_is_caught(db):
    table = Base.metadata.tables["members"]
    extra = Column("forgotten_column", Integer)
    table.append_column(extra)
    try:
        drift = _drift(db)
    finally:
        table._columns.remove(extra)
    assert any(d[0] == "add_column" and d[3].name == "forgotten_column" for d in drift)


def test_inbox_payloads_are_compressed_with_lz4_on_postgresql(pg):
    from sqlalchemy import text

    with pg.engine.connect() as conn:
        method = conn.execute(text(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'webhook_events'::regclass AND attname = 'payload'")).scalar_one()
    assert method == "l"


def test_shops_installed_before_program_states_stay_live_and_new_rows_start_as_drafts(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, text

    from app.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0011")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO shops (domain, currency, timezone, onboarding, installed_at, created_at)"
            " VALUES ('earning.myshopify.com', 'USD', 'UTC', '{}', '2026-03-01 10:00:00',"
            " '2026-02-01 10:00:00'), ('gone.myshopify.com', 'USD', 'UTC', '{}', NULL,"
            " '2026-01-01 09:00:00')"))
    command.upgrade(alembic_config(url), "head")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO shops (domain, currency, timezone, onboarding, created_at)"
            " VALUES ('new.myshopify.com', 'USD', 'UTC', '{}', '2026-12-05 10:00:00')"))
        launched = dict(conn.execute(text("SELECT domain, launched_at FROM shops")).all())
    engine.dispose()
    assert launched == {"earning.myshopify.com": "2026-03-01 10:00:00",
                        "gone.myshopify.com": "2026-01-01 09:00:00",
                        "new.myshopify.com": None}
