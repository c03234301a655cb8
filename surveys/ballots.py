"""Redeeming a ballot code and storing its ballot, in one transaction.

The one-ballot-per-code guarantee rests on a single conditional UPDATE:
``status: unused → used`` only where the code is still unused and its
evaluation still open. The database serialises concurrent UPDATEs of one row
(PostgreSQL row lock; SQLite's single writer), so exactly one transaction sees
a changed row and goes on to insert the ballot; the others see none and roll
back. Either both the code's use and the ballot are committed, or neither.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Optional, Sequence

from flask import current_app
from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from models import Answer, Ballot, BallotCode, CodeStatus, Evaluation, EvaluationStatus, random_id

from .codes import hash_code, normalise_code


class CodeState(enum.Enum):
    """What a code typed by a rater turns out to be."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    VOID = "void"
    USED = "used"
    NOT_OPEN = "not_open"
    READY = "ready"


@dataclass
class CodeLookup:
    """The result of looking a code up: its state and, when known, the stored row."""

    state: CodeState
    code: Optional[BallotCode] = None


def lookup(raw_code: Optional[str]) -> CodeLookup:
    """Find the code a rater typed and say whether it can admit a ballot now."""
    code = normalise_code(raw_code)
    if code is None:
        return CodeLookup(CodeState.MALFORMED)
    row = db.session.get(BallotCode, hash_code(code, current_app.config["CODE_KEY"]))
    if row is None:
        return CodeLookup(CodeState.UNKNOWN)
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
    try:
        still_open = exists().where(Evaluation.id == BallotCode.evaluation_id,
                                    Evaluation.status == EvaluationStatus.OPEN)
        claimed = session.execute(
            update(BallotCode)
            .where(BallotCode.code_hash == code_hash, BallotCode.status == CodeStatus.UNUSED, still_open)
            .values(status=CodeStatus.USED)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            session.rollback()
            return SubmitResult.REJECTED
        ballot_id = random_id()
        session.execute(insert(Ballot).values(
            id=ballot_id, evaluation_id=evaluation_id, rater_group_id=rater_group_id, submitted_on=today()))
        if answers:
            session.execute(insert(Answer), [
                {"ballot_id": ballot_id, "item_id": item_id, "seq": seq, "option_id": option_id, "text": text}
                for item_id, seq, option_id, text in answers
            ])
        session.commit()
        return SubmitResult.STORED
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.warning("ballot not stored: database error", exc_info=True)
        return SubmitResult.BUSY


def code_state_after_reject(code_hash: str) -> CodeState:
    """Why a submit was rejected: the code's state as the database now says."""
    status = db.session.scalar(select(BallotCode.status).where(BallotCode.code_hash == code_hash))
    if status is CodeStatus.USED:
        return CodeState.USED
    if status is CodeStatus.VOID:
        return CodeState.VOID
    return CodeState.NOT_OPEN
