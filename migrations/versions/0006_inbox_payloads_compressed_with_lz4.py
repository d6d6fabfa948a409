"""inbox payloads compressed with lz4

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:30:00

PostgreSQL compresses the ~15 KB order bodies on insert; pglz spent about 100 µs more per
webhook than lz4 (bench/ingest.py, PostgreSQL 15), for rows a third larger. Only where the
server was built with lz4 (PostgreSQL 14+); elsewhere, and on SQLite, nothing changes.
Existing rows keep their compression; new ones use lz4.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    return bool(bind.execute(sa.text(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals)")).first())


def upgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE webhook_events ALTER COLUMN payload SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE webhook_events ALTER COLUMN payload SET COMPRESSION default")
