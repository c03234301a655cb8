"""one first-round evaluation per unit and questionnaire (partial unique index; make-up rounds stay allowed)

Revision ID: 1c031dc16e79
Revises: 53c74941fcfb
Create Date: 2026-11-26 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1c031dc16e79'
down_revision = '53c74941fcfb'
branch_labels = None
depends_on = None

# A first round has no previous_id: partial index, same text on both dialects.
FIRST_ROUND = sa.text('previous_id IS NULL')


def _refuse_duplicates():
    """Stop with a readable list if the data already breaks the new rule.

    Duplicates hold ballots, so picking one to delete or relink is an organiser's
    decision, never a migration's: the upgrade changes nothing and says what to fix.
    """
    bind = op.get_bind()
    first = bind.execute(sa.text(
        "SELECT unit_id, questionnaire_id, count(*) FROM evaluation WHERE previous_id IS NULL "
        "GROUP BY unit_id, questionnaire_id HAVING count(*) > 1")).all()
    if first:
        lines = [f"unit {u}, questionnaire {q}: {n} first-round evaluations" for u, q, n in first]
        raise RuntimeError("同一单位、同一测评表有多个第一轮测评,请先处理后再升级 / Duplicate first-round "
                           "evaluations of one questionnaire for one unit; resolve them, then upgrade again:\n  "
                           + "\n  ".join(lines))


def upgrade():
    _refuse_duplicates()
    # An index only: no table rebuild, so the many foreign keys into evaluation are left alone on SQLite.
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.create_index('uq_evaluation_first_round', ['unit_id', 'questionnaire_id'], unique=True,
                              sqlite_where=FIRST_ROUND, postgresql_where=FIRST_ROUND)


def downgrade():
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_index('uq_evaluation_first_round')
