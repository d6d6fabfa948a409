"""daily roll-ups for the effect and cohort pages

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 16:00:00

`holdout_days`: customers assigned per shop, UTC day and holdout group; `holdout_day_offsets`:
what they did each day after (orders, revenue and their squares, points), so the effect page
answers any follow-up period from sums; `cohort_cells`: the cohort heat maps' counts;
`insight_rollups`: how far each shop's roll-ups reach. The daily round fills them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AMOUNT = sa.Numeric(24, 4)
SQUARES = sa.Numeric(38, 8)


def _shop() -> sa.Column:
    return sa.Column("shop_id", BigId, sa.ForeignKey("shops.id", ondelete="CASCADE"),
                     nullable=False, primary_key=True)


def upgrade() -> None:
    op.create_table(
        "holdout_days", _shop(),
        sa.Column("day", sa.Date(), nullable=False, primary_key=True),
        sa.Column("holdout_group", sa.String(16), nullable=False, primary_key=True),
        sa.Column("customers", sa.Integer(), nullable=False),
    )
    op.create_table(
        "holdout_day_offsets", _shop(),
        sa.Column("day", sa.Date(), nullable=False, primary_key=True),
        sa.Column("holdout_group", sa.String(16), nullable=False, primary_key=True),
        sa.Column("offset_days", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("reached_day", sa.Date(), nullable=False),
        sa.Column("repeaters", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("orders_squares", sa.BigInteger(), nullable=False),
        sa.Column("revenue", AMOUNT, nullable=False),
        sa.Column("revenue_squares", SQUARES, nullable=False),
        sa.Column("order_value_squares", SQUARES, nullable=False),
        sa.Column("points_issued", sa.BigInteger(), nullable=False),
        sa.Column("bonus_points", sa.BigInteger(), nullable=False),
        sa.Column("points_redeemed", sa.BigInteger(), nullable=False),
        sa.Column("points_taken_back", sa.BigInteger(), nullable=False),
        sa.Column("points_expired", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_holdout_day_offsets_reached_day", "holdout_day_offsets",
                    ["reached_day"])
    op.create_table(
        "cohort_cells", _shop(),
        sa.Column("segment", sa.String(16), nullable=False, primary_key=True),
        sa.Column("cohort_month", sa.Date(), nullable=False, primary_key=True),
        sa.Column("months_since", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("repeaters", sa.Integer(), nullable=False),
    )
    op.create_table(
        "insight_rollups", _shop(),
        sa.Column("holdout_through", sa.DateTime(), nullable=True),
        sa.Column("cohorts_through", sa.DateTime(), nullable=True),
        sa.Column("cohorts_timezone", sa.String(64), nullable=True),
        sa.Column("cohorts_from", sa.Date(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("insight_rollups")
    op.drop_table("cohort_cells")
    op.drop_index("ix_holdout_day_offsets_reached_day", table_name="holdout_day_offsets")
    op.drop_table("holdout_day_offsets")
    op.drop_table("holdout_days")
