"""storefront proxy path per shop

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 09:40:00

A merchant may change the app proxy's prefix and subpath; the app records the path Shopify
signs into proxied requests (`path_prefix`) once it has written it to the app-data metafield
the theme extension reads. NULL: nothing written yet, the blocks use `/apps/loyalty`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shops", sa.Column("proxy_path", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("shops", "proxy_path")
