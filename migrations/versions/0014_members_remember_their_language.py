"""members remember the language their orders were placed in

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 12:30:00

Shopify's orders carry `customer_locale` (fr, fr-CA, en…); the member keeps the latest so their
emails are written in it. Null until an order tells it: the emails are then in English.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("members", sa.Column("locale", sa.String(35), nullable=True))


def downgrade() -> None:
    op.drop_column("members", "locale")
