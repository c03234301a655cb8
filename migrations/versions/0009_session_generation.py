"""session generations on accounts; failed sign-ins counted per address and hour

Revision ID: 8a3d5e0c1b27
Revises: 0d8a7c3e5b21
Create Date: 2026-12-06 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8a3d5e0c1b27'
down_revision = '0d8a7c3e5b21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='1', nullable=False))
    op.create_table(
        'sign_in_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('hour', sa.String(length=13), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures')),
        sa.UniqueConstraint('address', 'hour', name=op.f('uq_sign_in_failures_address')),
    )


def downgrade():
    op.drop_table('sign_in_failures')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
