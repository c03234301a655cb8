"""running tallies by option polarity (polarity_tally), filled from the tallies

Revision ID: 2d6a8f4e1c93
Revises: 7b2e5d9c3a14
Create Date: 2026-12-06 20:00:00.000000

Scoring reads, per evaluation × rater group × scale item, how many answers were
positive, negative or unknown. Summing the per-option tallies by polarity on
every read cost a join and a GROUP BY over all of a campaign's tally rows; the
counts now keep those sums as they count (surveys/tallies.py). This fills the
new table from the existing tallies, so results stay the same across the upgrade.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2d6a8f4e1c93'
down_revision = '7b2e5d9c3a14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'polarity_tally',
        sa.Column('evaluation_id', sa.Integer(), nullable=False),
        sa.Column('rater_group_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('n_positive', sa.Integer(), nullable=False),
        sa.Column('n_negative', sa.Integer(), nullable=False),
        sa.Column('n_unknown', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id'], name=op.f('fk_polarity_tally_evaluation_id_evaluation')),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_polarity_tally_item_id_item')),
        sa.ForeignKeyConstraint(['rater_group_id'], ['rater_group.id'], name=op.f('fk_polarity_tally_rater_group_id_rater_group')),
        sa.PrimaryKeyConstraint('evaluation_id', 'rater_group_id', 'item_id', name=op.f('pk_polarity_tally')),
    )
    # option.polarity and item.kind hold the enums' values (models._enum).
    op.execute(
        "INSERT INTO polarity_tally (evaluation_id, rater_group_id, item_id, n_positive, n_negative, n_unknown) "
        "SELECT t.evaluation_id, t.rater_group_id, t.item_id, "
        "SUM(CASE WHEN o.polarity = 'positive' THEN t.n ELSE 0 END), "
        "SUM(CASE WHEN o.polarity = 'negative' THEN t.n ELSE 0 END), "
        "SUM(CASE WHEN o.polarity = 'unknown' THEN t.n ELSE 0 END) "
        "FROM tally t JOIN option o ON o.id = t.option_id JOIN item i ON i.id = t.item_id AND i.kind = 'scale' "
        "GROUP BY t.evaluation_id, t.rater_group_id, t.item_id")


def downgrade():
    op.drop_table('polarity_tally')
