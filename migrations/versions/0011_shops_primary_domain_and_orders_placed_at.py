"""shops primary domain and orders placed at

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:10:00

Referral links and the store links in emails go to the shop's primary domain (the one its
shoppers know, e.g. teahouse.com), learned at install from Admin GraphQL `shop.primaryDomain`
and kept current by `shop/update`. NULL: not known yet, links use the myshopify.com domain.

An order's own date (its payload's `created_at`) is what the shopper's activity shows for the
order's points; NULL for orders recorded before, which show when their points were recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shops", sa.Column("primary_domain", sa.String(length=255), nullable=True))
    op.add_column("orders", sa.Column("placed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "placed_at")
    op.drop_column("shops", "primary_domain")
