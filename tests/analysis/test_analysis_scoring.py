"""Tests for analysis.scoring: every line of docs/design.md "The scoring contract".

Frames are built by hand; every expected figure is computed in the comment next to it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.scoring import (
    below_threshold,
    committee_rollup,
    group_rates,
    item_rates,
    item_results,
    unit_results,
    wilson_interval,
)

NAN = float("nan")


def make_counts(rows, evaluation_id: int = 1, unit_id: int = 10) -> pd.DataFrame:
    """rows: (item_id, group_id, n_positive, n_negative, n_unknown) → a counts frame.

    Positive answers are split over two options (满意 id 1, 比较满意 id 2) so the tally
    must sum options; 不满意 is id 4, 不了解 id 5. Zero counts get no row, as in SQL.
    """
    out = []
    for item_id, group_id, pos, neg, unk in rows:
        for option_id, polarity, n in ((1, "positive", pos - pos // 2),
                                       (2, "positive", pos // 2),
                                       (4, "negative", neg), (5, "unknown", unk)):
            if n:
                out.append(dict(evaluation_id=evaluation_id, unit_id=unit_id,
                                item_id=item_id, group_id=group_id, option_id=option_id,
                                polarity=polarity, n=n))
    return pd.DataFrame(out, columns=["evaluation_id", "unit_id", "item_id", "group_id",
                                      "option_id", "polarity", "n"])


def make_groups(weights: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame({"group_id": list(weights), "group": [f"G{g}" for g in weights],
                         "weight": list(weights.values())})


def make_evaluations(*rows) -> pd.DataFrame:
    """rows: (evaluation_id, unit_id, threshold, min_ballots)."""
    return pd.DataFrame(rows, columns=["evaluation_id", "unit_id", "threshold", "min_ballots"])


def make_ballots(*rows) -> pd.DataFrame:
    """rows: (evaluation_id, unit_id, group_id, n_ballots)."""
    return pd.DataFrame(rows, columns=["evaluation_id", "unit_id", "group_id", "n_ballots"])


def make_items(texts: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame({"item_id": list(texts), "text": list(texts.values()),
                         "position": range(1, len(texts) + 1)})


UNITS = pd.DataFrame({"unit_id": [10, 11], "unit": ["甲单位", "乙单位"],
                      "committee_id": [100, 100], "committee": ["一党委", "一党委"]})
EVAL = make_evaluations((1, 10, 0.60, 8))
NO_WEIGHTS = make_groups({1: NAN, 2: NAN})


def one_item(counts, groups=NO_WEIGHTS, evaluations=EVAL) -> pd.Series:
    rates = item_rates(counts, groups, evaluations)
    assert len(rates) == 1
    return rates.iloc[0]


# --- rule 7: Wilson interval -------------------------------------------------------

def test_wilson_interval_known_values():
    # k=8, n=10: p=.8, z²=3.8415, denom=1.38415, centre=.71674, half=.22658
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=5e-5)
    assert high == pytest.approx(0.9433, abs=5e-5)
    # k=0, n=10: centre = half = (z²/20)/1.38415 = .13877 → (0, .2775)
    low, high = wilson_interval(0, 10)
    assert (low, high) == pytest.approx((0.0, 0.2775), abs=5e-5)


def test_wilson_interval_vectorised_and_undefined_at_zero():
    k = pd.Series([8, 10, 0], index=[7, 8, 9])
    n = pd.Series([10, 10, 0], index=[7, 8, 9])
    low, high = wilson_interval(k, n)
    assert list(low.index) == [7, 8, 9]
    # k=n=10 mirrors k=0: (1 - .2775, 1)
    assert low[8] == pytest.approx(0.7225, abs=5e-5) and high[8] == 1.0
    assert math.isnan(low[9]) and math.isnan(high[9])
    arr_low, _ = wilson_interval(np.array([8]), np.array([10]))
    assert isinstance(arr_low, np.ndarray) and arr_low[0] == pytest.approx(0.4902, abs=5e-5)


# --- rules 1–2: per group tallies ----------------------------------------------------

def test_group_rates_counts_only_positive_and_negative_as_valid():
    counts = make_counts([(1, 1, 5, 3, 2), (1, 2, 0, 0, 4)])
    rates = group_rates(counts).set_index("group_id")
    # group 1: 5 positive (3+2 over two options) + 3 negative = 8 valid; 2 unknown not valid
    tally = ["n_positive", "n_negative", "n_unknown", "n_valid"]
    assert rates.loc[1, tally].tolist() == [5, 3, 2, 8]
    assert rates.loc[1, "rate"] == pytest.approx(5 / 8)  # .625
    # group 2 answered only 不了解: no valid answers, rate undefined
    assert rates.loc[2, "n_valid"] == 0
    assert math.isnan(rates.loc[2, "rate"]) and math.isnan(rates.loc[2, "ci_low"])


def test_group_rates_rejects_unknown_polarity():
    counts = make_counts([(1, 1, 1, 0, 0)]).assign(polarity="neutral")
    with pytest.raises(ValueError, match="neutral"):
        group_rates(counts)


# --- rule 3: pooled vs weighted -------------------------------------------------------

def test_pooled_and_weighted_rates_differ_on_hand_example():
    counts = make_counts([(1, 1, 9, 1, 0), (1, 2, 2, 8, 0)])
    pooled = one_item(counts)
    # no weights: (9 + 2) / (10 + 10) = .55
    assert pooled["rate"] == pytest.approx(0.55) and not pooled["weighted"]
    weighted = one_item(counts, make_groups({1: 1.0, 2: 3.0}))
    # weights 1 and 3: (1·.9 + 3·.2) / 4 = 1.5 / 4 = .375
    assert weighted["rate"] == pytest.approx(0.375) and weighted["weighted"]
    # the interval is on the pooled counts 11/20 in both cases:
    # centre=(.55+.09604)/1.19207=.54195, half=1.96·√(.012375+.0024009)/1.19207=.19986
    for row in (pooled, weighted):
        assert (row["n_positive"], row["n_valid"]) == (11, 20)
        assert row["ci_low"] == pytest.approx(0.3421, abs=1e-4)
        assert row["ci_high"] == pytest.approx(0.7418, abs=1e-4)


def test_weighted_rate_leaves_out_group_without_valid_answers():
    # A (w=1) 5/10 = .5; B (w=3) only 不了解; C (w=1) 4/4 = 1.0
    counts = make_counts([(1, 1, 5, 5, 0), (1, 2, 0, 0, 6), (1, 3, 4, 0, 0)])
    row = one_item(counts, make_groups({1: 1.0, 2: 3.0, 3: 1.0}))
    # B's weight must not dilute: (1·.5 + 1·1.0) / (1 + 1) = .75, not 1.5/5 = .30
    assert row["rate"] == pytest.approx(0.75)
    assert (row["n_positive"], row["n_valid"], row["n_unknown"]) == (9, 14, 6)


def test_group_without_weight_counts_zero_when_others_are_weighted():
    # A (w=2) 5/10 = .5; B (no weight) 8/8 = 1.0 → 2·.5 / 2 = .5 (pooled would be 13/18)
    counts = make_counts([(1, 1, 5, 5, 0), (1, 2, 8, 0, 0)])
    row = one_item(counts, make_groups({1: 2.0, 2: NAN}))
    assert row["weighted"] and row["rate"] == pytest.approx(0.5)


def test_only_zero_weight_groups_answered_leaves_item_unrated():
    counts = make_counts([(1, 1, 0, 0, 3), (1, 2, 4, 1, 0)])
    row = one_item(counts, make_groups({1: 1.0, 2: NAN}))
    assert math.isnan(row["rate"]) and not row["rated"] and not row["unsatisfactory"]


def test_weighting_is_decided_per_evaluation():
    counts = pd.concat([make_counts([(1, 1, 9, 1, 0), (1, 2, 2, 8, 0)], evaluation_id=1),
                        make_counts([(1, 3, 9, 1, 0), (1, 2, 2, 8, 0)], evaluation_id=2,
                                    unit_id=11)])
    evaluations = make_evaluations((1, 10, 0.6, 8), (2, 11, 0.6, 8))
    rates = item_rates(counts, make_groups({1: NAN, 2: NAN, 3: 1.0}), evaluations)
    rates = rates.set_index("evaluation_id")
    assert not rates.loc[1, "weighted"] and rates.loc[1, "rate"] == pytest.approx(0.55)
    # evaluation 2: group 3 weighted 1 (.9), group 2 unweighted → 0 → rate .9
    assert rates.loc[2, "weighted"] and rates.loc[2, "rate"] == pytest.approx(0.9)


def test_negative_weight_is_refused():
    with pytest.raises(ValueError, match="negative"):
        item_rates(make_counts([(1, 1, 1, 0, 0)]), make_groups({1: -1.0}), EVAL)


# --- rule 4: threshold --------------------------------------------------------------------

def test_rate_exactly_at_threshold_is_satisfactory():
    at = one_item(make_counts([(1, 1, 3, 2, 0)]))      # 3/5 = .60 at .60
    below = one_item(make_counts([(1, 1, 2, 3, 0)]))   # 2/5 = .40
    assert at["rate"] == pytest.approx(0.6) and not at["unsatisfactory"]
    assert below["unsatisfactory"]


def test_threshold_comparison_ignores_float_noise_only():
    rates = pd.Series([0.5999999999999999, 0.5999, NAN, 0.6])
    assert below_threshold(rates, 0.6).tolist() == [False, True, False, False]


def test_weighted_rate_landing_one_ulp_under_threshold_is_satisfactory():
    # (0.1·.6 + 0.2·.6) / 0.3 is exactly .6 but 0.5999999999999999 in floating point
    counts = make_counts([(1, 1, 3, 2, 0), (1, 2, 3, 2, 0)])
    row = one_item(counts, make_groups({1: 0.1, 2: 0.2}))
    assert row["rate"] == pytest.approx(0.6) and not row["unsatisfactory"]


# --- rules 5–7: units -------------------------------------------------------------------

def unit_row(counts, n_ballots=10, items=None, evaluations=EVAL, groups=NO_WEIGHTS):
    ballots = make_ballots((1, 10, 1, n_ballots))
    items = items if items is not None else make_items({i: f"指标{i}" for i in range(1, 8)})
    result = unit_results(counts, ballots, evaluations, groups, items, UNITS)
    return result.set_index("evaluation_id").loc[1]


def test_two_of_four_unsatisfactory_is_not_a_majority():
    # rates .6 (ok, at threshold), .4, .2 (both below), 1.0 → 2 of 4
    row = unit_row(make_counts([(1, 1, 3, 2, 0), (2, 1, 2, 3, 0), (3, 1, 1, 4, 0),
                                (4, 1, 5, 0, 0)]))
    assert (row["n_rated_items"], row["n_unsatisfactory"]) == (4, 2)
    assert row["judged"] and not row["needs_makeup"]
    assert row["reason_zh"] == "4 项指标中有 2 项低于 60%,未过半数"
    assert row["reason_en"] == "2 of 4 indicators below 60%, not a majority"
    assert row["overall_rate"] == pytest.approx((0.6 + 0.4 + 0.2 + 1.0) / 4)  # .55


def test_three_of_five_unsatisfactory_needs_makeup_with_reason():
    items = pd.DataFrame({"item_id": [21, 22, 23, 24, 25],
                          "text": ["分析原因", "查找突出问题情况", "整改措施", "群众参与", "组织领导"],
                          "position": [2, 1, 3, 4, 5]})
    # 查找突出问题情况 13/25 = .52, 分析原因 2/5 = .40, 整改措施 11/20 = .55, .8, .6
    counts = make_counts([(22, 1, 13, 12, 0), (21, 1, 2, 3, 0), (23, 1, 11, 9, 0),
                          (24, 1, 4, 1, 0), (25, 1, 3, 2, 0)])
    row = unit_row(counts, n_ballots=25, items=items)
    assert (row["n_rated_items"], row["n_unsatisfactory"]) == (5, 3)
    assert row["needs_makeup"]
    # listed in questionnaire order (position), not item id order
    assert row["reason_zh"] == ("5 项指标中有 3 项低于 60%:查找突出问题情况 52.0%、"
                                "分析原因 40.0%、整改措施 55.0%")
    assert row["reason_en"] == ("3 of 5 indicators below 60%: 查找突出问题情况 52.0%, "
                                "分析原因 40.0%, 整改措施 55.0%")
    assert row["overall_rate"] == pytest.approx((0.52 + 0.4 + 0.55 + 0.8 + 0.6) / 5)  # .574


def test_one_of_five_reason_says_not_a_majority():
    counts = make_counts([(1, 1, 1, 4, 0)] + [(i, 1, 4, 1, 0) for i in range(2, 6)])
    row = unit_row(counts)
    assert not row["needs_makeup"]
    assert row["reason_zh"] == "5 项指标中有 1 项低于 60%,未过半数"


def test_unknown_only_item_is_not_rated_and_not_in_majority():
    # .4 and .2 below, .8 fine, item 4 only 不了解 → 2 of 3 rated → make-up
    # (counting item 4 as rated would make it 2 of 4 and no make-up)
    row = unit_row(make_counts([(1, 1, 2, 3, 0), (2, 1, 1, 4, 0), (3, 1, 4, 1, 0),
                                (4, 1, 0, 0, 6)]))
    assert (row["n_rated_items"], row["n_unsatisfactory"]) == (3, 2)
    assert row["needs_makeup"]
    assert row["overall_rate"] == pytest.approx((0.4 + 0.2 + 0.8) / 3)  # .4667


def test_no_unsatisfactory_item_reason_and_custom_threshold_label():
    # threshold 62.5%: 5/8 = .625 exactly at it, 7/8 above
    evaluations = make_evaluations((1, 10, 0.625, 8))
    row = unit_row(make_counts([(1, 1, 5, 3, 0), (2, 1, 7, 1, 0)]), evaluations=evaluations)
    assert not row["needs_makeup"] and row["n_unsatisfactory"] == 0
    assert row["reason_zh"] == "2 项指标均不低于 62.5%"
    assert row["reason_en"] == "None of 2 indicators below 62.5%"


def test_min_ballots_boundary_seven_not_judged_eight_judged():
    all_bad = [(1, 1, 0, 5, 0), (2, 1, 1, 4, 0)]
    counts = pd.concat([make_counts(all_bad, 1, 10), make_counts(all_bad, 2, 11)])
    # evaluation 1: 4 + 3 = 7 ballots over two groups; evaluation 2: 8 ballots
    ballots = make_ballots((1, 10, 1, 4), (1, 10, 2, 3), (2, 11, 1, 8))
    evaluations = make_evaluations((1, 10, 0.6, 8), (2, 11, 0.6, 8))
    result = unit_results(counts, ballots, evaluations, NO_WEIGHTS, make_items({1: "a", 2: "b"}),
                          UNITS).set_index("evaluation_id")
    seven, eight = result.loc[1], result.loc[2]
    assert seven["n_ballots"] == 7 and not seven["judged"] and not seven["needs_makeup"]
    assert seven["reason_zh"] == "有效票 7 张,少于最低 8 张,不作评判"
    assert seven["reason_en"] == "Only 7 ballots, fewer than the minimum of 8; not judged"
    assert eight["n_ballots"] == 8 and eight["judged"] and eight["needs_makeup"]
    # items of the not-judged unit are still computed, marked for hiding from liaisons
    rows = item_results(counts, ballots, evaluations, NO_WEIGHTS, make_items({1: "a", 2: "b"}),
                        UNITS)
    hidden = rows[rows["evaluation_id"] == 1]
    assert len(hidden) == 2 and not hidden["judged"].any()
    assert hidden["rate"].tolist() == pytest.approx([0.0, 0.2])


def test_defaults_and_evaluations_without_answers():
    evaluations = make_evaluations((1, 10, NAN, None), (2, 11, 0.6, 8))
    ballots = make_ballots((2, 11, 1, 9))   # evaluation 1 has no ballots at all
    result = unit_results(make_counts([]), ballots, evaluations, NO_WEIGHTS, make_items({}),
                          UNITS).set_index("evaluation_id")
    assert result.loc[1, "threshold"] == 0.6 and result.loc[1, "min_ballots"] == 8
    assert result.loc[1, "n_ballots"] == 0 and not result.loc[1, "judged"]
    assert math.isnan(result.loc[1, "overall_rate"])
    # 9 ballots, every answer blank: judged, but nothing to decide on
    assert result.loc[2, "judged"] and not result.loc[2, "needs_makeup"]
    assert result.loc[2, "n_rated_items"] == 0
    assert result.loc[2, "reason_zh"] == "没有获得有效评价的指标,不作补课判定"


# --- committee rollup -------------------------------------------------------------------

def test_committee_rollup_counts_and_mean_of_judged_units():
    results = pd.DataFrame({
        "evaluation_id": [1, 2, 3, 4, 5], "unit_id": [1, 2, 3, 4, 5],
        "committee_id": pd.array([7, 7, 7, 8, None], dtype="Int64"),
        "committee": ["一党委", "一党委", "一党委", "二党委", None],
        "n_ballots": [10, 12, 3, 9, 8],
        "judged": [True, True, False, True, True],
        "needs_makeup": [True, False, False, False, False],
        "overall_rate": [0.4, 0.8, 0.1, 0.9, 0.7]})
    rollup = committee_rollup(results)
    assert rollup["committee"].tolist()[:2] == ["一党委", "二党委"]
    first = rollup.iloc[0]
    # 3 units, 2 judged, 1 make-up, 10+12+3 = 25 ballots, mean (.4 + .8)/2 = .6 (unit 3 left out)
    assert [first[c] for c in ("n_units", "n_judged", "n_makeup", "n_ballots")] == [3, 2, 1, 25]
    assert first["mean_overall_rate"] == pytest.approx(0.6)
    no_committee = rollup.iloc[2]
    assert pd.isna(no_committee["committee_id"]) and no_committee["n_units"] == 1
    assert no_committee["mean_overall_rate"] == pytest.approx(0.7)


# --- counts summed by polarity (what a campaign's results read) -----------------------

@pytest.mark.parametrize("seed", range(5))
def test_counts_summed_by_polarity_score_exactly_like_per_option_counts(seed):
    """The two shapes of ``counts`` give identical item and unit results, weights and all."""
    rng = np.random.default_rng(seed)
    rows = []
    for evaluation_id, unit_id in ((1, 10), (2, 11)):
        for item_id in (1, 2, 3, 4, 5):
            for group_id in (1, 2):
                pos, neg, unk = (int(x) for x in rng.integers(0, 6, size=3) * rng.integers(0, 2, size=3))
                if pos or neg or unk:
                    rows.append((evaluation_id, unit_id, item_id, group_id, pos, neg, unk))
    per_option = pd.concat([make_counts([r[2:]], evaluation_id=r[0], unit_id=r[1]) for r in rows], ignore_index=True)
    summed = pd.DataFrame([(e, u, i, g, p, n, k) for e, u, i, g, p, n, k in rows[::-1]],  # any order
                          columns=["evaluation_id", "unit_id", "item_id", "group_id",
                                   "n_positive", "n_negative", "n_unknown"])
    evaluations = make_evaluations((1, 10, 0.60, 8), (2, 11, 0.75, 3))
    ballots = make_ballots((1, 10, 1, 6), (1, 10, 2, 4), (2, 11, 1, 2))
    groups = make_groups({1: 0.7, 2: NAN} if seed % 2 else {1: NAN, 2: NAN})
    items = make_items({i: f"第{i}项" for i in (1, 2, 3, 4, 5)})
    args = (ballots, evaluations, groups, items, UNITS)
    pd.testing.assert_frame_equal(group_rates(summed), group_rates(per_option))
    pd.testing.assert_frame_equal(item_results(summed, *args), item_results(per_option, *args))
    pd.testing.assert_frame_equal(unit_results(summed, *args), unit_results(per_option, *args))
