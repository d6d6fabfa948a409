"""members carry their arm in the running A/B test

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 16:15:00

Every rule an A/B test can vary (the earning rate, the review request's delay, a reward's
price, an email's subject) asks which arm a member is in; with the arm on the member's row,
members outside a test cost those rules no statement. Set when a member enters a test, cleared
when it ends; existing members are in no running test's arm until they are assigned (tests
running at upgrade time get their arms from their assignments here).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("members", sa.Column("experiment_arm", sa.String(8), nullable=True))
    op.execute(
        "UPDATE members SET experiment_arm = (SELECT a.arm FROM experiment_assignments a "
        "JOIN experiments e ON e.id = a.experiment_id "
        "WHERE a.member_id = members.id AND e.ended_at IS NULL)")


def downgrade() -> None:
    op.drop_column("members", "experiment_arm")
