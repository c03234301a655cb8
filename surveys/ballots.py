"""Redeeming a ballot code: the code turns used and its ballot is sealed into the box, in one transaction.

The one-ballot-per-code guarantee rests on a single conditional UPDATE
(surveys/redeem.py): ``status: unused → used`` only where the code is still
unused and its evaluation still open. Exactly one transaction sees a changed
row and goes on to seal the ballot into ``ballot_box``; the others see none and
roll back. Either both the code's use and the sealed ballot are committed, or
neither.

That transaction writes nothing else: no ballot, answer or tally row, and no
time. Whatever the database keeps beside the columns (PostgreSQL's ``xmin``,
``cmin``, ``ctid``; SQLite's WAL frames) can tie the code to that box row only,
and the box row is ciphertext under a key the database does not hold
(surveys/seal.py). Counting (surveys/box.py) later moves sealed ballots into
the ballot tables in shuffled batches of at least ``min_ballots``; the request
that completes a batch runs that count itself, after its own commit.

Paper ballots keyed in by organisers (:mod:`evaluation.codes.paper`) redeem through
the same :func:`claim_and_store`, which also deletes any paper entry still
held for the code in that same transaction.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Optional, Sequence

from flask import current_app
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from models import AnalysisReport, BallotCode, CodeStatus, Evaluation, EvaluationStatus, RaterGroup, Unit, random_id

from . import box, structure
from .codes import hash_code, normalise_code
from .redeem import Redeemed, redeem
from .seal import AnswerRow, padded_size, seal


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
    has_report: bool = False  # an analysis report the ballot page shows (a report review)

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
                  Unit.name, RaterGroup.name,
                  exists().where(AnalysisReport.evaluation_id == Evaluation.id).label("has_report"))
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
    code_hash, status, group_id, evaluation_id, questionnaire_id, state, opens, closes, unit, group, report = found
    row = CodeRow(code_hash, status, group_id,
                  EvaluationRef(evaluation_id, questionnaire_id, state, opens, closes, Named(unit), bool(report)),
                  Named(group))
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
    """The date stored on a ballot: the rater's day in the campaign's zone (CEPING_TIMEZONE), never the time."""
    return _now().astimezone(ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")).date()


def _now() -> dt.datetime:
    """The current moment (UTC); one place for tests to stop the clock."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Sealed:
    """A ballot sealed for the box, before its transaction: the box row's id and ciphertext."""

    box_id: str
    sealed: bytes


def seal_ballot(evaluation_id: int, rater_group_id: int, answers: Sequence[AnswerRow],
                questionnaire_id: Optional[int] = None) -> Sealed:
    """Encrypt a ballot's answers and day for the box, padded to its questionnaire's one size.

    Done before the redeeming transaction starts: it needs the questionnaire
    (frozen while the evaluation is open, so read once per process) and costs
    only CPU, which is better spent outside the lock.
    """
    if questionnaire_id is None:  # the rater flow knows it from the code's lookup; paper entries ask
        questionnaire_id = db.session.scalar(select(Evaluation.questionnaire_id).where(Evaluation.id == evaluation_id))
    if questionnaire_id is None:
        raise LookupError(f"no evaluation {evaluation_id}")
    view = structure.questionnaire(questionnaire_id)
    config = current_app.config
    box_id = random_id()
    pad_to = padded_size(view.items, int(config["TEXT_ANSWER_MAX"]))
    return Sealed(box_id, seal(config["BALLOT_KEY"], box_id, evaluation_id, rater_group_id, today(), answers, pad_to))


def claim_and_store(code_hash: str, evaluation_id: int, rater_group_id: int,
                    answers: Sequence[AnswerRow], sealed: Optional[Sealed] = None) -> Optional[Redeemed]:
    """Inside the caller's transaction: mark the code used and put its sealed ballot into the box.

    This is the redeeming core shared by the rater flow and paper ballots
    (:mod:`evaluation.codes.paper`). It runs the one conditional UPDATE (unused →
    used, only while the evaluation is open and its window not over, and only
    for the code's own evaluation and rater group, surveys/redeem.py); when that
    changes no row it returns None having written nothing, and the caller rolls
    back. Otherwise it inserts the sealed ballot into ``ballot_box`` — the only
    other write — and deletes any paper entries (纸质票录入) still held for the
    code, so no row linking the code to answers outlives the redemption. No
    ballot, answer or tally is written here: counting (surveys/box.py) does that
    later, in batches; the result says whether this ballot completed one. The
    caller commits — together with anything else it added, such as an audit
    entry — or rolls back.
    """
    sealed = sealed or seal_ballot(evaluation_id, rater_group_id, answers)
    # Flush first: rows a caller added (a paper entry) must be written before the DELETE.
    db.session.flush()
    return redeem(db.session.connection(), code_hash, evaluation_id, rater_group_id, sealed.box_id, sealed.sealed,
                  _now())


def submit_ballot(code_hash: str, evaluation_id: int, rater_group_id: int,
                  answers: Sequence[tuple[int, int, Optional[int], Optional[str]]],
                  questionnaire_id: Optional[int] = None) -> SubmitResult:
    """Mark the code used and seal its ballot with ``answers`` into the box, all or nothing.

    ``answers`` are ``(item_id, seq, option_id, text)`` rows already validated
    against the questionnaire. Returns STORED exactly once per code; then
    counts a batch if this ballot completed one.
    """
    session = db.session
    try:
        sealed = seal_ballot(evaluation_id, rater_group_id, answers, questionnaire_id)
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.warning("ballot not stored: database error", exc_info=True)
        return SubmitResult.BUSY
    if db.engine.dialect.name == "sqlite":
        # End the read transaction left by the page so the redeeming transaction starts with
        # its write (SQLite then waits for the lock instead of failing to upgrade a reader).
        # PostgreSQL's row locks need no such care: going on saves a round trip per ballot.
        session.rollback()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            redeemed = claim_and_store(code_hash, evaluation_id, rater_group_id, answers, sealed)
            if redeemed is None:
                session.rollback()
                return SubmitResult.REJECTED
            session.commit()
            if redeemed.due:
                count_due(evaluation_id, rater_group_id)
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


def count_due(evaluation_id: int, rater_group_id: int) -> None:
    """After a ballot that completed a batch is sealed: count the batch (its own transaction).

    The ballot is safely sealed already; a failure here (a busy database) only
    leaves the batch for the next ballot or the close to count, so it is logged,
    never shown to the rater.
    """
    try:
        box.count(evaluation_id, rater_group_id)
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("ballot box: count postponed (database error)", exc_info=True)


def code_state_after_reject(code_hash: str) -> CodeState:
    """Why a submit was rejected: the code's state as the database now says."""
    status = db.session.scalar(select(BallotCode.status).where(BallotCode.code_hash == code_hash))
    if status is CodeStatus.USED:
        return CodeState.USED
    if status is CodeStatus.VOID:
        return CodeState.VOID
    return CodeState.NOT_OPEN
