"""a randomized holdout: shops run one, members remember their group

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 12:15:00

A shop that runs a holdout keeps its share, its assignment key and when it started and ended
(`shops.holdout_*`); every customer first seen while it runs is assigned once, by a keyed
hash, to the control group or the program, and keeps that group, its time and, for control,
when the merchant ended the holdout (`members.holdout_*`), so the comparison can be made
again at any time. Shops and members from before have none: nobody is held out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shops", sa.Column("holdout_share", sa.Integer(), nullable=False,
                                     server_default="0"))
    op.add_column("shops", sa.Column("holdout_key", sa.String(64), nullable=True))
    op.add_column("shops", sa.Column("holdout_started_at", sa.DateTime(), nullable=True))
    op.add_column("shops", sa.Column("holdout_ended_at", sa.DateTime(), nullable=True))
    op.add_column("members", sa.Column("holdout_group", sa.String(16), nullable=True))
    op.add_column("members", sa.Column("holdout_assigned_at", sa.DateTime(), nullable=True))
    op.add_column("members", sa.Column("holdout_released_at", sa.DateTime(), nullable=True))
    op.create_index("ix_members_shop_holdout", "members",
                    ["shop_id", "holdout_assigned_at"])
    op.create_table(
        "experiments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
        sa.Column("variable", sa.String(64), nullable=False),
        sa.Column("arms", sa.JSON(), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("guardrail_cost", sa.Numeric(18, 4), nullable=False),
        sa.Column("baseline", sa.Numeric(8, 6), nullable=False),
        sa.Column("smallest_effect", sa.Numeric(8, 6), nullable=False),
        sa.Column("sample_per_arm", sa.Integer(), nullable=False),
        sa.Column("assignment_key", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("started_by", sa.String(255), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("adopted_arm", sa.String(8), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_experiments_shop", "experiments", ["shop_id", "started_at"])
    op.create_table(
        "experiment_assignments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("experiment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
        sa.Column("arm", sa.String(8), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("experiment_id", "member_id"),
    )
    op.create_index("ix_experiment_assignments_member", "experiment_assignments", ["member_id"])


def downgrade() -> None:
    op.drop_table("experiment_assignments")
    op.drop_table("experiments")
    op.drop_index("ix_members_shop_holdout", table_name="members")
    for column in ("holdout_released_at", "holdout_assigned_at", "holdout_group"):
        op.drop_column("members", column)
    for column in ("holdout_ended_at", "holdout_started_at", "holdout_key", "holdout_share"):
        op.drop_column("shops", column)
