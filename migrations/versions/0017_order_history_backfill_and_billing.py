"""order history backfill and billing

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 12:30:00

`backfills`: one run of reading a shop's order history through an Admin GraphQL bulk
operation, with its cursor (`lines_applied`) so a crashed run resumes where it committed.
`billing_subscriptions`: the app subscriptions (Shopify's Billing API) the merchant was asked
to approve; `usage_charges`: the usage charged for each closed billing period, once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
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
    op.create_table(
        "billing_subscriptions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("shop_id", BigId, nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shopify_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("usage_line_item_id", sa.String(length=255), nullable=True),
        sa.Column("capped_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("confirmation_url", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"],
                                name=op.f("fk_billing_subscriptions_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_subscriptions")),
        sa.UniqueConstraint("shopify_subscription_id",
                            name=op.f("uq_billing_subscriptions_shopify_subscription_id")),
    )
    op.create_index("ix_billing_subscriptions_shop", "billing_subscriptions", ["shop_id", "id"])
    op.create_table(
        "usage_charges",
        sa.Column("id", BigId, nullable=False),
        sa.Column("shop_id", BigId, nullable=False),
        sa.Column("subscription_id", BigId, nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("orders_counted", sa.Integer(), nullable=False),
        sa.Column("orders_charged", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("shopify_usage_record_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"],
                                name=op.f("fk_usage_charges_shop_id_shops"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscription_id"], ["billing_subscriptions.id"],
                                name=op.f("fk_usage_charges_subscription_id_billing_subscriptions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_charges")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_usage_charges_idempotency_key")),
    )
    op.create_index("ix_usage_charges_subscription", "usage_charges",
                    ["subscription_id", "period_start"])


def downgrade() -> None:
    op.drop_index("ix_usage_charges_subscription", table_name="usage_charges")
    op.drop_table("usage_charges")
    op.drop_index("ix_billing_subscriptions_shop", table_name="billing_subscriptions")
    op.drop_table("billing_subscriptions")
    op.drop_index("ix_backfills_shop", table_name="backfills")
    op.drop_table("backfills")
