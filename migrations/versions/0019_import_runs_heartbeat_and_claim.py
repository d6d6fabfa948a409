"""import runs hold a heartbeat and the claim of the job applying them

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 16:00:00

A run being applied records when its last chunk committed (`heartbeat_at`) and which job
holds it (`claimed_by`): a run whose worker died stops beating, and the admin's next look at
it queues a job that takes it over once; a job that finds the run held by another, beating
one, leaves it alone. Runs from before have neither: a running one counts as stale at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_runs", sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
    op.add_column("import_runs", sa.Column("claimed_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_runs") as batch:
        batch.drop_column("claimed_by")
        batch.drop_column("heartbeat_at")
