"""analysis.scoring against the pandas code it replaced (scoring_reference.py), frame for frame.

The numpy rewrite (issue 5, results at 1M ballots) must not move a single figure:
every frame is compared with ``check_exact=True`` — values, dtypes, column and row
order — on randomised campaigns: weighted and pooled groups, weights such as 0.1 / 0.2
/ 0.3 whose sums depend on the summation order, rates exactly at the threshold, items
with only "unknown" answers, missing items, units and weights, evaluations without
ballots, and empty frames as ``load_frames`` builds them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from analysis import scoring
from tests.analysis import scoring_reference as reference

OPTIONS = ((1, "positive"), (2, "positive"), (3, "negative"), (4, "unknown"))
WEIGHT_CHOICES = (np.nan, 0.1, 0.2, 0.3, 0.7, 0.0, 1.0, 1 / 3)


def random_frames(seed: int) -> tuple[pd.DataFrame, ...]:
    """A random campaign's six input frames, rows in a shuffled order as SQL may return them."""
    rng = np.random.default_rng(seed)
    n_evals = int(rng.integers(1, 25))
    n_items = int(rng.integers(1, 8))
    n_groups = int(rng.integers(1, 5))
    eval_ids = rng.choice(np.arange(1, 1000), n_evals, replace=False)
    unit_ids = rng.choice(np.arange(1000, 1040), n_evals, replace=True)  # units may repeat
    group_ids = np.arange(1, n_groups + 1) * 7
    item_ids = rng.choice(np.arange(100, 200), n_items, replace=False)
    mode = rng.integers(0, 3)  # no weights / all weighted / mixed per random choice
    weights = [np.nan if mode == 0 else float(rng.choice(WEIGHT_CHOICES[1:])) if mode == 1
               else float(rng.choice(WEIGHT_CHOICES)) for _ in group_ids]
    groups = pd.DataFrame({"group_id": group_ids, "group": [f"G{g}" for g in group_ids],
                           "weight": weights})
    if rng.random() < 0.2:  # a group that answered but is not in the frame
        groups = groups.iloc[1:].reset_index(drop=True)
    thresholds = rng.choice([0.6, np.nan, 0.5, 0.75, 2 / 3], n_evals)
    minimum = rng.choice([8, 1, 30, 5], n_evals)
    evaluations = pd.DataFrame({"evaluation_id": eval_ids, "unit_id": unit_ids,
                                "threshold": thresholds, "min_ballots": minimum})
    if rng.random() < 0.2:
        evaluations["min_ballots"] = evaluations["min_ballots"].astype(float).where(rng.random(n_evals) < 0.7)
    rows, ballot_rows = [], []
    for e, u in zip(eval_ids, unit_ids):
        if rng.random() < 0.1:
            continue  # no ballot yet
        for g in group_ids:
            if rng.random() < 0.15:
                continue
            ballot_rows.append((e, u, g, int(rng.integers(1, 25))))
            for i in item_ids:
                shape = rng.random()
                for option, polarity in OPTIONS:
                    if shape < 0.1 and polarity != "unknown":
                        continue  # an item with unknown answers only
                    if rng.random() < 0.6:
                        # small counts make ties with the threshold (3 of 5 = 0.6) common
                        rows.append((e, u, i, g, option, polarity, int(rng.integers(1, 6))))
    counts = pd.DataFrame(rows, columns=["evaluation_id", "unit_id", "item_id", "group_id",
                                         "option_id", "polarity", "n"])
    counts = counts.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    ballots = pd.DataFrame(ballot_rows, columns=["evaluation_id", "unit_id", "group_id", "n_ballots"])
    ballots = ballots.sample(frac=1.0, random_state=seed + 1).reset_index(drop=True)
    positions = rng.permutation(len(item_ids)) + 1
    items = pd.DataFrame({"item_id": item_ids, "text": [f"指标{i}" for i in item_ids],
                          "position": positions}).sort_values("position", ignore_index=True)
    if rng.random() < 0.2 and len(items) > 1:
        items = items.iloc[1:].reset_index(drop=True)  # an answered item missing from the frame
    unit_list = sorted(set(unit_ids.tolist()))
    committee = [None if rng.random() < 0.2 else 5000 + u % 3 for u in unit_list]
    units = pd.DataFrame({"unit_id": unit_list, "unit": [f"单位{u}" for u in unit_list],
                          "committee_id": committee,
                          "committee": [None if c is None else f"党委{c}" for c in committee]})
    if rng.random() < 0.2 and len(units) > 1:
        units = units.iloc[1:].reset_index(drop=True)
    return counts, ballots, evaluations, groups, items, units


def empty_frames() -> tuple[pd.DataFrame, ...]:
    """No answers and no ballots, built as load_frames builds empty frames (object columns)."""
    counts = pd.DataFrame.from_records([], columns=["evaluation_id", "unit_id", "item_id", "group_id",
                                                    "option_id", "polarity", "n"], coerce_float=True)
    ballots = pd.DataFrame.from_records([], columns=["evaluation_id", "unit_id", "group_id", "n_ballots"],
                                        coerce_float=True)
    counts["n"] = counts["n"].astype("int64")
    ballots["n_ballots"] = ballots["n_ballots"].astype("int64")
    evaluations = pd.DataFrame({"evaluation_id": [3], "unit_id": [30], "threshold": [0.6], "min_ballots": [8]})
    groups = pd.DataFrame({"group_id": [1], "group": ["G"], "weight": [np.nan]})
    items = pd.DataFrame({"item_id": [5], "text": ["指标"], "position": [1]})
    units = pd.DataFrame({"unit_id": [30], "unit": ["单位"], "committee_id": [None], "committee": [None]})
    return counts, ballots, evaluations, groups, items, units


def nothing_loaded() -> tuple[pd.DataFrame, ...]:
    """The frames of no evaluation at all: every query empty, every key column object."""
    def empty(columns):
        return pd.DataFrame.from_records([], columns=columns, coerce_float=True)

    counts = empty(["evaluation_id", "unit_id", "item_id", "group_id", "option_id", "polarity", "n"])
    ballots = empty(["evaluation_id", "unit_id", "group_id", "n_ballots"])
    groups = empty(["group_id", "group", "weight"])
    counts["n"], ballots["n_ballots"] = counts["n"].astype("int64"), ballots["n_ballots"].astype("int64")
    groups["weight"] = groups["weight"].astype(float)
    return (counts, ballots, empty(["evaluation_id", "unit_id", "threshold", "min_ballots"]), groups,
            empty(["item_id", "text", "position"]), empty(["unit_id", "unit", "committee_id", "committee"]))


def assert_same(frames: tuple[pd.DataFrame, ...]) -> None:
    counts, ballots, evaluations, groups, _, _ = frames
    assert_frame_equal(scoring.group_rates(counts), reference.group_rates(counts), check_exact=True)
    assert_frame_equal(scoring.item_rates(counts, groups, evaluations),
                       reference.item_rates(counts, groups, evaluations), check_exact=True)
    assert_frame_equal(scoring.ballot_totals(ballots, evaluations),
                       reference.ballot_totals(ballots, evaluations), check_exact=True)
    per_item = scoring.item_results(*frames)
    assert_frame_equal(per_item, reference.item_results(*frames), check_exact=True)
    expected = reference.unit_results(*frames)
    assert_frame_equal(scoring.unit_results(*frames), expected, check_exact=True)
    assert_frame_equal(scoring.unit_results(*frames, per_item=per_item), expected, check_exact=True)
    unsat = per_item[per_item["unsatisfactory"]]
    for new, old in zip(scoring.reason_texts(expected, unsat), reference.reason_texts(expected, unsat)):
        assert_series_equal(new, old, check_exact=True)


@pytest.mark.parametrize("seed", range(60))
def test_random_campaigns_give_identical_frames(seed):
    assert_same(random_frames(seed))


def test_filtered_per_item_gives_identical_units():
    """A caller may pass per_item rows in another order: the mean must still match."""
    frames = random_frames(7)
    per_item = scoring.item_results(*frames).sample(frac=1.0, random_state=3)
    assert_frame_equal(scoring.unit_results(*frames, per_item=per_item),
                       reference.unit_results(*frames, per_item=per_item), check_exact=True)


def test_empty_tallies_give_identical_frames():
    assert_same(empty_frames())
    assert_same(nothing_loaded())


def test_order_sensitive_weighted_sums_match():
    """0.1 + 0.2 + 0.3 summed naively is 0.6000000000000001; pandas' compensated sum gives 0.6."""
    counts = pd.DataFrame([(1, 10, 5, g, 1, "positive", 1) for g in (1, 2, 3)],
                          columns=["evaluation_id", "unit_id", "item_id", "group_id", "option_id", "polarity", "n"])
    groups = pd.DataFrame({"group_id": [1, 2, 3], "group": ["a", "b", "c"], "weight": [0.1, 0.2, 0.3]})
    evaluations = pd.DataFrame({"evaluation_id": [1], "unit_id": [10], "threshold": [0.6], "min_ballots": [1]})
    assert_frame_equal(scoring.item_rates(counts, groups, evaluations),
                       reference.item_rates(counts, groups, evaluations), check_exact=True)
