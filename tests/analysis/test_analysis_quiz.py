"""Learning-test scoring (analysis.quiz) on hand-built frames with hand-computed figures.

The quiz: S1 single (20.5 points, correct option 11), M multiple (30 points, correct
{21, 23}), F1 fill (29.5 points, accepted 以人为本), F2 fill (20 points, accepted abc):
100 points, pass mark 80.

Unit A (evaluation 1), five ballots:
  b1  S1 ✓  M {21,23} ✓     F1 以人为本 ✓      F2 ＡＢＣ ✓ (full width, upper case)  → 100
  b2  S1 ✗  M ✓             F1 " 以人为本 " ✓  F2 abc ✓                             → 79.5  fails
  b3  S1 ✓  M ✓             F1 ✓               F2 xyz ✗                             → 80    passes
  b4  S1 ✓  M {21} partial  F1 ✓               F2 abc ✓                             → 70
  b5  S1 ✓  M {21,22,23}    F1 blank           F2 ABC ✓                             → 40.5
  participants 5, mean 370 / 5 = 74, passed 2 (100 and 80), pass rate 0.4
Unit B (evaluation 2): b6 all right (100), b7 a ballot with no answer at all (0):
  participants 2, mean 50, pass rate 0.5
Unit C (evaluation 3): no ballots — mean and pass rate undefined.
All seven: mean 470 / 7, passed 3, pass rate 3 / 7.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.quiz import (
    ballot_scores, item_marks, item_summary, max_points, normalise_answer, pooled_summary, unit_summary,
)
from analysis.quiz_figures import item_share_figure, pass_rate_figure

S1, M, F1, F2 = 1, 2, 3, 4


def _keys() -> pd.DataFrame:
    return pd.DataFrame([
        {"item_id": S1, "questionnaire_id": 7, "kind": "single", "points": 20.5, "correct": frozenset({11}),
         "accepted": [], "text": "单选", "position": 1},
        {"item_id": M, "questionnaire_id": 7, "kind": "multiple", "points": 30.0, "correct": frozenset({21, 23}),
         "accepted": [], "text": "多选", "position": 2},
        {"item_id": F1, "questionnaire_id": 7, "kind": "fill", "points": 29.5, "correct": frozenset(),
         "accepted": ["以人为本"], "text": "填空一", "position": 3},
        {"item_id": F2, "questionnaire_id": 7, "kind": "fill", "points": 20.0, "correct": frozenset(),
         "accepted": ["abc"], "text": "填空二", "position": 4},
    ])


def _answers() -> pd.DataFrame:
    rows = []

    def ballot(bid, ev, unit, s1=None, m=(), f1=None, f2=None):
        if s1 is not None:
            rows.append((bid, ev, unit, S1, s1, None))
        for option in m:
            rows.append((bid, ev, unit, M, option, None))
        if f1 is not None:
            rows.append((bid, ev, unit, F1, None, f1))
        if f2 is not None:
            rows.append((bid, ev, unit, F2, None, f2))

    ballot("b1", 1, 10, 11, (21, 23), "以人为本", "ＡＢＣ")
    ballot("b2", 1, 10, 12, (21, 23), " 以人为本 ", "abc")
    ballot("b3", 1, 10, 11, (21, 23), "以人为本", "xyz")
    ballot("b4", 1, 10, 11, (21,), "以人为本", "abc")
    ballot("b5", 1, 10, 11, (21, 22, 23), None, "ABC")
    ballot("b6", 2, 20, 11, (23, 21), "以人为本", "abc")
    rows.append(("b7", 2, 20, np.nan, np.nan, None))  # a ballot with no answer (outer join)
    return pd.DataFrame(rows, columns=["ballot_id", "evaluation_id", "unit_id", "item_id", "option_id", "text"])


def _evaluations() -> pd.DataFrame:
    return pd.DataFrame({"evaluation_id": [1, 2, 3], "unit_id": [10, 20, 30], "unit": ["甲单位", "乙单位", "丙单位"],
                         "questionnaire_id": [7, 7, 7], "pass_mark": [80.0, 80.0, 80.0], "min_ballots": [3, 3, 3]})


def _scores() -> dict[str, float]:
    scores = ballot_scores(_answers(), _keys())
    return dict(zip(scores["ballot_id"], scores["score"]))


def test_normalise_answer_trims_folds_case_and_width():
    assert normalise_answer("  ＡＢＣ　１２３ ") == "abc 123"
    assert normalise_answer("以人为本\n") == "以人为本"
    assert normalise_answer("Straße") == normalise_answer("STRASSE")
    assert normalise_answer("a \t b") == "a b"
    assert normalise_answer(None) == "" and normalise_answer(float("nan")) == ""


def test_ballot_scores_by_hand():
    assert _scores() == {"b1": 100.0, "b2": 79.5, "b3": 80.0, "b4": 70.0, "b5": 40.5, "b6": 100.0, "b7": 0.0}


def test_multiple_choice_partial_sets_score_zero():
    marks = item_marks(_answers(), _keys())
    multiple = dict(zip(marks.loc[marks["item_id"] == M, "ballot_id"], marks.loc[marks["item_id"] == M, "correct"]))
    # exact set (in any order) is right; a missing correct option or an extra wrong one is not
    assert multiple == {"b1": True, "b2": True, "b3": True, "b4": False, "b5": False, "b6": True}
    assert marks.loc[(marks["item_id"] == M) & ~marks["correct"], "points"].tolist() == [0.0, 0.0]


def test_fill_in_answers_accept_case_width_and_spaces():
    marks = item_marks(_answers(), _keys())
    fill = marks[marks["item_id"] == F2].set_index("ballot_id")["correct"].to_dict()
    assert fill == {"b1": True, "b2": True, "b3": False, "b4": True, "b5": True, "b6": True}
    assert marks[(marks["item_id"] == F1) & (marks["ballot_id"] == "b2")]["correct"].item()  # " 以人为本 "


def test_single_choice_with_two_options_stored_scores_zero():
    answers = pd.DataFrame([("x", 1, 10, S1, 11, None), ("x", 1, 10, S1, 12, None)],
                           columns=["ballot_id", "evaluation_id", "unit_id", "item_id", "option_id", "text"])
    assert ballot_scores(answers, _keys())["score"].tolist() == [0.0]


def test_answers_to_unkeyed_items_are_ignored():
    answers = pd.DataFrame([("x", 1, 10, 99, 5, None), ("x", 1, 10, S1, 11, None)],
                           columns=["ballot_id", "evaluation_id", "unit_id", "item_id", "option_id", "text"])
    assert ballot_scores(answers, _keys())["score"].tolist() == [20.5]


def test_pass_mark_boundary_79_5_fails_and_80_passes():
    units = unit_summary(ballot_scores(_answers(), _keys()), _evaluations()).set_index("evaluation_id")
    assert units.loc[1, "passed"] == 2  # b1 (100) and b3 (exactly 80); b2 (79.5) fails
    # 79 + ten times 0.1 is 79.99999999999994 when summed naively; the score is exactly 80 and passes.
    points = [79.0] + [0.1] * 10
    keys = pd.DataFrame([{"item_id": n, "questionnaire_id": 7, "kind": "single", "points": p,
                          "correct": frozenset({n * 10}), "accepted": [], "text": "", "position": n}
                         for n, p in enumerate(points, start=1)])
    answers = pd.DataFrame([("z", 1, 10, n, n * 10, None) for n in range(1, len(points) + 1)],
                           columns=["ballot_id", "evaluation_id", "unit_id", "item_id", "option_id", "text"])
    scores = ballot_scores(answers, keys)
    assert scores["score"].tolist() == [80.0]
    assert unit_summary(scores, _evaluations()).set_index("evaluation_id").loc[1, "passed"] == 1


def test_unit_summary_by_hand():
    units = unit_summary(ballot_scores(_answers(), _keys()), _evaluations())
    assert units["evaluation_id"].tolist() == [2, 1, 3]  # pass rate 0.5, 0.4, then no participants
    a = units.set_index("evaluation_id").loc[1]
    assert (a["participants"], a["passed"]) == (5, 2)
    assert a["mean_score"] == pytest.approx(74.0) and a["pass_rate"] == pytest.approx(0.4)
    b = units.set_index("evaluation_id").loc[2]
    assert (b["participants"], b["mean_score"], b["pass_rate"]) == (2, 50.0, 0.5)
    c = units.set_index("evaluation_id").loc[3]
    assert c["participants"] == 0 and math.isnan(c["mean_score"]) and math.isnan(c["pass_rate"])
    assert units.set_index("evaluation_id")["judged"].to_dict() == {1: True, 2: False, 3: False}


def test_pooled_summary_by_hand():
    pooled = pooled_summary(ballot_scores(_answers(), _keys()), _evaluations())
    assert pooled["participants"] == 7 and pooled["passed"] == 3
    assert pooled["mean_score"] == pytest.approx(470 / 7) and pooled["pass_rate"] == pytest.approx(3 / 7)
    empty = pooled_summary(ballot_scores(_answers().iloc[0:0], _keys()), _evaluations())
    assert empty == {"participants": 0, "mean_score": None, "passed": 0, "pass_rate": None}


def test_item_summary_hardest_first():
    items = item_summary(_answers(), _keys(), _evaluations())
    # 7 participants (b7's blank ballot included): M 4/7, then S1, F1, F2 at 5/7 by position
    assert items["item_id"].tolist() == [M, S1, F1, F2]
    assert items["n_correct"].tolist() == [4, 5, 5, 5]
    assert items["participants"].tolist() == [7, 7, 7, 7]
    assert items["share_correct"].tolist() == pytest.approx([4 / 7, 5 / 7, 5 / 7, 5 / 7])


def test_item_summary_for_one_unit():
    answers = _answers()
    one = item_summary(answers[answers["evaluation_id"] == 1], _keys(), _evaluations().iloc[[0]])
    assert dict(zip(one["item_id"], one["n_correct"])) == {M: 3, S1: 4, F1: 4, F2: 4}
    assert one["item_id"].tolist()[0] == M and one["share_correct"].tolist()[0] == pytest.approx(0.6)
    # the same with every answer and precomputed marks: only the listed evaluation counts
    marks = item_marks(answers, _keys())
    again = item_summary(answers, _keys(), _evaluations().iloc[[0]], marks)
    assert again[["item_id", "n_correct", "participants"]].equals(one[["item_id", "n_correct", "participants"]])


def test_max_points_per_questionnaire():
    assert max_points(_keys()).to_dict() == {7: 100.0}


def test_figures_carry_the_numbers_and_escape_names():
    units = unit_summary(ballot_scores(_answers(), _keys()), _evaluations())
    units.loc[units["evaluation_id"] == 1, "unit"] = "<b>甲</b>"
    fig = pass_rate_figure(units)
    bars = {trace.name: trace for trace in fig.data}
    assert list(bars["及格率低于 50%"].x) == pytest.approx([0.4])
    assert list(bars["及格率低于 50%"].y) == ["&lt;b&gt;甲&lt;/b&gt;"]
    assert list(bars["及格率 50% 及以上"].x) == pytest.approx([0.5])
    assert list(bars["尚无人参加"].y) == ["丙单位"]  # listed at 0, not forgotten
    assert list(fig.layout.yaxis.categoryarray) == ["丙单位", "&lt;b&gt;甲&lt;/b&gt;", "乙单位"]  # best on top
    items = item_summary(_answers(), _keys(), _evaluations())
    shares = item_share_figure(items)
    assert list(shares.data[0].y)[-1].startswith("2. ")  # hardest (M, position 2) drawn on top
