"""the sealed ballot box (ballot_box): ballots wait here, encrypted, until counted in batches

Revision ID: c7e1b0a5d4f2
Revises: 1c031dc16e79
Create Date: 2026-12-02 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e1b0a5d4f2'
down_revision = '1c031dc16e79'
branch_labels = None
depends_on = None


def upgrade():
    # WITHOUT ROWID on SQLite (as ballot and answer): no hidden rowid records the order of arrival.
    op.create_table(
        'ballot_box',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('evaluation_id', sa.Integer(), nullable=False),
        sa.Column('rater_group_id', sa.Integer(), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.Column('damaged', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id'], name=op.f('fk_ballot_box_evaluation_id_evaluation')),
        sa.ForeignKeyConstraint(['rater_group_id'], ['rater_group.id'],
                                name=op.f('fk_ballot_box_rater_group_id_rater_group')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_box')),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('ballot_box', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_box_evaluation_id'), ['evaluation_id'], unique=False)


def downgrade():
    # Sealed ballots would be lost with the table: refuse while any wait to be counted.
    bind = op.get_bind()
    waiting = bind.execute(sa.text("SELECT count(*) FROM ballot_box")).scalar()
    if waiting:
        raise RuntimeError(f"{waiting} sealed ballots are not counted yet: close their evaluations first.")
    with op.batch_alter_table('ballot_box', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_box_evaluation_id'))
    op.drop_table('ballot_box')
