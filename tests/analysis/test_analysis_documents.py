"""Tests for analysis.documents: the nested, JSON-safe results per unit."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.documents import results_document

NAN = float("nan")


def counts_rows(rows):
    """rows: (evaluation_id, unit_id, item_id, group_id, polarity, n)."""
    frame = pd.DataFrame(rows, columns=["evaluation_id", "unit_id", "item_id", "group_id",
                                        "polarity", "n"])
    option = {"positive": 1, "negative": 4, "unknown": 5}
    return frame.assign(option_id=frame["polarity"].map(option))


COUNTS = counts_rows([
    # evaluation 1, unit 10: 党员 (group 1) 8 ballots, 群众 (group 2) 4 ballots
    (1, 10, 1, 1, "positive", 6), (1, 10, 1, 1, "negative", 2),   # 6/8
    (1, 10, 1, 2, "positive", 1), (1, 10, 1, 2, "negative", 3),   # 1/4
    (1, 10, 2, 1, "unknown", 8),                                   # item 2: unknown only
    # evaluation 2, unit 11: 5 ballots → not judged
    (2, 11, 1, 1, "positive", 5),
])
BALLOTS = pd.DataFrame({"evaluation_id": [1, 1, 2], "unit_id": [10, 10, 11],
                        "group_id": [1, 2, 1], "n_ballots": [8, 4, 5]})
EVALUATIONS = pd.DataFrame({"evaluation_id": [1, 2], "unit_id": [10, 11],
                            "threshold": [0.6, 0.6], "min_ballots": [8, 8]})
GROUPS = pd.DataFrame({"group_id": [1, 2], "group": ["党员", "群众"], "weight": [NAN, NAN]})
ITEMS = pd.DataFrame({"item_id": [1, 2], "text": ["学习效果", "整改落实"], "position": [1, 2]})
UNITS = pd.DataFrame({"unit_id": [10, 11], "unit": ["甲", "乙"],
                      "committee_id": [100, None], "committee": ["一党委", None]})


def build(**kwargs):
    return results_document(COUNTS, BALLOTS, EVALUATIONS, GROUPS, ITEMS, UNITS, **kwargs)


def test_document_is_nested_and_json_safe():
    docs = build()
    # allow_nan=False raises on any NaN that slipped through; numpy ints would raise too
    text = json.dumps(docs, allow_nan=False, ensure_ascii=False)
    assert '"rate": null' in text
    first = docs[0]
    assert (first["unit"], first["n_ballots"], first["judged"]) == ("甲", 12, True)
    assert first["reason"].startswith("1 项指标") and first["committee_id"] == 100
    item1, item2 = first["items"]
    # pooled 7/12 = .5833 < .60
    assert item1["rate"] == pytest.approx(7 / 12) and item1["unsatisfactory"] is True
    assert [g["group"] for g in item1["groups"]] == ["党员", "群众"]
    assert [g["rate"] for g in item1["groups"]] == pytest.approx([0.75, 0.25])
    assert item1["groups"][0]["weight"] is None and item1["groups"][1]["n_ballots"] == 4
    assert item2["rate"] is None and item2["rated"] is False and item2["n_unknown"] == 8
    assert docs[1]["committee_id"] is None and docs[1]["judged"] is False


def test_document_for_liaison_hides_small_figures():
    docs = build(for_liaison=True)
    judged, not_judged = docs
    # not judged (5 < 8 ballots): no items, no overall rate, but the reason stays
    assert not_judged["items"] == [] and not_judged["overall_rate"] is None
    assert not_judged["reason"] == "有效票 5 张,少于最低 8 张,不作评判"
    # judged unit: items shown, but the 4-ballot 群众 group is left out of the breakdown
    assert [g["group"] for g in judged["items"][0]["groups"]] == ["党员"]
    assert judged["items"][0]["rate"] == pytest.approx(7 / 12)
