"""dashboard daily roll-up

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 16:00:00

`dashboard_days`: each closed local day of a shop, its points and paid orders summed;
`dashboard_day_customers`: the day's paid orders by holdout group and member/guest, counted by
the day of the same customer's previous orders (distinct customers of any period follow);
`dashboard_rollups`: how far each shop's roll-up is built (app/loyalty/rollup.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dashboard_days",
        sa.Column("shop_id", BigId, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("points_issued", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("points_redeemed", sa.BigInteger(), nullable=False),
        sa.Column("points_expired", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("reward_orders", sa.Integer(), nullable=False),
        sa.Column("reward_revenue", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_dashboard_days_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id", "day", name=op.f("pk_dashboard_days")),
    )
    op.create_table(
        "dashboard_day_customers",
        sa.Column("shop_id", BigId, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("holdout_group", sa.String(length=16), nullable=False),
        sa.Column("member", sa.Boolean(), nullable=False),
        sa.Column("earlier_day", sa.Date(), nullable=False),
        sa.Column("after_one", sa.Integer(), nullable=False),
        sa.Column("after_two", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_dashboard_day_customers_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id", "day", "holdout_group", "member", "earlier_day", name=op.f("pk_dashboard_day_customers")),
    )
    op.create_table(
        "dashboard_rollups",
        sa.Column("shop_id", BigId, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("built_through", sa.Date(), nullable=True),
        sa.Column("stale_from", sa.Date(), nullable=True),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_dashboard_rollups_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_dashboard_rollups")),
    )


def downgrade() -> None:
    op.drop_table("dashboard_rollups")
    op.drop_table("dashboard_day_customers")
    op.drop_table("dashboard_days")
