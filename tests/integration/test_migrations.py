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
