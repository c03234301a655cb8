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

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from models import (
    Answer, AuditLog, Ballot, BallotTally, Item, ItemKind, Option, Polarity, PolarityTally, Tally, bump_data_version,
)

#: The audit action recorded by :func:`rebuild`.
REBUILD_ACTION = "tallies_rebuild"


_BALLOT_KEYS = ["evaluation_id", "rater_group_id"]
_ANSWER_KEYS = ["evaluation_id", "rater_group_id", "item_id", "option_id"]
_POLARITY_KEYS = ["evaluation_id", "rater_group_id", "item_id"]
#: PolarityTally's count column for each polarity.
POLARITY_COLUMNS = {Polarity.POSITIVE: "n_positive", Polarity.NEGATIVE: "n_negative", Polarity.UNKNOWN: "n_unknown"}
#: (dialect, table name) → its upsert statement, built once per process.
_UPSERTS: dict[tuple[str, str], object] = {}


def _counts(table) -> list[str]:
    """The count columns of a tally table: everything outside its primary key."""
    return [column.name for column in table.__table__.columns if not column.primary_key]


def _upsert_statement(dialect: str, table, keys: list[str]):
    """INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n (each count column), on both engines (built once)."""
    statement = _UPSERTS.get((dialect, table.__tablename__))
    if statement is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        statement = dialect_insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: getattr(table, name) + getattr(statement.excluded, name) for name in _counts(table)})
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
    _upsert(conn, PolarityTally, _polarity_rows(conn, evaluation_id, rater_group_id, counts), _POLARITY_KEYS)


def _polarity_rows(conn: Connection, evaluation_id: int, rater_group_id: int,
                   counts: Counter) -> list[dict]:
    """The batch's answers to scale items summed by option polarity: one PolarityTally row per item."""
    if not counts:
        return []
    options = {option for _item, option in counts}
    polarity = dict(conn.execute(select(Option.id, Option.polarity).where(Option.id.in_(options))).all())
    scale_items = set(conn.scalars(select(Item.id).where(Item.id.in_({item for item, _o in counts}),
                                                         Item.kind == ItemKind.SCALE)))
    rows: dict[int, dict] = {}
    for (item_id, option_id), n in counts.items():
        if item_id in scale_items:
            row = rows.setdefault(item_id, {"evaluation_id": evaluation_id, "rater_group_id": rater_group_id,
                                            "item_id": item_id, "n_positive": 0, "n_negative": 0, "n_unknown": 0})
            row[POLARITY_COLUMNS[polarity[option_id]]] += n
    return list(rows.values())


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


def polarity_recount_query(evaluation_ids: Optional[Iterable[int]] = None):
    """SELECT of the true answers to scale items per evaluation × group × item, summed by option polarity."""
    sums = [func.coalesce(func.sum(case((Option.polarity == polarity, 1), else_=0)), 0).label(name)
            for polarity, name in POLARITY_COLUMNS.items()]
    query = (select(Ballot.evaluation_id, Ballot.rater_group_id, Answer.item_id, *sums)
             .join(Ballot, Ballot.id == Answer.ballot_id).join(Option, Option.id == Answer.option_id)
             .join(Item, (Item.id == Answer.item_id) & (Item.kind == ItemKind.SCALE))
             .group_by(Ballot.evaluation_id, Ballot.rater_group_id, Answer.item_id))
    if evaluation_ids is not None:
        query = query.where(Ballot.evaluation_id.in_(list(evaluation_ids)))
    return query


def _tables(ids: Optional[list[int]]):
    """(kind, tally table, its key columns, the recount that must equal it) for every running tally."""
    return (("answers", Tally, _ANSWER_KEYS, recount_query(ids)),
            ("ballots", BallotTally, _BALLOT_KEYS, ballot_recount_query(ids)),
            ("polarity", PolarityTally, _POLARITY_KEYS, polarity_recount_query(ids)))


def differences(session: Session, evaluation_ids: Optional[Iterable[int]] = None) -> list[tuple]:
    """Cells where the tallies disagree with a full recount: (kind, key, tallied, recounted)."""
    ids = None if evaluation_ids is None else list(evaluation_ids)
    found = []
    for kind, table, keys, truth in _tables(ids):
        counts = _counts(table)
        stored_query = select(*(getattr(table, k) for k in keys), *(getattr(table, c) for c in counts))
        if ids is not None:
            stored_query = stored_query.where(table.evaluation_id.in_(ids))
        width = len(keys)
        zero = (0,) * len(counts)
        stored = {tuple(r[:width]): tuple(r[width:]) for r in session.execute(stored_query)}
        counted = {tuple(r[:width]): tuple(r[width:]) for r in session.execute(truth)}
        for key in sorted(set(stored) | set(counted)):
            mine, true = stored.get(key, zero), counted.get(key, zero)
            if mine != true:
                found.append((kind, key, mine[0] if len(mine) == 1 else mine, true[0] if len(true) == 1 else true))
    return found


def rebuild(session: Session, evaluation_ids: Optional[Iterable[int]] = None) -> None:
    """Replace the tallies of these evaluations (or all) by a full recount, in the caller's transaction.

    Used after bulk loads that bypass the ballot path (the demo, benchmarks)
    and by ``recount --fix``.
    """
    ids = None if evaluation_ids is None else list(evaluation_ids)
    for _kind, table, keys, truth in _tables(ids):
        columns = [*keys, *_counts(table)]
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
