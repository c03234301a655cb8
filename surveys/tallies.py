"""Running tallies: answer counts kept up to date by each count of the ballot box (surveys/box.py).

Reading results then costs a scan of (evaluation × group × item × option)
counts instead of every answer. The counts are never trusted blindly:
:func:`differences` recounts from the stored ballots, ``flask --app app
recount`` reports any difference (and ``--fix`` rebuilds from the ballots),
and a test compares both after concurrent submits.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Iterable, Optional, Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from models import Answer, AuditLog, Ballot, BallotTally, Tally, bump_data_version

#: The audit action recorded by :func:`rebuild`.
REBUILD_ACTION = "tallies_rebuild"


_BALLOT_KEYS = ["evaluation_id", "rater_group_id"]
_ANSWER_KEYS = ["evaluation_id", "rater_group_id", "item_id", "option_id"]
#: (dialect, table name) → its upsert statement, built once per process.
_UPSERTS: dict[tuple[str, str], object] = {}


def _upsert_statement(dialect: str, table, keys: list[str]):
    """INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n, on SQLite and PostgreSQL (built once)."""
    statement = _UPSERTS.get((dialect, table.__tablename__))
    if statement is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        statement = dialect_insert(table)
        statement = statement.on_conflict_do_update(index_elements=keys, set_={"n": table.n + statement.excluded.n})
        _UPSERTS[(dialect, table.__tablename__)] = statement
    return statement


def _upsert(conn: Connection, table, rows: list[dict], keys: list[str]) -> None:
    """Add each row's ``n`` to its counter, creating the counter when it is new."""
    if not rows:
        return
    # A fixed key order means two ballots touching the same rows lock them in the
    # same order, so concurrent ballots wait for each other instead of deadlocking.
    rows = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
    conn.execute(_upsert_statement(conn.dialect.name, table, keys), rows)


def add_ballots(conn: Connection, evaluation_id: int, rater_group_id: int,
                ballots: Sequence[Sequence[tuple[int, int, Optional[int], Optional[str]]]]) -> None:
    """Count a batch of ballots of one evaluation × group, on the caller's connection and in its transaction.

    ``ballots`` holds each ballot's answer rows; one upsert per table adds the whole batch.
    """
    if not ballots:
        return
    _upsert(conn, BallotTally, [{"evaluation_id": evaluation_id, "rater_group_id": rater_group_id,
                                 "n": len(ballots)}], _BALLOT_KEYS)
    counts = Counter((item_id, option_id) for answers in ballots
                     for item_id, _seq, option_id, _text in answers if option_id is not None)
    _upsert(conn, Tally, [
        {"evaluation_id": evaluation_id, "rater_group_id": rater_group_id, "item_id": item_id,
         "option_id": option_id, "n": n}
        for (item_id, option_id), n in counts.items()
    ], _ANSWER_KEYS)


def recount_query(evaluation_ids: Optional[Iterable[int]] = None):
    """SELECT of the true answer counts, grouped from the stored ballots."""
    query = (select(Ballot.evaluation_id, Ballot.rater_group_id, Answer.item_id, Answer.option_id,
                    func.count().label("n"))
             .join(Ballot, Ballot.id == Answer.ballot_id).where(Answer.option_id.is_not(None))
             .group_by(Ballot.evaluation_id, Ballot.rater_group_id, Answer.item_id, Answer.option_id))
    if evaluation_ids is not None:
        query = query.where(Ballot.evaluation_id.in_(list(evaluation_ids)))
    return query


def ballot_recount_query(evaluation_ids: Optional[Iterable[int]] = None):
    """SELECT of the true ballot counts per evaluation × group."""
    query = (select(Ballot.evaluation_id, Ballot.rater_group_id, func.count().label("n"))
             .group_by(Ballot.evaluation_id, Ballot.rater_group_id))
    if evaluation_ids is not None:
        query = query.where(Ballot.evaluation_id.in_(list(evaluation_ids)))
    return query


def differences(session: Session, evaluation_ids: Optional[Iterable[int]] = None) -> list[tuple]:
    """Cells where the tallies disagree with a full recount: (kind, key, tallied, recounted)."""
    ids = None if evaluation_ids is None else list(evaluation_ids)
    found = []
    for kind, table, keys, truth in (
        ("answers", Tally, ("evaluation_id", "rater_group_id", "item_id", "option_id"), recount_query(ids)),
        ("ballots", BallotTally, ("evaluation_id", "rater_group_id"), ballot_recount_query(ids)),
    ):
        stored_query = select(*(getattr(table, k) for k in keys), table.n)
        if ids is not None:
            stored_query = stored_query.where(table.evaluation_id.in_(ids))
        stored = {tuple(r[:-1]): r[-1] for r in session.execute(stored_query)}
        counted = {tuple(r[:-1]): r[-1] for r in session.execute(truth)}
        for key in sorted(set(stored) | set(counted)):
            if stored.get(key, 0) != counted.get(key, 0):
                found.append((kind, key, stored.get(key, 0), counted.get(key, 0)))
    return found


def rebuild(session: Session, evaluation_ids: Optional[Iterable[int]] = None) -> None:
    """Replace the tallies of these evaluations (or all) by a full recount, in the caller's transaction.

    Used after bulk loads that bypass the ballot path (the demo, benchmarks)
    and by ``recount --fix``.
    """
    ids = None if evaluation_ids is None else list(evaluation_ids)
    for table, truth, columns in (
        (Tally, recount_query(ids), ["evaluation_id", "rater_group_id", "item_id", "option_id", "n"]),
        (BallotTally, ballot_recount_query(ids), ["evaluation_id", "rater_group_id", "n"]),
    ):
        wipe = delete(table)
        if ids is not None:
            wipe = wipe.where(table.evaluation_id.in_(ids))
        session.execute(wipe.execution_options(synchronize_session=False))
        session.execute(insert(table).from_select(columns, truth))
    # The only change of tallies outside counting: recorded and, like a count, moving the
    # campaigns' data version (the overview's cache key) in the same transaction.
    detail = json.dumps({"evaluations": "all" if ids is None else len(ids)})
    session.execute(insert(AuditLog).values(action=REBUILD_ACTION, target="tallies", username="system", detail=detail))
    bump_data_version(session, ids)
