"""programs start as drafts; shops installed before stay live

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:15:00

A shop's program is a draft until the merchant launches it (`shops.launched_at`): shoppers
see nothing and orders earn nothing. Every shop installed before this revision has been
earning since its install, so it is marked launched at its install (or, lacking one, at its
creation) and keeps working exactly as it did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shops", sa.Column("launched_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE shops SET launched_at = COALESCE(installed_at, created_at)")


def downgrade() -> None:
    op.drop_column("shops", "launched_at")
