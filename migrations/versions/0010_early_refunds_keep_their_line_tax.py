"""early refunds keep their line tax

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:30:00

A refunds/create payload does not say whether the order's prices include tax. A refund that
arrives before its order is read with a provisional flag; keeping its refunded lines, their tax
and its adjustments apart lets the payment settle it with the order's own `taxes_included`.
Existing rows keep a zero line tax, which settles them exactly as they were recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('order_refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_amount', sa.Numeric(18, 4), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('line_tax', sa.Numeric(18, 4), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('adjustments', sa.Numeric(18, 4), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('taxes_included', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('order_refunds', schema=None) as batch_op:
        batch_op.drop_column('taxes_included')
        batch_op.drop_column('adjustments')
        batch_op.drop_column('line_tax')
        batch_op.drop_column('line_amount')
