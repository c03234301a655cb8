"""Learning-test scoring (学习成果测试): answers → per-ballot scores → unit and item figures.

Pure pandas, no Flask. The rules, each pinned by tests/analysis/test_analysis_quiz.py:

* **single choice**: full points when the one chosen option is a correct option; a wrong
  option, a blank, or (should it ever be stored) more than one option scores 0.
* **multiple choice**: all or nothing — full points only when the *set* of chosen options
  equals the set of correct options exactly. A partial set scores 0, whether a correct
  option is missing or a wrong one is added (no partial credit: ticking everything must
  not pay, and the rater is told so in the quiz's introduction).
* **fill-in**: full points when the answer, normalised by :func:`normalise_answer`
  (Unicode NFKC, so full-width ``ＡＢＣ１２３`` becomes ``ABC123`` and the ideographic space
  a space; whitespace trimmed and runs collapsed; case folded), equals one of the item's
  accepted answers normalised the same way.
* A ballot's **score** is the sum of its items' points; a blank item gives 0.
* A participant **passes** when ``score >= pass_mark`` (exactly at the mark passes; scores
  are rounded to 6 decimals first so float sums like 79.99999999 do not fail an 80).

Inputs
------
``answers``: one row per stored answer — ballot_id, evaluation_id, unit_id, item_id,
option_id, text. A ballot with no answer at all appears once with item_id missing (the
loader's outer join), so it still counts as a participant scoring 0.

``keys``: one row per quiz item — item_id, questionnaire_id, kind ("single" | "multiple" |
"fill"), points, correct (collection of correct option ids), accepted (list of strings),
and for display text and position.

``evaluations``: one row per quiz evaluation — evaluation_id, unit_id, questionnaire_id,
pass_mark, and optionally unit and min_ballots.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

import numpy as np
import pandas as pd

_SPACES = re.compile(r"\s+")
SCORE_DECIMALS = 6


def normalise_answer(text: object) -> str:
    """The comparable form of a fill-in answer: NFKC (full → half width), trimmed, collapsed, case-folded."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    return _SPACES.sub(" ", folded).strip().casefold()


def _key_lookup(keys: pd.DataFrame) -> dict[int, tuple[str, float, frozenset, frozenset]]:
    """item_id → (kind, points, correct option ids, normalised accepted answers)."""
    lookup = {}
    for row in keys.itertuples(index=False):
        correct = frozenset(int(o) for o in (row.correct if row.correct is not None else ()))
        accepted_raw: Iterable = row.accepted if isinstance(row.accepted, (list, tuple, set, frozenset)) else ()
        accepted = frozenset(normalise_answer(a) for a in accepted_raw) - {""}
        points = 0.0 if row.points is None or pd.isna(row.points) else float(row.points)
        lookup[int(row.item_id)] = (str(row.kind), points, correct, accepted)
    return lookup


_GROUP = ["ballot_id", "evaluation_id", "unit_id", "item_id"]


def _choice_marks(answered: pd.DataFrame, lookup: dict) -> pd.DataFrame:
    """Choice items, vectorised: count chosen and chosen-correct options per (ballot, item)."""
    right_pairs = pd.DataFrame([(i, o) for i, (_, _, correct, _) in lookup.items() for o in correct],
                               columns=["item_id", "option_id"], dtype="int64").assign(right=True)
    chosen = answered[answered["option_id"].notna()].drop_duplicates(_GROUP[:1] + ["item_id", "option_id"])
    chosen = chosen.assign(option_id=chosen["option_id"].astype("int64"))
    chosen = chosen.merge(right_pairs, on=["item_id", "option_id"], how="left")
    chosen["right"] = chosen["right"].fillna(False).astype(bool)
    marks = chosen.groupby(_GROUP, sort=False).agg(n_chosen=("option_id", "size"),
                                                   n_right=("right", "sum")).reset_index()
    need = marks["item_id"].map({i: len(v[2]) for i, v in lookup.items()})
    single = marks["item_id"].map({i: v[0] == "single" for i, v in lookup.items()}).astype(bool)
    # single: exactly one option chosen and it is a right one; multiple: exactly the right set
    marks["correct"] = np.where(single, (marks["n_chosen"] == 1) & (marks["n_right"] == 1),
                                (need > 0) & (marks["n_right"] == need) & (marks["n_chosen"] == need))
    return marks[_GROUP + ["correct"]]


def _fill_marks(answered: pd.DataFrame, lookup: dict) -> pd.DataFrame:
    """Fill-in items: the normalised text must be one of the item's normalised accepted answers."""
    typed = answered[answered["text"].notna()]
    typed = typed.drop_duplicates(["ballot_id", "item_id"])
    unique = typed["text"].unique()
    normal = dict(zip(unique, (normalise_answer(t) for t in unique)))  # each distinct text once
    pairs = set((i, a) for i, (_, _, _, accepted) in lookup.items() for a in accepted)
    correct = [(i, normal[t]) in pairs for i, t in zip(typed["item_id"], typed["text"])]
    return typed[_GROUP].assign(correct=np.array(correct, dtype=bool))


def item_marks(answers: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """One row per (ballot, answered quiz item): correct (bool) and the points it earned.

    Items a ballot left blank have no row here (they earn nothing); answers to items
    without a key (not in ``keys``) are ignored.
    """
    columns = _GROUP + ["correct", "points"]
    lookup = _key_lookup(keys)
    answered = answers[answers["item_id"].notna()]
    answered = answered.assign(item_id=answered["item_id"].astype("int64"))
    answered = answered[answered["item_id"].isin(list(lookup))]
    kind = answered["item_id"].map({i: v[0] for i, v in lookup.items()})
    parts = [_choice_marks(answered[kind.isin(["single", "multiple"])], lookup),
             _fill_marks(answered[kind == "fill"], lookup)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=columns).astype({"correct": bool, "points": float})
    marks = pd.concat(parts, ignore_index=True).sort_values(["ballot_id", "item_id"], ignore_index=True)
    marks["correct"] = marks["correct"].astype(bool)
    marks["points"] = np.where(marks["correct"], marks["item_id"].map({i: v[1] for i, v in lookup.items()}), 0.0)
    return marks[columns]


def ballot_scores(answers: pd.DataFrame, keys: pd.DataFrame, marks: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per ballot: ballot_id, evaluation_id, unit_id, score (sum of points, blanks 0).

    ``marks`` may pass :func:`item_marks` already computed for these answers.
    """
    ballots = answers[["ballot_id", "evaluation_id", "unit_id"]].drop_duplicates("ballot_id")
    marks = item_marks(answers, keys) if marks is None else marks
    earned = marks.groupby("ballot_id")["points"].sum()
    scores = ballots.assign(score=ballots["ballot_id"].map(earned).fillna(0.0).astype(float))
    scores["score"] = scores["score"].round(SCORE_DECIMALS)
    return scores.sort_values(["evaluation_id", "ballot_id"]).reset_index(drop=True)


def max_points(keys: pd.DataFrame) -> pd.Series:
    """Full marks per questionnaire (questionnaire_id → sum of item points)."""
    return keys.groupby("questionnaire_id")["points"].sum().astype(float)


def unit_summary(scores: pd.DataFrame, evaluations: pd.DataFrame) -> pd.DataFrame:
    """Per evaluation (one unit each): participants, mean score, passed, pass rate.

    Every evaluation in ``evaluations`` has a row; with no participants its mean
    and pass rate are NaN (undefined), never 0. ``judged`` is False when there are
    fewer participants than ``min_ballots`` (small groups: figures withheld from
    liaisons, as for the satisfaction evaluations). Sorted by pass rate, then mean,
    best first, units without participants last.
    """
    frame = evaluations.copy()
    merged = scores.merge(frame[["evaluation_id", "pass_mark"]], on="evaluation_id", how="inner")
    merged["passed"] = merged["score"] >= merged["pass_mark"]
    per = merged.groupby("evaluation_id").agg(participants=("score", "size"), mean_score=("score", "mean"),
                                              passed=("passed", "sum"))
    frame = frame.merge(per, left_on="evaluation_id", right_index=True, how="left")
    frame["participants"] = frame["participants"].fillna(0).astype("int64")
    frame["passed"] = frame["passed"].fillna(0).astype("int64")
    frame["mean_score"] = frame["mean_score"].astype(float)
    frame["pass_rate"] = np.where(frame["participants"] > 0,
                                  frame["passed"] / frame["participants"].where(frame["participants"] > 0, 1),
                                  np.nan)
    minimum = frame["min_ballots"] if "min_ballots" in frame else 1
    frame["judged"] = (frame["participants"] >= minimum) & (frame["participants"] > 0)
    return frame.sort_values(["pass_rate", "mean_score", "evaluation_id"], ascending=[False, False, True],
                             na_position="last").reset_index(drop=True)


def pooled_summary(scores: pd.DataFrame, evaluations: pd.DataFrame) -> dict:
    """Participants, mean score and pass rate over all ballots of these evaluations (each
    ballot judged against its own evaluation's pass mark); mean and pass rate are None
    without participants."""
    merged = scores.merge(evaluations[["evaluation_id", "pass_mark"]], on="evaluation_id", how="inner")
    if merged.empty:
        return {"participants": 0, "mean_score": None, "passed": 0, "pass_rate": None}
    passed = int((merged["score"] >= merged["pass_mark"]).sum())
    return {"participants": int(len(merged)), "mean_score": float(merged["score"].mean()), "passed": passed,
            "pass_rate": passed / len(merged)}


def item_summary(answers: pd.DataFrame, keys: pd.DataFrame, evaluations: pd.DataFrame,
                 marks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per quiz item, pooled over the given evaluations: participants, n_correct, share_correct.

    ``participants`` counts every ballot of the evaluations whose questionnaire has
    the item (a blank counts as not correct). Sorted hardest first: lowest share
    correct, then item position. ``marks`` may pass :func:`item_marks` already computed.
    """
    marks = item_marks(answers, keys) if marks is None else marks
    scores = ballot_scores(answers, keys, marks)
    per_questionnaire = (scores.merge(evaluations[["evaluation_id", "questionnaire_id"]], on="evaluation_id")
                         .groupby("questionnaire_id").size())
    counted = marks["correct"] & marks["evaluation_id"].isin(evaluations["evaluation_id"])
    n_correct = marks[counted].groupby("item_id").size()
    frame = keys.copy()
    frame["participants"] = frame["questionnaire_id"].map(per_questionnaire).fillna(0).astype("int64")
    frame["n_correct"] = frame["item_id"].map(n_correct).fillna(0).astype("int64")
    frame["share_correct"] = np.where(frame["participants"] > 0,
                                      frame["n_correct"] / frame["participants"].where(frame["participants"] > 0, 1),
                                      np.nan)
    order = ["share_correct", "position", "item_id"] if "position" in frame else ["share_correct", "item_id"]
    return frame.sort_values(order, na_position="last").reset_index(drop=True)
