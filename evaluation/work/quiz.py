"""Learning tests (学习成果测试) on the organiser side: load answers and keys, assemble the pages.

Scoring needs each ballot's answers together (a multiple-choice item is right only
as a whole set), so unlike :mod:`evaluation.results.frames` this loads answer rows, not
tallies — but still with one query for the whole set of evaluations, never one per
ballot. The rules themselves live in :mod:`analysis.quiz`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Optional

import pandas as pd
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from analysis.quiz import ballot_scores, item_marks, item_summary, max_points, pooled_summary, unit_summary
from analysis.quiz_figures import item_share_figure, pass_rate_figure
from extensions import db
from models import Answer, Ballot, Evaluation, Item, ItemKind, Option, Questionnaire, Unit

from evaluation.results.dashboards import figure_json

QUIZ = "quiz"
KEYED_KINDS = (ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.FILL)
KIND_LABELS = {"single": _l("单选"), "multiple": _l("多选"), "fill": _l("填空")}


@dataclass
class QuizFrames:
    """The three inputs of :mod:`analysis.quiz` for a set of quiz evaluations."""

    answers: pd.DataFrame
    keys: pd.DataFrame
    evaluations: pd.DataFrame


def _read(query) -> pd.DataFrame:
    return pd.read_sql(query, db.session.connection())


def is_quiz(evaluation: Evaluation) -> bool:
    """True when the evaluation puts a learning test (a quiz questionnaire)."""
    return evaluation.questionnaire.kind == QUIZ


def quiz_evaluation_ids(campaign_id: int, unit_ids: Optional[set[int]] = None) -> list[int]:
    """The campaign's learning-test evaluations, optionally only those of ``unit_ids``."""
    query = (select(Evaluation.id).join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
             .where(Evaluation.campaign_id == campaign_id, Questionnaire.kind == QUIZ))
    if unit_ids is not None:
        query = query.where(Evaluation.unit_id.in_(unit_ids))
    return list(db.session.scalars(query.order_by(Evaluation.id)))


def load_quiz(evaluation_ids: Iterable[int]) -> QuizFrames:
    """Answers, item keys and evaluations of these quiz evaluations (four queries in all)."""
    ids = sorted({int(i) for i in evaluation_ids})
    # Outer join: a ballot with no answer at all still is a participant (scoring 0).
    answers = _read(
        select(Ballot.id.label("ballot_id"), Ballot.evaluation_id, Evaluation.unit_id, Answer.item_id,
               Answer.option_id, Answer.text)
        .select_from(Ballot).join(Evaluation, Evaluation.id == Ballot.evaluation_id)
        .outerjoin(Answer, Answer.ballot_id == Ballot.id)
        .where(Ballot.evaluation_id.in_(ids))
    )
    evaluations = _read(
        select(Evaluation.id.label("evaluation_id"), Evaluation.unit_id, Unit.name.label("unit"),
               Evaluation.questionnaire_id, Questionnaire.pass_mark, Evaluation.min_ballots)
        .join(Unit, Unit.id == Evaluation.unit_id).join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
        .where(Evaluation.id.in_(ids)).order_by(Evaluation.id)
    )
    questionnaires = select(Evaluation.questionnaire_id).where(Evaluation.id.in_(ids))
    items = db.session.execute(
        select(Item.id, Item.questionnaire_id, Item.kind, Item.points, Item.accepted, Item.text, Item.position)
        .where(Item.questionnaire_id.in_(questionnaires), Item.kind.in_(KEYED_KINDS), Item.points.is_not(None))
        .order_by(Item.questionnaire_id, Item.position)
    ).all()
    correct: dict[int, set[int]] = {}
    for item_id, option_id in db.session.execute(
            select(Item.id, Option.id).join(Option, Option.scale_id == Item.scale_id)
            .where(Item.questionnaire_id.in_(questionnaires), Option.correct.is_(True))):
        correct.setdefault(item_id, set()).add(option_id)
    keys = pd.DataFrame(
        [{"item_id": r.id, "questionnaire_id": r.questionnaire_id, "kind": r.kind.value, "points": float(r.points),
          "correct": frozenset(correct.get(r.id, ())), "accepted": json.loads(r.accepted or "[]"),
          "text": r.text, "position": r.position} for r in items],
        columns=["item_id", "questionnaire_id", "kind", "points", "correct", "accepted", "text", "position"])
    answers["evaluation_id"] = answers["evaluation_id"].astype("int64")
    evaluations["pass_mark"] = evaluations["pass_mark"].astype(float)
    return QuizFrames(answers, keys, evaluations)


def campaign_quiz(campaign_id: int, visible: Optional[set[int]] = None, for_liaison: bool = False) -> dict:
    """The campaign page: per-unit participants, mean and pass rate, a chart, hardest questions.

    ``visible`` (a liaison's subtree) limits everything to those units. For every
    role (``for_liaison`` is kept for callers and changes nothing) a unit with fewer
    participants than its ``min_ballots`` shows only its count of participants and
    is left out of the pooled figures (small groups would expose people, as rule 6
    of the scoring contract says for satisfaction evaluations).
    """
    frames = load_quiz(quiz_evaluation_ids(campaign_id, visible))
    marks = item_marks(frames.answers, frames.keys)  # the costly step, done once
    scores = ballot_scores(frames.answers, frames.keys, marks)
    units = unit_summary(scores, frames.evaluations)
    if True:  # every role: the secret is kept from organisers too
        hidden = ~units["judged"]
        units.loc[hidden, ["mean_score", "pass_rate"]] = float("nan")
        units.loc[hidden, "passed"] = 0
        units = units.sort_values(["pass_rate", "mean_score", "evaluation_id"], ascending=[False, False, True],
                                  na_position="last")
    # (re-sorted above: a hidden unit's place in the order would give its pass rate away)
    pooled_ids = units.loc[units["judged"], "evaluation_id"]
    pooled = frames.evaluations[frames.evaluations["evaluation_id"].isin(pooled_ids)]
    answers = frames.answers[frames.answers["evaluation_id"].isin(pooled["evaluation_id"])]
    items = item_summary(answers, frames.keys, pooled, marks)
    shown = units[units["evaluation_id"].isin(pooled["evaluation_id"])]
    return {
        "units": units.to_dict("records"),
        "items": items[items["participants"] > 0].to_dict("records"),
        "overall": pooled_summary(scores, pooled),
        "pass_marks": sorted(set(frames.evaluations["pass_mark"])),
        "full_marks": sorted(set(max_points(frames.keys))),
        "chart_json": figure_json(pass_rate_figure(shown, translate=gettext))
        if int(shown["participants"].sum()) else None,
    }


def evaluation_quiz(evaluation: Evaluation, for_liaison: bool = False) -> dict:
    """One unit's learning test: its figures and each question's share correct, hardest first.

    For every role, a unit with fewer participants than ``min_ballots`` shows only
    its participant count (``for_liaison`` is kept for callers and changes nothing).
    """
    frames = load_quiz([evaluation.id])
    marks = item_marks(frames.answers, frames.keys)
    unit = unit_summary(ballot_scores(frames.answers, frames.keys, marks), frames.evaluations).to_dict("records")[0]
    withheld = not unit["judged"]
    items = [] if withheld else item_summary(frames.answers, frames.keys, frames.evaluations, marks).to_dict("records")
    full = max_points(frames.keys)
    return {
        "unit": unit, "withheld": withheld, "items": items,
        "full_marks": float(full.get(evaluation.questionnaire_id, 0.0)),
        "chart_json": figure_json(item_share_figure(pd.DataFrame(items), translate=gettext))
        if items and unit["participants"] else None,
    }
