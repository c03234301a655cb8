"""The ballot box (投票箱): counting sealed ballots (开箱) in shuffled batches, and closing.

Redeeming a code (surveys/ballots.py) only seals the ballot into ``ballot_box``.
A *count* moves sealed ballots of one evaluation × rater group into ``ballot``,
``answer`` and the running tallies, in one transaction that

* decrypts the batch and refuses (never counts) a row that fails authentication,
* shuffles it with the OS's CSPRNG and writes it with one multi-row INSERT per
  table, so the rows of a batch share one transaction stamp, one command stamp
  and a random physical order,
* deletes those box rows — all or nothing.

Every count adds at least k = the evaluation's ``min_ballots`` ballots: it runs
when the box holds 2k or more and leaves k sealed, and the *final* count (at
close, or once the evaluation no longer accepts ballots) takes the rest. So a
counted ballot hides among the ≥ k codes redeemed since the previous count, and
every published figure moves in steps of ≥ k ballots: reloading a page before
and after a colleague votes shows a batch, never a person.

Closing also *scrubs*: the evaluation's ballots, answers and tallies are
rewritten in one transaction in random order, so not even the batches stay
visible in PostgreSQL's ``xmin``/``cmin``/``ctid`` or SQLite's cell order; on
SQLite the write-ahead log is checkpointed and truncated after every count.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Iterable

from flask import current_app
from sqlalchemy import bindparam, delete, func, insert, select, text, update  # noqa: F401

from extensions import db
from models import (
    Answer, AuditLog, Ballot, BallotTally, Evaluation, EvaluationStatus, PolarityTally, SealedBallot, Tally,
    bump_data_version, utcnow,
)

from . import tallies
from .seal import Damaged, unseal

#: Never count fewer than this many ballots at once, whatever an evaluation's min_ballots says.
MIN_BATCH = 2
#: Rows per INSERT when a close rewrites thousands (bound parameters are limited per statement).
CHUNK = 1000
#: First key of the PostgreSQL advisory locks that serialise counting per evaluation.
_LOCK_CLASS = 0x0CE9
_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Counted:
    """What one count did: ballots counted, box rows found damaged, ballots left sealed."""

    counted: int = 0
    damaged: int = 0
    left: int = 0


def batch_size(min_ballots) -> int:
    """k: the fewest ballots one count may add (the evaluation's minimum, at least MIN_BATCH)."""
    return max(int(min_ballots or 0), MIN_BATCH)


def _begin(final: bool) -> None:
    """Start the count's transaction holding the lock that keeps counts of one evaluation apart.

    SQLite: BEGIN IMMEDIATE takes the single write lock before anything is read,
    so the box cannot change between reading it and deleting from it.
    PostgreSQL: an advisory lock per evaluation (taken in :func:`_lock_evaluation`);
    a final count also waits for every redeeming transaction in flight (SHARE
    lock on ballot_code), so no ballot sealed just before the close is left behind.
    """
    session = db.session
    session.rollback()
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")
    elif final:
        conn.execute(text("LOCK TABLE ballot_code IN SHARE MODE"))


def _lock_evaluation(evaluation_id: int) -> None:
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, :e)"), {"c": _LOCK_CLASS, "e": evaluation_id})


def count(evaluation_id: int, rater_group_id: int, final: bool = False) -> Counted:
    """Count sealed ballots of one evaluation × rater group, in their own committed transaction.

    Not final: counts only when the box holds ≥ 2k readable ballots, all but k
    of them. Final (or the evaluation no longer open): counts every readable one.
    """
    _begin(final)
    _lock_evaluation(evaluation_id)
    session = db.session
    evaluation = session.execute(select(Evaluation.status, Evaluation.min_ballots)
                                 .where(Evaluation.id == evaluation_id)).first()
    if evaluation is None:
        session.rollback()
        return Counted()
    final = final or evaluation.status is not EvaluationStatus.OPEN
    k = batch_size(evaluation.min_ballots)
    key = current_app.config["BALLOT_KEY"]
    readable, damaged = [], []
    for box_id, sealed in session.execute(
            select(SealedBallot.id, SealedBallot.sealed).where(
                SealedBallot.evaluation_id == evaluation_id, SealedBallot.rater_group_id == rater_group_id,
                SealedBallot.damaged.is_(False))):
        try:
            readable.append((box_id, *unseal(key, box_id, evaluation_id, rater_group_id, sealed)))
        except Damaged:
            damaged.append(box_id)
    if damaged:
        _set_damaged(evaluation_id, rater_group_id, damaged)
    _random.shuffle(readable)
    take = len(readable) if final else (len(readable) - k if len(readable) >= 2 * k else 0)
    batch = readable[:take]
    if batch:
        _store(evaluation_id, rater_group_id, batch)
    session.commit()
    if batch:
        checkpoint()
    return Counted(len(batch), len(damaged), len(readable) - len(batch))


def is_due(waiting: int, min_ballots) -> bool:
    """True if a box holding ``waiting`` readable ballots has a batch to count: 2k or more.

    Most ballots complete no batch: they should not pay for a write lock and a
    decryption of the whole box. :func:`count` checks again under its lock.
    """
    return waiting >= 2 * batch_size(min_ballots)


def _set_damaged(evaluation_id: int, rater_group_id: int, box_ids: list[str]) -> None:
    """Set damaged rows aside (never counted, kept for inspection) and say so in the audit log."""
    db.session.execute(update(SealedBallot).where(SealedBallot.id.in_(box_ids)).values(damaged=True)
                       .execution_options(synchronize_session=False))
    current_app.logger.error("ballot box: %d sealed ballot(s) of evaluation %d failed authentication",
                             len(box_ids), evaluation_id)
    db.session.execute(insert(AuditLog).values(
        at=utcnow(), username="system", action="box_damaged", target=f"evaluation:{evaluation_id}",
        detail=f'{{"rater_group_id": {int(rater_group_id)}, "count": {len(box_ids)}}}'))


def _store(evaluation_id: int, rater_group_id: int, batch: list) -> None:
    """Insert a shuffled batch as ballots and answers (one statement per table), tally it, empty its box rows."""
    conn = db.session.connection()
    ballots, answers, counted = [], [], []
    for box_id, day, rows in batch:
        ballot_id = secrets.token_hex(16)
        ballots.append({"id": ballot_id, "evaluation_id": evaluation_id, "rater_group_id": rater_group_id,
                        "submitted_on": day})
        answers.extend({"ballot_id": ballot_id, "item_id": item, "seq": seq, "option_id": option, "text": text_}
                       for item, seq, option, text_ in rows)
        counted.append(rows)
    _random.shuffle(answers)
    _insert_rows(conn, Ballot, ballots)
    _insert_rows(conn, Answer, answers)
    tallies.add_ballots(conn, evaluation_id, rater_group_id, counted)
    conn.execute(delete(SealedBallot).where(SealedBallot.id.in_([b[0] for b in batch])))
    bump_data_version(db.session, [evaluation_id])  # the campaign's figures move by this whole batch


#: (table, rows) → its multi-row INSERT: a count's batch has k rows, so a few statements serve every count.
_MULTI_ROW: dict[tuple[str, int], object] = {}


def _insert_rows(conn, model, rows: list[dict]) -> None:
    """Multi-row INSERTs (``VALUES (…), (…)``), CHUNK rows each, in the order given.

    Built once per table and row count with typed bound parameters: SQLAlchemy's
    ``insert().values(list)`` makes a bound parameter object per value on every
    call, which cost more than the database's work for a batch.
    """
    columns = list(model.__table__.columns)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        key = (model.__tablename__, len(chunk))
        statement = _MULTI_ROW.get(key)
        if statement is None:
            names = ", ".join(c.name for c in columns)
            values = ", ".join("(" + ", ".join(f":{c.name}_{i}" for c in columns) + ")" for i in range(len(chunk)))
            statement = text(f"INSERT INTO {model.__tablename__} ({names}) VALUES {values}").bindparams(
                *(bindparam(f"{c.name}_{i}", type_=c.type) for i in range(len(chunk)) for c in columns))
            _MULTI_ROW[key] = statement
        conn.execute(statement, {f"{c.name}_{i}": row.get(c.name) for i, row in enumerate(chunk) for c in columns})


def checkpoint() -> None:
    """SQLite: copy the WAL into the database and cut it to nothing, so it keeps no earlier pages."""
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").close()
    db.session.rollback()


def close(evaluation_ids: Iterable[int]) -> dict[int, int]:
    """Count every sealed ballot of these evaluations and scrub their order; returns ballots counted per evaluation.

    Called once an evaluation stops accepting ballots (closed on the web or the
    CLI, sent to make-up, its report decided, its window over).
    """
    done = {}
    for evaluation_id in sorted(set(int(i) for i in evaluation_ids)):
        groups = db.session.scalars(select(SealedBallot.rater_group_id).distinct()
                                    .where(SealedBallot.evaluation_id == evaluation_id)).all()
        done[evaluation_id] = sum(count(evaluation_id, group, final=True).counted for group in sorted(groups))
        scrub(evaluation_id)
    return done


def scrub(evaluation_id: int) -> None:
    """Rewrite an evaluation's ballots, answers and tallies in one transaction, in random order.

    Afterwards every row of the evaluation carries the same transaction stamp,
    and its physical order (PostgreSQL's ctid and pg_dump order, SQLite's cell
    order) is a fresh random permutation: the batches of counting are gone too.
    """
    _begin(final=False)
    _lock_evaluation(evaluation_id)
    conn = db.session.connection()
    ballots = [dict(r._mapping) for r in conn.execute(select(Ballot).where(Ballot.evaluation_id == evaluation_id))]
    ballot_ids = select(Ballot.id).where(Ballot.evaluation_id == evaluation_id)
    answers = [dict(r._mapping) for r in conn.execute(select(Answer).where(Answer.ballot_id.in_(ballot_ids)))]
    rewritten = []
    for table in (Tally, BallotTally, PolarityTally):
        rows = [dict(r._mapping) for r in conn.execute(select(table).where(table.evaluation_id == evaluation_id))]
        rewritten.append((table, rows))
    conn.execute(delete(Answer).where(Answer.ballot_id.in_(ballot_ids)))
    conn.execute(delete(Ballot).where(Ballot.evaluation_id == evaluation_id))
    for table, rows in rewritten:
        conn.execute(delete(table).where(table.evaluation_id == evaluation_id))
    for rows in (ballots, answers):
        _random.shuffle(rows)
    _insert_rows(conn, Ballot, ballots)
    _insert_rows(conn, Answer, answers)
    for table, rows in rewritten:
        _random.shuffle(rows)
        _insert_rows(conn, table, rows)
    db.session.commit()
    checkpoint()


def sealed_counts(evaluation_ids: Iterable[int]) -> dict[int, int]:
    """Sealed, not yet counted ballots per evaluation (damaged rows excluded)."""
    ids = list(evaluation_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(SealedBallot.evaluation_id, func.count()).where(
        SealedBallot.evaluation_id.in_(ids), SealedBallot.damaged.is_(False)).group_by(SealedBallot.evaluation_id))
    return {e: n for e, n in rows}


def settle(evaluation_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Close the box of every evaluation that no longer accepts ballots but still holds sealed ones.

    Those are evaluations closed or back in draft, and open ones whose window
    has ended (the redeeming UPDATE refuses ballots after ``closes_at``).
    Returns ballots counted per evaluation settled; cheap when there is nothing to do.
    """
    query = (select(SealedBallot.evaluation_id).distinct()
             .join(Evaluation, Evaluation.id == SealedBallot.evaluation_id)
             .where(SealedBallot.damaged.is_(False),
                    (Evaluation.status != EvaluationStatus.OPEN) | (Evaluation.closes_at <= utcnow())))
    if evaluation_ids is not None:
        query = query.where(SealedBallot.evaluation_id.in_(list(evaluation_ids)))
    due = list(db.session.scalars(query))
    return close(due) if due else {}
