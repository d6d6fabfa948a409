"""Alembic environment over plain SQLAlchemy: no Flask app needed."""

from __future__ import annotations

import os

from alembic import context

from app import models  # noqa: F401 - registers every table on Base.metadata
from app.db import Base, make_engine

config = context.config
url = config.attributes.get("database_url") or os.environ.get(
    "DATABASE_URL", "sqlite:///instance/loyalty.db")


def run_migrations() -> None:
    """Run migrations on a live connection (batch mode lets SQLite alter tables)."""
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=Base.metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
