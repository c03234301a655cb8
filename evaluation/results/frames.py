"""Load the tallies of a set of evaluations into the DataFrames ``analysis/`` expects.

Each frame comes from one SQL query over the whole set. Answer counts come
from the running tallies, which counting the ballot box (surveys/box.py) updates
in the same transaction as the ballots it stores: after a crash they still equal
the stored ballots (``flask --app app recount`` checks this on demand). The
cost grows with the number of (unit × item × group × option) cells, not with
the number of ballots.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np
import pandas as pd
from sqlalchemy import Integer, String, bindparam, cast, func, literal_column, select

from extensions import db
from models import (
    BallotTally, Evaluation, Item, ItemKind, Option, PolarityTally, Questionnaire, RaterGroup, Tally, Unit, UnitKind,
    evaluation_group,
)

import analysis
from analysis.scoring import POLARITIES
from evaluation.questionnaires.checks import REVIEW_KEY


@dataclass
class Frames:
    """The six input frames of the scoring contract (see analysis/scoring.py)."""

    counts: pd.DataFrame
    ballots: pd.DataFrame
    evaluations: pd.DataFrame
    groups: pd.DataFrame
    items: pd.DataFrame
    units: pd.DataFrame

    def args(self) -> tuple[pd.DataFrame, ...]:
        """Positional arguments for analysis.unit_results() and friends."""
        return self.counts, self.ballots, self.evaluations, self.groups, self.items, self.units


def raw_rows(query, params: Optional[dict] = None) -> list[tuple]:
    """The DBAPI's own tuples for a Core query (with ``params`` for its bound parameters).

    SQLAlchemy still compiles the statement and binds its parameters; only the
    fetch skips building a Row object per row (the columns read here are
    integers, floats and text, which need no result processing).
    """
    result = db.session.connection().execute(query, params)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _read(query, columns: list[str]) -> pd.DataFrame:
    """A frame from a Core query, converted exactly as ``pd.read_sql`` converts it
    (``from_records`` with ``coerce_float``) but without its per-call overhead."""
    return pd.DataFrame.from_records(raw_rows(query), columns=columns, coerce_float=True)


def _int_frame(rows, columns: list[str]) -> Optional[pd.DataFrame]:
    """Integer rows (tuples or a 2-D array) as int64 columns through one numpy array; None if empty."""
    return pd.DataFrame(np.asarray(rows, dtype=np.int64), columns=columns) if len(rows) else None


def _with_units(frame: Optional[pd.DataFrame], evaluations: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Insert ``unit_id`` after ``evaluation_id``; no rows gives the empty frame read_sql gave."""
    if frame is None:
        return pd.DataFrame.from_records([], columns=columns, coerce_float=True)
    found = pd.Index(evaluations["evaluation_id"]).get_indexer(frame["evaluation_id"])
    if (found < 0).any():  # cannot happen (a foreign key); keep what a dict lookup gave
        unit = frame["evaluation_id"].map(dict(zip(evaluations["evaluation_id"], evaluations["unit_id"])))
    else:
        unit = evaluations["unit_id"].to_numpy()[found]
    frame.insert(1, "unit_id", unit)
    return frame


def _tally_cells(ids) -> np.ndarray:
    """evaluation_id, item_id, group_id, option_id, n of every counted scale answer, as int64 columns.

    The 24k cells of a province campaign cost more as Python tuples (five ints each)
    than the database takes to read them, so each evaluation × group comes back as one
    row holding its (item, option, n) triples as text, and numpy parses all of it at
    once: about half the time of fetching the cells as rows, on both engines.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        text = func.string_agg(func.concat_ws(",", Tally.item_id, Tally.option_id, Tally.n), ",")
    else:
        text = func.group_concat(func.printf("%d,%d,%d", Tally.item_id, Tally.option_id, Tally.n), ",")
    rows = raw_rows(
        select(Tally.evaluation_id, Tally.rater_group_id, func.count(), text)
        .where(Tally.evaluation_id.in_(ids), Tally.n > 0,
               Tally.item_id.in_(select(Item.id).where(Item.kind == ItemKind.SCALE)))
        .group_by(Tally.evaluation_id, Tally.rater_group_id))
    if not rows:
        return np.zeros((0, 5), dtype=np.int64)
    evaluation_ids, group_ids, cells, texts = zip(*rows)
    triples = np.fromstring(",".join(texts), dtype=np.int64, sep=",")
    if len(triples) != 3 * sum(cells):
        raise RuntimeError("tally text did not parse into (item, option, n) triples")
    triples = triples.reshape(-1, 3)
    return np.column_stack([np.repeat(np.array(evaluation_ids, dtype=np.int64), cells), triples[:, 0],
                            np.repeat(np.array(group_ids, dtype=np.int64), cells), triples[:, 1], triples[:, 2]])


def _polarity_cells(ids) -> list[tuple]:
    """evaluation_id, item_id, group_id, n_positive, n_negative, n_unknown of every scale item answered.

    Read as the counts keep them (models.PolarityTally): a fifth of the rows of the
    option cells, no join, and the scoring then needs no spread and no groupby over
    options (bench/README.md, section 3: the cost of a campaign's results at 1M ballots).
    """
    t = PolarityTally
    return raw_rows(
        select(t.evaluation_id, t.item_id, t.rater_group_id, t.n_positive, t.n_negative, t.n_unknown)
        .where(t.evaluation_id.in_(ids), t.n_positive + t.n_negative + t.n_unknown > 0)
        .order_by(t.evaluation_id, t.rater_group_id, t.item_id))


def evaluation_id_source(ids: list[int]):
    """A selectable of these evaluation ids bound as ONE parameter.

    ``in_(ids)`` renders one placeholder per id in every query that uses it (272
    per query for a province campaign); an array (PostgreSQL) or a JSON text
    (SQLite) travels as a single value and the statement compiles once.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        # an array literal as text: psycopg would otherwise dump and check every id anew per query
        text = "{" + ",".join(str(int(i)) for i in ids) + "}"
        return select(func.unnest(cast(bindparam("evaluation_ids", text, type_=String), ARRAY(Integer))))
    return select(literal_column("value")).select_from(
        func.json_each(bindparam("evaluation_ids", json.dumps(ids))))


def load_frames(evaluation_ids: Iterable[int], per_option: bool = True) -> Frames:
    """Tally the ballots of these evaluations (one query per frame, the ids bound once).

    ``per_option=False`` reads ``counts`` already summed by polarity (the second shape
    analysis/scoring.py accepts): enough for rates and make-up, not for option shares.
    """
    ids = evaluation_id_source(sorted(set(int(i) for i in evaluation_ids)))
    evaluations = _read(
        select(Evaluation.id, Evaluation.unit_id, Evaluation.threshold,
               Evaluation.min_ballots, Evaluation.questionnaire_id, Evaluation.previous_id)
        .where(Evaluation.id.in_(ids)),
        ["evaluation_id", "unit_id", "threshold", "min_ballots", "questionnaire_id", "previous_id"])
    # Read the running tallies (kept in each ballot's transaction) rather than scanning answers
    # (`flask recount` proves them equal). The unit comes from the evaluation (a foreign key, so
    # every tally has one) and the polarity from its few distinct options.
    if not per_option:
        sums = ["n_positive", "n_negative", "n_unknown"]
        counts = _with_units(_int_frame(_polarity_cells(ids), ["evaluation_id", "item_id", "group_id", *sums]),
                             evaluations, ["evaluation_id", "unit_id", "item_id", "group_id", *sums])
    else:
        counts = _with_units(_int_frame(_tally_cells(ids), ["evaluation_id", "item_id", "group_id", "option_id", "n"]),
                             evaluations, ["evaluation_id", "unit_id", "item_id", "group_id", "option_id", "polarity",
                                           "n"])
    if per_option and len(counts):
        options, where = np.unique(counts["option_id"].to_numpy(), return_inverse=True)
        polarity = dict(raw_rows(select(Option.id, cast(Option.polarity, String))
                                 .where(Option.id.in_(options.tolist()))))
        # map the few distinct options, then spread: the same values and dtype as mapping every row
        # categorical: scoring compares and groups by polarity, which costs less on codes than on strings
        polarity_of_option = pd.Series(options).map(polarity).astype(pd.CategoricalDtype(POLARITIES))
        counts.insert(5, "polarity", polarity_of_option.take(where).reset_index(drop=True))
    ballots = _with_units(_int_frame(raw_rows(
        select(BallotTally.evaluation_id, BallotTally.rater_group_id, BallotTally.n)
        .where(BallotTally.evaluation_id.in_(ids), BallotTally.n > 0)),
        ["evaluation_id", "group_id", "n_ballots"]), evaluations, ["evaluation_id", "unit_id", "group_id", "n_ballots"])
    groups = _read(
        select(RaterGroup.id, RaterGroup.name, RaterGroup.weight)
        .where(RaterGroup.id.in_(select(evaluation_group.c.rater_group_id)
                                 .where(evaluation_group.c.evaluation_id.in_(ids))))
        .order_by(RaterGroup.id),
        ["group_id", "group", "weight"])
    items = _read(
        select(Item.id, Item.text, Item.position)
        .where(Item.questionnaire_id.in_(select(Evaluation.questionnaire_id).where(Evaluation.id.in_(ids))),
               Item.kind == ItemKind.SCALE)
        .order_by(Item.position),
        ["item_id", "text", "position"])
    units = unit_frame(select(Evaluation.campaign_id).where(Evaluation.id.in_(ids)))
    counts = counts.astype(dict.fromkeys(["n"] if per_option else sums, "int64"))
    ballots["n_ballots"] = ballots["n_ballots"].astype("int64")
    groups["weight"] = groups["weight"].astype(float)
    return Frames(counts, ballots, evaluations, groups, items, units)


def unit_frame(campaign_ids) -> pd.DataFrame:
    """Every unit of the campaigns with its committee (walking up the tree in memory)."""
    # Plain tuples (id, parent_id, name, kind as stored): no ORM row or enum per unit.
    rows = raw_rows(select(Unit.id, Unit.parent_id, Unit.name, cast(Unit.kind, String))
                    .where(Unit.campaign_id.in_(campaign_ids)))
    by_id = {r[0]: r for r in rows}

    def committee_of(row):
        seen = 0
        while row is not None and row[3] != UnitKind.COMMITTEE.value and seen < 20:
            row, seen = by_id.get(row[1]), seen + 1
        return row

    records = []
    for r in rows:
        c = committee_of(r)
        records.append({"unit_id": r[0], "unit": r[2], "committee_id": c[0] if c else None,
                        "committee": c[2] if c else None, "kind": r[3], "parent_id": r[1]})
    return pd.DataFrame(records, columns=["unit_id", "unit", "committee_id", "committee", "kind", "parent_id"])


def campaign_evaluation_ids(campaign_id: int, questionnaire_key: Optional[str] = None) -> list[int]:
    """The evaluations of a campaign that the overview scores: one questionnaire key,
    the current round only (an evaluation repeated by a make-up round is left out)."""
    query = (select(Evaluation.id).join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
             .where(Evaluation.campaign_id == campaign_id))
    if questionnaire_key:
        query = query.where(Questionnaire.key == questionnaire_key)
    repeated = select(Evaluation.previous_id).where(Evaluation.previous_id.is_not(None))
    query = query.where(Evaluation.id.not_in(repeated))
    return list(db.session.scalars(query.order_by(Evaluation.id)))


def campaign_keys(campaign_id: int) -> list[str]:
    """Keys of the rated questionnaires a campaign's evaluations use, most used first.

    Only surveys that give satisfaction / democratic-evaluation results (rates, make-up):
    learning tests (kind ``quiz``) are scored against their answers on the quiz page, and
    analysis-report reviews are read beside the verdict on the reports page, so neither
    belongs in the overview's questionnaire choice or its default. Ties go by key, so the
    default does not change from one request to the next.
    """
    return [r[0] for r in db.session.execute(campaign_keys_query(campaign_id)).all()]


def campaign_keys_query(campaign_id):
    """The query of :func:`campaign_keys`: (key, evaluations) in order; ``campaign_id`` may be a bound parameter.

    The overview reads it inside its version query (evaluation/results/overview_cache.py), one round trip fewer.
    """

    return (select(Questionnaire.key, func.count().label("n"))
            .join(Evaluation, Evaluation.questionnaire_id == Questionnaire.id)
            .where(Evaluation.campaign_id == campaign_id, Questionnaire.kind == "survey", Questionnaire.key != REVIEW_KEY)
            .group_by(Questionnaire.key).order_by(func.count().desc(), Questionnaire.key))


def unit_results_for(evaluation_ids: Iterable[int]) -> tuple[Frames, pd.DataFrame]:
    """Frames and the per-unit results (analysis.unit_results) for these evaluations."""
    frames = load_frames(evaluation_ids)
    return frames, analysis.unit_results(*frames.args())
