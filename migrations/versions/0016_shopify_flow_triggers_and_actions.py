"""Shopify Flow: triggers to send, action runs applied, tiers held until a date

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 12:40:00

`flow_triggers` is the outbox of flowTriggerReceive calls (one row per event, unique per shop
and event key, written with the change it reports); `flow_action_runs` records each Flow
action run applied (unique per shop and action_run_id, so a resent run changes nothing);
`members.tier_held_until` keeps a tier set by a Flow action until its date.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "flow_triggers",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("shop_id", BigId, sa.ForeignKey("shops.id", ondelete="CASCADE",
                                                  name="fk_flow_triggers_shop_id_shops"),
                  nullable=False),
        sa.Column("member_id", BigId, sa.ForeignKey("members.id", ondelete="CASCADE",
                                                    name="fk_flow_triggers_member_id_members"),
                  nullable=True),
        sa.Column("handle", sa.String(30), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("shop_id", "event_key", name="uq_flow_triggers_shop_id_event_key"),
    )
    op.create_index("ix_flow_triggers_shop_status", "flow_triggers", ["shop_id", "status"])
    op.create_index("ix_flow_triggers_member_id", "flow_triggers", ["member_id"])
    op.create_table(
        "flow_action_runs",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("shop_id", BigId, sa.ForeignKey("shops.id", ondelete="CASCADE",
                                                  name="fk_flow_action_runs_shop_id_shops"),
                  nullable=False),
        sa.Column("member_id", BigId,
                  sa.ForeignKey("members.id", ondelete="CASCADE",
                                name="fk_flow_action_runs_member_id_members"), nullable=True),
        sa.Column("action_run_id", sa.String(100), nullable=False),
        sa.Column("handle", sa.String(30), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("shop_id", "action_run_id", name="uq_flow_action_runs_shop_id_action_run_id"),
    )
    op.create_index("ix_flow_action_runs_member_id", "flow_action_runs", ["member_id"])
    op.add_column("members", sa.Column("tier_held_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("members", "tier_held_until")
    op.drop_index("ix_flow_action_runs_member_id", "flow_action_runs")
    op.drop_table("flow_action_runs")
    op.drop_index("ix_flow_triggers_member_id", "flow_triggers")
    op.drop_index("ix_flow_triggers_shop_status", "flow_triggers")
    op.drop_table("flow_triggers")
