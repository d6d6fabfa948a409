"""member imports: runs, their staged chunks, and the rows applied once per source key

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 12:30:00

A merchant moving from Smile, LoyaltyLion or Yotpo uploads their export; it is staged in
parsed chunks (import_chunks) and previewed, then applied chunk by chunk (import_runs.next_chunk
is the resume point). imported_rows holds one row per source customer, unique per shop, so the
same file imported twice changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'import_runs',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('total_rows', sa.Integer(), nullable=False),
        sa.Column('chunk_count', sa.Integer(), nullable=False),
        sa.Column('next_chunk', sa.Integer(), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('preview', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('actor', sa.String(length=255), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'],
                                name=op.f('fk_import_runs_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs')),
    )
    op.create_index('ix_import_runs_shop_created', 'import_runs', ['shop_id', 'created_at'])
    op.create_table(
        'import_chunks',
        sa.Column('id', BigId, nullable=False),
        sa.Column('run_id', BigId, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('rows', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['import_runs.id'],
                                name=op.f('fk_import_chunks_run_id_import_runs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_chunks')),
        sa.UniqueConstraint('run_id', 'seq', name=op.f('uq_import_chunks_run_id_seq')),
    )
    op.create_table(
        'imported_rows',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('run_id', BigId, nullable=False),
        sa.Column('source_key', sa.String(length=191), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('member_id', BigId, nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'],
                                name=op.f('fk_imported_rows_shop_id_shops'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['run_id'], ['import_runs.id'],
                                name=op.f('fk_imported_rows_run_id_import_runs'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                                name=op.f('fk_imported_rows_member_id_members'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_rows')),
        sa.UniqueConstraint('shop_id', 'source_key',
                            name=op.f('uq_imported_rows_shop_id_source_key')),
    )
    op.create_index('ix_imported_rows_run', 'imported_rows', ['run_id', 'line'])
    op.create_index('ix_imported_rows_member_id', 'imported_rows', ['member_id'])


def downgrade() -> None:
    op.drop_index('ix_imported_rows_member_id', table_name='imported_rows')
    op.drop_index('ix_imported_rows_run', table_name='imported_rows')
    op.drop_table('imported_rows')
    op.drop_table('import_chunks')
    op.drop_index('ix_import_runs_shop_created', table_name='import_runs')
    op.drop_table('import_runs')
