"""The redeeming statements: the code's one conditional UPDATE and its sealed ballot's INSERT.

The one-ballot-per-code guarantee rests on a single conditional UPDATE:
``status: unused → used`` only where the code is still unused, of this
evaluation and rater group, and its evaluation still open. The database
serialises concurrent UPDATEs of one row (PostgreSQL row lock; SQLite's single
writer), so exactly one transaction sees a changed row and seals the ballot
into ``ballot_box``; the others change nothing.

On PostgreSQL the UPDATE, the INSERT, the removal of a held paper entry and the
question "does the box now hold a batch to count" are one statement (data-
modifying ``WITH`` clauses): one round trip instead of three, and the code row
and the box row then share one command stamp (``cmin``) as well as one
transaction stamp. A data-modifying ``WITH`` locks and re-checks the code row
exactly as the UPDATE alone does. SQLite has no data-modifying ``WITH``; there
the same steps are three statements, and a statement costs no round trip.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import Integer, LargeBinary, String, bindparam, delete, exists, false, func, insert, or_, select, update

from models import BallotCode, CodeStatus, Evaluation, EvaluationStatus, PaperEntry, SealedBallot

from . import box


@dataclass(frozen=True)
class Redeemed:
    """A code redeemed in the caller's transaction; ``due``: its box now holds a batch to count."""

    due: bool


def redeem(conn, code_hash: str, evaluation_id: int, rater_group_id: int, box_id: str, sealed: bytes,
           now: dt.datetime) -> Optional[Redeemed]:
    """Claim the code and seal its ballot into the box on ``conn``, in its open transaction.

    Returns None, having written nothing, when the code is not this evaluation ×
    group's unused code or the evaluation does not accept ballots at ``now``.
    A paper entry still held for the code is deleted in the same transaction.
    """
    # (UPDATE reserves the column names for its SET clause, hence the b_ names.)
    key = {"b_code": code_hash, "b_evaluation": evaluation_id, "b_group": rater_group_id, "b_now": now}
    if conn.dialect.name == "postgresql":
        row = conn.execute(_REDEEM, {**key, "b_box": box_id, "b_sealed": sealed}).one()
        if not row.stored:
            return None
        # The statement reads the box as it was before the statement: its own row comes on top.
        return Redeemed(due=box.is_due(row.waiting + 1, row.min_ballots))
    if conn.execute(_CLAIM, key).rowcount != 1:
        return None
    conn.execute(_INSERT_SEALED, {"id": box_id, "evaluation_id": evaluation_id, "rater_group_id": rater_group_id,
                                  "sealed": sealed, "damaged": False})
    after = conn.execute(_AFTER, key).one()
    if after.paper_held:
        conn.execute(_DELETE_PAPER, key)
    return Redeemed(due=box.is_due(after.waiting, after.min_ballots))


# Built once: a ballot binds only its values, and SQLAlchemy reuses each statement's compiled
# form instead of building and keying a new one per ballot.
_OPEN = exists().where(Evaluation.id == BallotCode.evaluation_id, Evaluation.status == EvaluationStatus.OPEN,
                       or_(Evaluation.closes_at.is_(None), Evaluation.closes_at > bindparam("b_now")))
_CLAIM = (update(BallotCode)
          .where(BallotCode.code_hash == bindparam("b_code"), BallotCode.status == CodeStatus.UNUSED,
                 BallotCode.evaluation_id == bindparam("b_evaluation"),
                 BallotCode.rater_group_id == bindparam("b_group"), _OPEN)
          .values(status=CodeStatus.USED))
_INSERT_SEALED = insert(SealedBallot)
# How many readable sealed ballots wait in this evaluation × group's box (counted in the index
# ix_ballot_box_waiting alone), and the evaluation's k: whether this ballot completes a batch.
_WAITING = (select(func.count()).select_from(SealedBallot)
            .where(SealedBallot.evaluation_id == bindparam("b_evaluation"),
                   SealedBallot.rater_group_id == bindparam("b_group"), SealedBallot.damaged.is_(False))
            .scalar_subquery())
_MIN_BALLOTS = select(Evaluation.min_ballots).where(Evaluation.id == bindparam("b_evaluation")).scalar_subquery()
# One read after the INSERT answers both remaining questions: is a paper entry held for the code (rare:
# look before deleting), and does the box now hold a batch to count.
_AFTER = select(exists().where(PaperEntry.code_hash == bindparam("b_code")).label("paper_held"),
                _WAITING.label("waiting"), _MIN_BALLOTS.label("min_ballots"))
_DELETE_PAPER = delete(PaperEntry).where(PaperEntry.code_hash == bindparam("b_code"))


def _one_statement():
    """PostgreSQL: the claim, the sealed row, the paper entry's removal and the box's size, as one statement."""
    claimed = _CLAIM.returning(BallotCode.code_hash).cte("claimed")
    stored = insert(SealedBallot).from_select(
        ["id", "evaluation_id", "rater_group_id", "sealed", "damaged"],
        select(bindparam("b_box", type_=String), bindparam("b_evaluation", type_=Integer),
               bindparam("b_group", type_=Integer), bindparam("b_sealed", type_=LargeBinary), false())
        .select_from(claimed)).returning(SealedBallot.id).cte("stored")
    # Runs whether or not the main query reads it (PostgreSQL runs every data-modifying WITH);
    # deletes nothing unless the code was claimed and a paper entry is held for it.
    paper = delete(PaperEntry).where(PaperEntry.code_hash == bindparam("b_code"),
                                     exists(select(claimed.c.code_hash))).cte("paper")
    return select(select(func.count()).select_from(stored).scalar_subquery().label("stored"),
                  _WAITING.label("waiting"), _MIN_BALLOTS.label("min_ballots")).add_cte(paper)


_REDEEM = _one_statement()
