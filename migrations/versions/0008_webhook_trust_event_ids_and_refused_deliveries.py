"""webhook trust: event ids of destructive topics, and the refused deliveries

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:30:00

app/uninstalled and the privacy topics apply once per X-Shopify-Event-Id as well as once per
webhook id (a partial unique index: order deliveries carry no event id and never touch it).
refused_webhooks keeps every validly signed delivery refused for what it claimed (another
shop in the payload, a destructive topic outside Shopify's retry window) with its reason.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'refused_webhooks',
        sa.Column('id', BigId, nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=False),
        sa.Column('shop_domain', sa.String(length=255), nullable=False),
        sa.Column('named_shop', sa.String(length=255), nullable=True),
        sa.Column('webhook_id', sa.String(length=255), nullable=False),
        sa.Column('shopify_event_id', sa.String(length=255), nullable=True),
        sa.Column('triggered_at', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refused_webhooks')),
    )
    with op.batch_alter_table('refused_webhooks', schema=None) as batch_op:
        batch_op.create_index('ix_refused_webhooks_shop_received',
                              ['shop_domain', 'received_at'], unique=False)
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shopify_event_id', sa.String(length=255), nullable=True))
        batch_op.create_index('uq_webhook_events_shopify_event_id', ['shopify_event_id'],
                              unique=True,
                              postgresql_where=sa.text('shopify_event_id IS NOT NULL'),
                              sqlite_where=sa.text('shopify_event_id IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('uq_webhook_events_shopify_event_id',
                            postgresql_where=sa.text('shopify_event_id IS NOT NULL'),
                            sqlite_where=sa.text('shopify_event_id IS NOT NULL'))
        batch_op.drop_column('shopify_event_id')
    with op.batch_alter_table('refused_webhooks', schema=None) as batch_op:
        batch_op.drop_index('ix_refused_webhooks_shop_received')
    op.drop_table('refused_webhooks')
