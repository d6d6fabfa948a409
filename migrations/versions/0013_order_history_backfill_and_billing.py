"""order history backfill

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 12:30:00

`backfills`: one run of reading a shop's order history through an Admin GraphQL bulk
operation, with its cursor (`lines_applied`) so a crashed run resumes where it committed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "backfills",
        sa.Column("id", BigId, nullable=False),
        sa.Column("shop_id", BigId, nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("points_days", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("capped_reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bulk_operation_id", sa.String(length=255), nullable=True),
        sa.Column("objects_found", sa.Integer(), nullable=False),
        sa.Column("lines_applied", sa.Integer(), nullable=False),
        sa.Column("orders_recorded", sa.Integer(), nullable=False),
        sa.Column("orders_skipped", sa.Integer(), nullable=False),
        sa.Column("points_awarded", sa.Integer(), nullable=False),
        sa.Column("tier_changes", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_backfills_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfills")),
    )
    op.create_index("ix_backfills_shop", "backfills", ["shop_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_backfills_shop", table_name="backfills")
    op.drop_table("backfills")
