"""A learning test's score for the person who just took it, from the answers they posted.

Nothing is stored or looked up about the taker: the score is computed from the validated
form (the same rows the sealed ballot holds) against the questionnaire's keys, with the
rules of :mod:`analysis.quiz`, and shown once on the thanks page. The keys of a frozen
questionnaire are read once per process, like its form (:mod:`surveys.structure`).
"""
from __future__ import annotations

import json
from typing import Optional, Sequence

import pandas as pd
from flask import current_app
from sqlalchemy import select

from analysis.quiz import ballot_scores, max_points
from extensions import db
from models import Item, ItemKind, Option

_KEYED = (ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.FILL)
_COLUMNS = ["item_id", "questionnaire_id", "kind", "points", "correct", "accepted"]


def _keys(questionnaire_id: int, frozen: bool) -> pd.DataFrame:
    """One row per scored item: kind, points, correct option ids, accepted answers (two queries)."""
    store = current_app.extensions.setdefault("ceping_frozen", {})
    cached = store.get(("quiz-keys", questionnaire_id))
    if cached is not None:
        return cached
    items = db.session.execute(select(Item.id, Item.kind, Item.points, Item.accepted).where(
        Item.questionnaire_id == questionnaire_id, Item.kind.in_(_KEYED), Item.points.is_not(None))).all()
    correct: dict[int, set[int]] = {}
    for item_id, option_id in db.session.execute(
            select(Item.id, Option.id).join(Option, Option.scale_id == Item.scale_id)
            .where(Item.questionnaire_id == questionnaire_id, Option.correct.is_(True))):
        correct.setdefault(item_id, set()).add(option_id)
    keys = pd.DataFrame([{"item_id": i.id, "questionnaire_id": questionnaire_id, "kind": i.kind.value,
                          "points": float(i.points), "correct": frozenset(correct.get(i.id, ())),
                          "accepted": json.loads(i.accepted or "[]")} for i in items], columns=_COLUMNS)
    if frozen:  # a frozen questionnaire's keys cannot change any more
        store[("quiz-keys", questionnaire_id)] = keys
    return keys


def score(questionnaire_id: int, frozen: bool, pass_mark: float,
          rows: Sequence[tuple[int, int, Optional[int], Optional[str]]]) -> dict:
    """``{"score", "full", "pass_mark", "passed"}`` for one taker's answer rows ``(item, seq, option, text)``."""
    keys = _keys(questionnaire_id, frozen)
    answers = pd.DataFrame([{"ballot_id": 0, "evaluation_id": 0, "unit_id": 0, "item_id": item, "option_id": option,
                             "text": text} for item, _seq, option, text in rows]
                           or [{"ballot_id": 0, "evaluation_id": 0, "unit_id": 0, "item_id": None,
                                "option_id": None, "text": None}])
    points = float(ballot_scores(answers, keys)["score"].iloc[0]) if len(keys) else 0.0
    full = float(max_points(keys).get(questionnaire_id, 0.0)) if len(keys) else 0.0
    return {"score": _shown(points), "full": _shown(full), "pass_mark": _shown(pass_mark),
            "passed": points >= float(pass_mark)}


def _shown(value: float) -> float | int:
    """A number as a page shows it: 85, not 85.0; 72.5 stays (the session stores it as JSON)."""
    value = round(float(value), 1)
    return int(value) if value.is_integer() else value
