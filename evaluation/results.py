"""Load the tallies of a set of evaluations into the DataFrames ``analysis/`` expects.

Each frame comes from one SQL query over the whole set. Answer counts come
from the running tallies, which each ballot's own transaction updates: they
commit or vanish together with the ballot, so after a crash they still equal
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
    BallotTally, Evaluation, Item, ItemKind, Option, Questionnaire, RaterGroup, Tally, Unit, UnitKind,
    evaluation_group,
)

import analysis


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


def _int_frame(rows: list[tuple], columns: list[str]) -> Optional[pd.DataFrame]:
    """Integer rows as int64 columns through one numpy array (the big tally frame); None if empty."""
    if not rows:
        return None
    return pd.DataFrame(np.array(rows, dtype=np.int64), columns=columns)


def _with_units(frame: Optional[pd.DataFrame], unit_of: dict, columns: list[str]) -> pd.DataFrame:
    """Insert ``unit_id`` after ``evaluation_id``; no rows gives the empty frame read_sql gave."""
    if frame is None:
        return pd.DataFrame.from_records([], columns=columns, coerce_float=True)
    frame.insert(1, "unit_id", frame["evaluation_id"].map(unit_of))
    return frame


def evaluation_id_source(ids: list[int]):
    """A selectable of these evaluation ids bound as ONE parameter.

    ``in_(ids)`` renders one placeholder per id in every query that uses it (272
    per query for a province campaign); an array (PostgreSQL) or a JSON text
    (SQLite) travels as a single value and the statement compiles once.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return select(func.unnest(bindparam("evaluation_ids", ids, type_=ARRAY(Integer))))
    return select(literal_column("value")).select_from(
        func.json_each(bindparam("evaluation_ids", json.dumps(ids))))


def load_frames(evaluation_ids: Iterable[int]) -> Frames:
    """Tally the ballots of these evaluations (one query per frame, the ids bound once)."""
    ids = evaluation_id_source(sorted(set(int(i) for i in evaluation_ids)))
    evaluations = _read(
        select(Evaluation.id, Evaluation.unit_id, Evaluation.threshold,
               Evaluation.min_ballots, Evaluation.questionnaire_id, Evaluation.previous_id)
        .where(Evaluation.id.in_(ids)),
        ["evaluation_id", "unit_id", "threshold", "min_ballots", "questionnaire_id", "previous_id"])
    unit_of = dict(zip(evaluations["evaluation_id"], evaluations["unit_id"]))
    # Read the running tallies (kept in each ballot's transaction) rather than
    # scanning answers; surveys/tallies.py and `flask recount` prove them equal.
    # Only integers cross the wire: the unit comes from the evaluation (a foreign
    # key, so every tally has one) and the polarity from its few distinct options.
    counts = _with_units(_int_frame(raw_rows(
        select(Tally.evaluation_id, Tally.item_id, Tally.rater_group_id, Tally.option_id, Tally.n)
        .where(Tally.evaluation_id.in_(ids), Tally.n > 0,
               Tally.item_id.in_(select(Item.id).where(Item.kind == ItemKind.SCALE)))),
        ["evaluation_id", "item_id", "group_id", "option_id", "n"]), unit_of,
        ["evaluation_id", "unit_id", "item_id", "group_id", "option_id", "polarity", "n"])
    if len(counts):
        polarity = dict(raw_rows(select(Option.id, cast(Option.polarity, String))
                              .where(Option.id.in_([int(i) for i in counts["option_id"].unique()]))))
        counts.insert(5, "polarity", counts["option_id"].map(polarity))
    ballots = _with_units(_int_frame(raw_rows(
        select(BallotTally.evaluation_id, BallotTally.rater_group_id, BallotTally.n)
        .where(BallotTally.evaluation_id.in_(ids), BallotTally.n > 0)),
        ["evaluation_id", "group_id", "n_ballots"]), unit_of, ["evaluation_id", "unit_id", "group_id", "n_ballots"])
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
    counts["n"] = counts["n"].astype("int64")
    ballots["n_ballots"] = ballots["n_ballots"].astype("int64")
    groups["weight"] = groups["weight"].astype(float)
    return Frames(counts, ballots, evaluations, groups, items, units)


def unit_frame(campaign_ids) -> pd.DataFrame:
    """Every unit of the campaigns with its committee (walking up the tree in memory)."""
    rows = db.session.execute(
        select(Unit.id, Unit.parent_id, Unit.name, Unit.kind).where(Unit.campaign_id.in_(campaign_ids))
    ).all()
    by_id = {r.id: r for r in rows}

    def committee_of(row):
        seen = 0
        while row is not None and row.kind is not UnitKind.COMMITTEE and seen < 20:
            row, seen = by_id.get(row.parent_id), seen + 1
        return row

    records = []
    for r in rows:
        c = committee_of(r)
        records.append({"unit_id": r.id, "unit": r.name, "committee_id": c.id if c else None,
                        "committee": c.name if c else None, "kind": r.kind.value, "parent_id": r.parent_id})
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
    from .reports import REVIEW_KEY  # imported here: reports imports this module

    rows = db.session.execute(
        select(Questionnaire.key, func.count()).join(Evaluation, Evaluation.questionnaire_id == Questionnaire.id)
        .where(Evaluation.campaign_id == campaign_id, Questionnaire.kind == "survey", Questionnaire.key != REVIEW_KEY)
        .group_by(Questionnaire.key).order_by(func.count().desc(), Questionnaire.key)
    ).all()
    return [r[0] for r in rows]


def unit_results_for(evaluation_ids: Iterable[int]) -> tuple[Frames, pd.DataFrame]:
    """Frames and the per-unit results (analysis.unit_results) for these evaluations."""
    frames = load_frames(evaluation_ids)
    return frames, analysis.unit_results(*frames.args())


# --- Results documents: the JSON of the API, the CLI and the exports (issue 3, point 4) ---


class ResultsNotFound(LookupError):
    """No such evaluation, campaign or questionnaire; callers answer 404 or a CLI error."""


def _sorted_documents(frames: Frames, for_liaison: bool = False) -> list[dict]:
    """Per-unit documents (analysis.documents) in a stable order: unit, then evaluation."""
    from analysis.documents import results_document

    return sorted(results_document(*frames.args(), for_liaison=for_liaison),
                  key=lambda d: (d["unit_id"], d["evaluation_id"]))


def evaluation_document(evaluation_id: int, for_liaison: bool = False) -> dict:
    """The results of one evaluation as a JSON-ready dict (its unit in ``units``).

    ``for_liaison`` hides the per-item figures of a unit that is not judged
    (rule 6); checking that the liaison may see the unit is the caller's job.
    """
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise ResultsNotFound(f"测评 {evaluation_id} 不存在 / No evaluation with id {evaluation_id}.")
    return {"evaluation_id": evaluation.id, "campaign_id": evaluation.campaign_id,
            "unit_id": evaluation.unit_id, "questionnaire": evaluation.questionnaire.key,
            "questionnaire_title": evaluation.questionnaire.title, "status": evaluation.status.value,
            "previous_id": evaluation.previous_id, "threshold": evaluation.threshold,
            "min_ballots": evaluation.min_ballots,
            "units": _sorted_documents(load_frames([evaluation.id]), for_liaison)}


def campaign_document(campaign_id: int, questionnaire_key: Optional[str] = None,
                      unit_ids: Optional[set[int]] = None, for_liaison: bool = False) -> dict:
    """A campaign's current-round results for one questionnaire (default: its most used).

    ``units`` has one document per evaluation scored; ``committees`` the roll-up per
    committee (analysis.committee_rollup) as plain records. ``unit_ids`` (a
    liaison's subtree) keeps only those units' evaluations, the roll-up included;
    ``for_liaison`` hides the per-item figures of units that are not judged.
    """
    from analysis.documents import json_records
    from models import Campaign

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise ResultsNotFound(f"活动 {campaign_id} 不存在 / No campaign with id {campaign_id}.")
    keys = campaign_keys(campaign_id)
    if questionnaire_key and questionnaire_key not in keys:
        raise ResultsNotFound(f"本活动没有使用测评表 {questionnaire_key} / Campaign {campaign_id} has no "
                              f"evaluation with questionnaire {questionnaire_key!r} (it uses: {', '.join(keys)}).")
    key = questionnaire_key or (keys[0] if keys else None)
    ids = campaign_evaluation_ids(campaign_id, key) if key else []
    if unit_ids is not None:
        ids = list(db.session.scalars(select(Evaluation.id).where(Evaluation.id.in_(ids),
                                                                  Evaluation.unit_id.in_(unit_ids))))
    frames = load_frames(ids)
    committees = json_records(analysis.committee_rollup(analysis.unit_results(*frames.args())))
    return {"campaign_id": campaign.id, "campaign": campaign.name, "questionnaire": key,
            "questionnaires": keys, "units": _sorted_documents(frames, for_liaison), "committees": committees}


def results_json(document: dict) -> str:
    """Serialise a results document: the exact text of the API response and of the CLI.

    UTF-8 text (no ``\\uXXXX`` for Chinese), NaN refused, and ``< > &`` written as
    ``\\u003c \\u003e \\u0026`` so a unit named ``<script>`` stays inert even if the JSON
    is ever pasted into an HTML page; it still decodes to the same strings.
    """
    import json

    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"
