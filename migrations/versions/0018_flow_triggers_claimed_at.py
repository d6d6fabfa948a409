"""Flow triggers: when a job claimed a row, so a send cut short is retried

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 16:10:00

`flow_triggers.claimed_at` is the time a job took the row (pending → sending): a row still
`sending` long after it was claimed was cut short (a crash, a killed worker) and the sweep
hands it out again. The index on status and time serves that sweep across every shop. Rows
already written keep their status; one stuck in `sending` has no claim time and is retried by
the first sweep.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("flow_triggers", sa.Column("claimed_at", sa.DateTime(), nullable=True))
    op.create_index("ix_flow_triggers_status_created_at", "flow_triggers",
                    ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_flow_triggers_status_created_at", "flow_triggers")
    op.drop_column("flow_triggers", "claimed_at")
