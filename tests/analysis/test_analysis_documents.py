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
    # evaluation 3, unit 12: 党员 8 ballots, 群众 8 ballots → the breakdown may be shown
    (3, 12, 1, 1, "positive", 6), (3, 12, 1, 1, "negative", 2),   # 6/8
    (3, 12, 1, 2, "positive", 2), (3, 12, 1, 2, "negative", 6),   # 2/8
])
BALLOTS = pd.DataFrame({"evaluation_id": [1, 1, 2, 3, 3], "unit_id": [10, 10, 11, 12, 12],
                        "group_id": [1, 2, 1, 1, 2], "n_ballots": [8, 4, 5, 8, 8]})
EVALUATIONS = pd.DataFrame({"evaluation_id": [1, 2, 3], "unit_id": [10, 11, 12],
                            "threshold": [0.6, 0.6, 0.6], "min_ballots": [8, 8, 8]})
GROUPS = pd.DataFrame({"group_id": [1, 2], "group": ["党员", "群众"], "weight": [NAN, NAN]})
ITEMS = pd.DataFrame({"item_id": [1, 2], "text": ["学习效果", "整改落实"], "position": [1, 2]})
UNITS = pd.DataFrame({"unit_id": [10, 11, 12], "unit": ["甲", "乙", "丙"],
                      "committee_id": [100, None, 100], "committee": ["一党委", None, "一党委"]})


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
    assert item2["rate"] is None and item2["rated"] is False and item2["n_unknown"] == 8
    assert docs[1]["committee_id"] is None and docs[1]["judged"] is False
    third = docs[2]["items"][0]  # both groups have 8 ballots: the breakdown is nested in the item
    assert [g["group"] for g in third["groups"]] == ["党员", "群众"]
    assert [g["rate"] for g in third["groups"]] == pytest.approx([0.75, 0.25])
    assert third["groups"][0]["weight"] is None and third["groups"][1]["n_ballots"] == 8


@pytest.mark.parametrize("for_liaison", [False, True])
def test_document_hides_small_figures_from_every_reader(for_liaison):
    judged, not_judged, _ = build(for_liaison=for_liaison)
    # not judged (5 < 8 ballots): no items, no overall rate or counts, but the reason stays
    assert not_judged["items"] == [] and not_judged["overall_rate"] is None
    assert (not_judged["n_rated_items"], not_judged["n_unsatisfactory"]) == (None, None)
    assert not_judged["reason"] == "有效票 5 张,少于最低 8 张,不作评判"
    # judged unit with a 4-ballot 群众 group: hiding 群众 alone would leave it as pooled minus 党员
    # (7/12 pooled, 6/8 党员 → 1/4), so the whole breakdown is withheld; the pooled figures stay
    assert [item["groups"] for item in judged["items"]] == [[], []]
    assert judged["items"][0]["rate"] == pytest.approx(7 / 12)


def test_subtraction_attack_finds_nothing():
    """Pooled minus every shown group must never leave a group with fewer than min_ballots ballots."""
    for doc in build():
        for item in doc["items"]:
            shown = sum(g["n_valid"] for g in item["groups"])
            hidden_valid = item["n_valid"] - shown
            if item["groups"]:
                assert hidden_valid == 0, (doc["unit"], item["item_id"])
