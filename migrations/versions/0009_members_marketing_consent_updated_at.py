"""members remember when their email marketing consent last changed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:30:00

Consent arrives on customers_email_marketing_consent/update and from Admin GraphQL, in any
order; the time of the consent a member holds lets an older update never overwrite a newer one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("members", sa.Column("marketing_consent_updated_at", sa.DateTime(),
                                       nullable=True))


def downgrade() -> None:
    op.drop_column("members", "marketing_consent_updated_at")
