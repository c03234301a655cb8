"""campaign.data_version: the one number the overview's cache is keyed by

Revision ID: 0d8a7c3e5b21
Revises: c7e1b0a5d4f2
Create Date: 2026-12-06 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0d8a7c3e5b21'
down_revision = 'c7e1b0a5d4f2'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both engines: a batch (copy-and-rename) of campaign would trip the
    # foreign keys of every table that points at it on SQLite.
    op.add_column('campaign', sa.Column('data_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    op.drop_column('campaign', 'data_version')  # SQLite 3.35+ drops a plain column in place
