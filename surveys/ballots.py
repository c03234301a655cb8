"""Redeeming a ballot code and storing its ballot, in one transaction.

The one-ballot-per-code guarantee rests on a single conditional UPDATE:
``status: unused → used`` only where the code is still unused and its
evaluation still open. The database serialises concurrent UPDATEs of one row
(PostgreSQL row lock; SQLite's single writer), so exactly one transaction sees
a changed row and goes on to insert the ballot; the others see none and roll
back. Either both the code's use and the ballot are committed, or neither.

Paper ballots keyed in by organisers (:mod:`evaluation.paper`) redeem through
the same :func:`claim_and_store`, which also deletes any paper entry still
held for the code in that same transaction.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Optional, Sequence

from flask import current_app
from sqlalchemy import bindparam, delete, exists, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from models import (
    Answer, Ballot, BallotCode, CodeStatus, Evaluation, EvaluationStatus, PaperEntry, RaterGroup, Unit, random_id,
)

from . import tallies
from .codes import hash_code, normalise_code


class CodeState(enum.Enum):
    """What a code typed by a rater turns out to be."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    VOID = "void"
    USED = "used"
    NOT_OPEN = "not_open"
    READY = "ready"


@dataclass(frozen=True)
class Named:
    """A unit or rater group as the ballot page shows it: its name."""

    name: str


@dataclass(frozen=True)
class EvaluationRef:
    """What the rater flow needs of a code's evaluation (plain values, read with the code)."""

    id: int
    questionnaire_id: int
    status: EvaluationStatus
    opens_at: Optional[dt.datetime]
    closes_at: Optional[dt.datetime]
    unit: Named

    def is_accepting(self, now: Optional[dt.datetime] = None) -> bool:
        """The same rule as :meth:`models.Evaluation.is_accepting`, applied to these values."""
        return Evaluation.is_accepting(self, now)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CodeRow:
    """A stored code with its evaluation and rater group, from one query."""

    code_hash: str
    status: CodeStatus
    rater_group_id: int
    evaluation: EvaluationRef
    rater_group: Named


@dataclass
class CodeLookup:
    """The result of looking a code up: its state and, when known, the stored code."""

    state: CodeState
    code: Optional[CodeRow] = None


_LOOKUP = (select(BallotCode.code_hash, BallotCode.status, BallotCode.rater_group_id, Evaluation.id,
                  Evaluation.questionnaire_id, Evaluation.status, Evaluation.opens_at, Evaluation.closes_at,
                  Unit.name, RaterGroup.name)
           .join(Evaluation, Evaluation.id == BallotCode.evaluation_id).join(Unit, Unit.id == Evaluation.unit_id)
           .join(RaterGroup, RaterGroup.id == BallotCode.rater_group_id)
           .where(BallotCode.code_hash == bindparam("b_code")))


def lookup(raw_code: Optional[str]) -> CodeLookup:
    """Find the code a rater typed and say whether it can admit a ballot now."""
    code = normalise_code(raw_code)
    if code is None:
        return CodeLookup(CodeState.MALFORMED)
    # One row of plain columns for the code, its evaluation, unit and rater group (the page shows
    # them all): no lazy load of each, and no ORM objects to build per request.
    found = db.session.connection().execute(
        _LOOKUP, {"b_code": hash_code(code, current_app.config["CODE_KEY"])}).first()
    if found is None:
        return CodeLookup(CodeState.UNKNOWN)
    code_hash, status, group_id, evaluation_id, questionnaire_id, state, opens, closes, unit, group = found
    row = CodeRow(code_hash, status, group_id,
                  EvaluationRef(evaluation_id, questionnaire_id, state, opens, closes, Named(unit)), Named(group))
    if row.status is CodeStatus.VOID:
        return CodeLookup(CodeState.VOID, row)
    if row.status is CodeStatus.USED:
        return CodeLookup(CodeState.USED, row)
    if not row.evaluation.is_accepting():
        return CodeLookup(CodeState.NOT_OPEN, row)
    return CodeLookup(CodeState.READY, row)


class SubmitResult(enum.Enum):
    """Outcome of :func:`submit_ballot`."""

    STORED = "stored"
    REJECTED = "rejected"   # code already used or voided, or evaluation closed, meanwhile
    BUSY = "busy"           # the database refused (locked, unreachable); nothing was stored


def today() -> dt.date:
    """The date stored on a ballot: the day only, never the time."""
    return dt.datetime.now(dt.timezone.utc).date()


def claim_and_store(code_hash: str, evaluation_id: int, rater_group_id: int,
                    answers: Sequence[tuple[int, int, Optional[int], Optional[str]]]) -> bool:
    """Inside the caller's transaction: mark the code used and insert its ballot.

    This is the redeeming core shared by the rater flow and paper ballots
    (:mod:`evaluation.paper`). It runs the one conditional UPDATE (unused →
    used, only while the evaluation is open and only for the code's own
    evaluation and rater group); when that changes no row it returns False
    having written nothing, and the caller rolls back. Otherwise it inserts the
    ballot and its answers and deletes any paper entries (纸质票录入) still held
    for the code, so no row linking the code to answers outlives the ballot.
    The caller commits — together with anything else it added, such as an
    audit entry — or rolls back.
    """
    # The session's own connection and transaction, without the ORM layer: these are plain
    # Core statements, built once (below) so each ballot only binds its values. Flush first, as
    # session.execute did: rows a caller added (a paper entry) must be written before the DELETE.
    db.session.flush()
    conn = db.session.connection()
    # (UPDATE reserves the column names for its SET clause, hence the b_ names.)
    key = {"b_code": code_hash, "b_evaluation": evaluation_id, "b_group": rater_group_id}
    if conn.execute(_CLAIM, key).rowcount != 1:
        return False
    _blur_code_rows(conn, key)
    ballot_id = random_id()
    conn.execute(_INSERT_BALLOT, {"id": ballot_id, "evaluation_id": evaluation_id, "rater_group_id": rater_group_id,
                                  "submitted_on": today()})
    if answers:
        conn.execute(_INSERT_ANSWER, [
            {"ballot_id": ballot_id, "item_id": item_id, "seq": seq, "option_id": option_id, "text": text}
            for item_id, seq, option_id, text in answers
        ])
    conn.execute(_DELETE_PAPER, key)
    tallies.add_ballot(conn, evaluation_id, rater_group_id, answers)
    return True


# The redeeming statements, built once: a ballot binds only its values, and SQLAlchemy
# reuses each statement's compiled form instead of building and keying a new one per ballot.
_CLAIM = (update(BallotCode)
          .where(BallotCode.code_hash == bindparam("b_code"), BallotCode.status == CodeStatus.UNUSED,
                 BallotCode.evaluation_id == bindparam("b_evaluation"),
                 BallotCode.rater_group_id == bindparam("b_group"),
                 exists().where(Evaluation.id == BallotCode.evaluation_id, Evaluation.status == EvaluationStatus.OPEN))
          .values(status=CodeStatus.USED))
_INSERT_BALLOT = insert(Ballot)
_INSERT_ANSWER = insert(Answer)
_DELETE_PAPER = delete(PaperEntry).where(PaperEntry.code_hash == bindparam("b_code"))
_SAME_GROUP = (BallotCode.evaluation_id == bindparam("b_evaluation"),
               BallotCode.rater_group_id == bindparam("b_group"),
               BallotCode.status == CodeStatus.USED, BallotCode.code_hash != bindparam("b_code"))
_LOCK_GROUP = select(BallotCode.code_hash).where(*_SAME_GROUP).order_by(BallotCode.code_hash).with_for_update()
_BLUR_GROUP = update(BallotCode).where(*_SAME_GROUP).values(status=CodeStatus.USED)


def _blur_code_rows(conn, key: dict) -> None:
    """On PostgreSQL, rewrite every used code of this evaluation and group in this transaction.

    PostgreSQL stamps each row with the id of the transaction that wrote it
    (``xmin``). The code's UPDATE and the ballot's INSERT share a transaction,
    so without this ``ballot.xmin = ballot_code.xmin`` would single out the
    ballot's code. Rewriting all used codes of the same evaluation and rater
    group gives them all this transaction's stamp: the newest ballot then
    matches every used code it could have come from (the evaluation and group
    are on the ballot anyway), and older ballots match none. SQLite keeps no
    such stamp. Cost: one row per earlier ballot of the group, per ballot.

    ``key`` binds the ballot's code (b_code), evaluation (b_evaluation) and group (b_group).
    """
    if conn.dialect.name != "postgresql":
        return
    # Lock in key order first: each rewrite moves rows on disk, so two ballots
    # scanning in physical order could lock them in different orders and deadlock.
    conn.execute(_LOCK_GROUP, key).close()  # the rows are locked; nothing to read
    conn.execute(_BLUR_GROUP, key)


def submit_ballot(code_hash: str, evaluation_id: int, rater_group_id: int,
                  answers: Sequence[tuple[int, int, Optional[int], Optional[str]]]) -> SubmitResult:
    """Mark the code used and store its ballot with ``answers``, all or nothing.

    ``answers`` are ``(item_id, seq, option_id, text)`` rows already validated
    against the questionnaire. Returns STORED exactly once per code.
    """
    session = db.session
    # End any read transaction left by the page so the redeeming transaction
    # starts with its write (SQLite then waits for the lock instead of failing).
    session.rollback()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if not claim_and_store(code_hash, evaluation_id, rater_group_id, answers):
                session.rollback()
                return SubmitResult.REJECTED
            session.commit()
            return SubmitResult.STORED
        except SQLAlchemyError as error:
            session.rollback()
            # Everything was rolled back, so a deadlock victim can simply try again.
            if attempt < ATTEMPTS and _retryable(error):
                continue
            current_app.logger.warning("ballot not stored: database error", exc_info=True)
            return SubmitResult.BUSY
    return SubmitResult.BUSY


ATTEMPTS = 3
_RETRYABLE = {"40P01", "40001"}  # PostgreSQL deadlock_detected, serialization_failure


def _retryable(error: SQLAlchemyError) -> bool:
    """True for errors after which the same transaction may succeed if run again."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in _RETRYABLE


def code_state_after_reject(code_hash: str) -> CodeState:
    """Why a submit was rejected: the code's state as the database now says."""
    status = db.session.scalar(select(BallotCode.status).where(BallotCode.code_hash == code_hash))
    if status is CodeStatus.USED:
        return CodeState.USED
    if status is CodeStatus.VOID:
        return CodeState.VOID
    return CodeState.NOT_OPEN
