"""ballot code index by evaluation and status, replacing the index by evaluation

Revision ID: 7b2e5d9c3a14
Revises: 4c1f9e2a7d60
Create Date: 2026-12-06 19:40:00.000000

Turnout counts each evaluation's used codes. With the index on evaluation_id
alone the database found every code of the campaign in the index and then read
its row for the status: at 1M codes on SQLite, 2.1 s of the overview's 2.4 s.
With (evaluation_id, status) it counts in the index alone (0.13 s). The new
index serves lookups by evaluation as the old one did.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7b2e5d9c3a14'
down_revision = '4c1f9e2a7d60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_ballot_code_evaluation_status', 'ballot_code', ['evaluation_id', 'status'], unique=False)
    op.drop_index('ix_ballot_code_evaluation_id', table_name='ballot_code')


def downgrade():
    op.create_index('ix_ballot_code_evaluation_id', 'ballot_code', ['evaluation_id'], unique=False)
    op.drop_index('ix_ballot_code_evaluation_status', table_name='ballot_code')
