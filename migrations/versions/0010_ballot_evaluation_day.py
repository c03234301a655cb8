"""ballot index by evaluation and day, replacing the index by evaluation

Revision ID: 4c1f9e2a7d60
Revises: 8a3d5e0c1b27
Create Date: 2026-12-06 18:40:00.000000

The overview's ballots-per-day chart groups a campaign's ballots by day: with
(evaluation_id, submitted_on) in one index the database reads the index alone
instead of every ballot row. The new index serves lookups by evaluation too.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '4c1f9e2a7d60'
down_revision = '8a3d5e0c1b27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_ballot_evaluation_day', 'ballot', ['evaluation_id', 'submitted_on'], unique=False)
    op.drop_index('ix_ballot_evaluation_id', table_name='ballot')


def downgrade():
    op.create_index('ix_ballot_evaluation_id', 'ballot', ['evaluation_id'], unique=False)
    op.drop_index('ix_ballot_evaluation_day', table_name='ballot')
