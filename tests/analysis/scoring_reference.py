"""The scoring code as it was before the numpy rewrite (issue 5), kept verbatim as a reference.

tests/analysis/test_scoring_equivalence.py checks that analysis.scoring gives exactly
these frames (values, dtypes, column order, row order) on randomised tallies: the
rewrite was for speed only and must not move a single figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.reasons import percent_label, threshold_label
from analysis.scoring import (
    DEFAULT_MIN_BALLOTS,
    DEFAULT_THRESHOLD,
    EVAL_KEYS,
    GROUP_KEYS,
    ITEM_KEYS,
    POLARITIES,
    below_threshold,
    wilson_interval,
)


def _item_lists(units: pd.DataFrame, unsat_items: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per unit row, the unsatisfactory items as 'text 52.0%' joined for zh and en."""
    listed = unsat_items.sort_values(["position", "item_id"])
    labels = listed["text"].fillna("").astype(str) + " " + listed["rate"].map(percent_label)
    joined = labels.groupby([listed[k] for k in EVAL_KEYS]).agg(
        zh="、".join, en=", ".join)
    index = pd.MultiIndex.from_frame(units[EVAL_KEYS])
    zh = joined["zh"].reindex(index).fillna("").to_numpy(dtype=object)
    en = joined["en"].reindex(index).fillna("").to_numpy(dtype=object)
    return zh, en


def reason_texts(units: pd.DataFrame,
                 unsat_items: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Build the reason sentences for each unit row.

    ``units`` needs evaluation_id, unit_id, n_ballots, min_ballots, threshold,
    n_rated_items, n_unsatisfactory, judged, needs_makeup; ``unsat_items`` holds the
    unsatisfactory item rows (evaluation_id, unit_id, item_id, position, text, rate).
    Returns ``(reason_zh, reason_en)`` aligned with ``units.index``.

    Examples: '有效票 5 张,少于最低 8 张,不作评判';
    '5 项指标中有 3 项低于 60%:查找突出问题情况 52.0%、…';
    '5 项指标中有 1 项低于 60%,未过半数'; '5 项指标均不低于 60%'.
    """
    rated = units["n_rated_items"].astype(str)
    unsat = units["n_unsatisfactory"].astype(str)
    ballots = units["n_ballots"].astype(str)
    minimum = units["min_ballots"].astype(str)
    limit = units["threshold"].map(threshold_label)
    list_zh, list_en = _item_lists(units, unsat_items)
    ballot_word = np.where(units["n_ballots"] == 1, " ballot", " ballots")
    indicator_word = np.where(units["n_rated_items"] == 1, " indicator", " indicators")

    conditions = [
        ~units["judged"].astype(bool),
        units["n_rated_items"] == 0,
        units["needs_makeup"].astype(bool),
        units["n_unsatisfactory"] > 0,
    ]
    zh = np.select(conditions, [
        "有效票 " + ballots + " 张,少于最低 " + minimum + " 张,不作评判",
        pd.Series("没有获得有效评价的指标,不作补课判定", index=units.index),
        rated + " 项指标中有 " + unsat + " 项低于 " + limit + ":" + list_zh,
        rated + " 项指标中有 " + unsat + " 项低于 " + limit + ",未过半数",
    ], default=rated + " 项指标均不低于 " + limit)
    en = np.select(conditions, [
        "Only " + ballots + ballot_word + ", fewer than the minimum of " + minimum
        + "; not judged",
        pd.Series("No indicator received valid answers; no make-up decision",
                  index=units.index),
        unsat + " of " + rated + indicator_word + " below " + limit + ": " + list_en,
        unsat + " of " + rated + indicator_word + " below " + limit + ", not a majority",
    ], default="None of " + rated + indicator_word + " below " + limit)
    return pd.Series(zh, index=units.index), pd.Series(en, index=units.index)


def _safe_ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num/den as float, NaN where den is 0 (no division warnings)."""
    den_f = den.astype(float)
    return num.astype(float) / den_f.where(den_f != 0)


def group_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Tally answers per evaluation × unit × item × rater group (rules 1–2).

    Returns one row per key with n_positive, n_negative, n_unknown, n_valid
    (= positive + negative), rate (n_positive / n_valid, NaN when n_valid is 0) and the
    Wilson interval ci_low, ci_high.
    """
    unknown_polarities = set(counts["polarity"].unique()) - set(POLARITIES)
    if unknown_polarities:
        raise ValueError(f"unexpected polarity values: {sorted(unknown_polarities)}")
    tally = (
        counts.groupby([*GROUP_KEYS, "polarity"])["n"].sum()
        .unstack("polarity", fill_value=0)
        .reindex(columns=list(POLARITIES), fill_value=0)
        .rename(columns=lambda p: f"n_{p}")
        .astype("int64")
    )
    tally.columns.name = None
    out = tally.reset_index()
    for key in GROUP_KEYS:  # an empty input would leave object-typed keys
        out[key] = out[key].astype("int64")
    out["n_valid"] = out["n_positive"] + out["n_negative"]
    out["rate"] = _safe_ratio(out["n_positive"], out["n_valid"])
    out["ci_low"], out["ci_high"] = wilson_interval(out["n_positive"], out["n_valid"])
    return out


def _evaluation_rules(evaluations: pd.DataFrame) -> pd.DataFrame:
    """evaluation_id → threshold, min_ballots with the documented defaults filled in."""
    rules = evaluations[["evaluation_id", "threshold", "min_ballots"]].copy()
    rules["threshold"] = rules["threshold"].astype(float).fillna(DEFAULT_THRESHOLD)
    rules["min_ballots"] = rules["min_ballots"].fillna(DEFAULT_MIN_BALLOTS).astype("int64")
    return rules


def item_rates(counts: pd.DataFrame, groups: pd.DataFrame,
               evaluations: pd.DataFrame) -> pd.DataFrame:
    """Rate every item over all rater groups and mark the unsatisfactory ones (rules 3–4, 7).

    Weighting is decided per evaluation: if none of the groups that have answers in that
    evaluation has a weight, the rate is pooled (Σ n_positive / Σ n_valid); otherwise it
    is Σ w·rate_g / Σ w over groups with n_valid > 0. A group without a weight while others
    have one counts with weight 0 — an unset weight must not silently equal 1 next to
    deliberate weights like 0.3. If only weight-0 groups answered, the rate is NaN and the
    item is not rated.

    The Wilson interval is always computed on the pooled counts, also for weighted rates:
    a weighted mean has no exact binomial interval, and the pooled one is an honest
    measure of how many answers the figure rests on.

    Columns: evaluation_id, unit_id, item_id, n_positive, n_negative, n_unknown, n_valid,
    rate, ci_low, ci_high, weighted, rated, unsatisfactory, threshold.
    """
    per_group = group_rates(counts).merge(groups[["group_id", "weight"]], on="group_id",
                                          how="left")
    if (per_group["weight"] < 0).any():
        raise ValueError("rater group weights must not be negative")
    has_weight = per_group["weight"].notna()
    weighted_evals = has_weight.groupby(per_group["evaluation_id"]).any()
    answered = per_group["n_valid"] > 0
    weight = per_group["weight"].fillna(0.0).where(answered, 0.0)
    per_group = per_group.assign(
        w=weight, w_rate=weight * per_group["rate"].fillna(0.0))

    agg = per_group.groupby(ITEM_KEYS, as_index=False).agg(
        n_positive=("n_positive", "sum"), n_negative=("n_negative", "sum"),
        n_unknown=("n_unknown", "sum"), n_valid=("n_valid", "sum"),
        w=("w", "sum"), w_rate=("w_rate", "sum"))
    agg["weighted"] = agg["evaluation_id"].map(weighted_evals).fillna(False).astype(bool)
    pooled = _safe_ratio(agg["n_positive"], agg["n_valid"])
    agg["rate"] = pooled.where(~agg["weighted"], _safe_ratio(agg["w_rate"], agg["w"]))
    agg["ci_low"], agg["ci_high"] = wilson_interval(agg["n_positive"], agg["n_valid"])
    agg["rated"] = agg["rate"].notna()

    agg = agg.merge(_evaluation_rules(evaluations)[["evaluation_id", "threshold"]],
                    on="evaluation_id", how="left")
    agg["threshold"] = agg["threshold"].fillna(DEFAULT_THRESHOLD)
    agg["unsatisfactory"] = below_threshold(agg["rate"], agg["threshold"])
    return agg.drop(columns=["w", "w_rate"])


def ballot_totals(ballots: pd.DataFrame, evaluations: pd.DataFrame) -> pd.DataFrame:
    """Ballots per evaluation × unit (summed over groups) and whether it is judged (rule 6).

    Every evaluation appears, with 0 ballots if none were submitted.
    Columns: evaluation_id, unit_id, threshold, min_ballots, n_ballots, judged.
    """
    totals = ballots.groupby(EVAL_KEYS, as_index=False)["n_ballots"].sum()
    base = evaluations[EVAL_KEYS].merge(_evaluation_rules(evaluations), on="evaluation_id")
    out = base.merge(totals, on=EVAL_KEYS, how="left")
    out["n_ballots"] = out["n_ballots"].fillna(0).astype("int64")
    out["judged"] = out["n_ballots"] >= out["min_ballots"]
    return out


def item_results(counts: pd.DataFrame, ballots: pd.DataFrame, evaluations: pd.DataFrame,
                 groups: pd.DataFrame, items: pd.DataFrame,
                 units: pd.DataFrame) -> pd.DataFrame:
    """item_rates() joined with item text/position, unit name and the unit's ``judged``.

    Items of a unit that is not judged are still computed — organisers see them — but
    callers showing results to liaisons must keep only rows with ``judged`` True (rule 6:
    small groups would expose individual raters).
    """
    rates = item_rates(counts, groups, evaluations)
    out = (rates
           .merge(ballot_totals(ballots, evaluations)[[*EVAL_KEYS, "judged"]],
                  on=EVAL_KEYS, how="left")
           .merge(items[["item_id", "text", "position"]], on="item_id", how="left")
           .merge(units[["unit_id", "unit"]], on="unit_id", how="left"))
    out["judged"] = out["judged"].fillna(False).astype(bool)
    out["position"] = out["position"].astype("Int64")  # stays integer if an item is missing
    return out.sort_values([*EVAL_KEYS, "position", "item_id"], ignore_index=True)


def unit_results(counts: pd.DataFrame, ballots: pd.DataFrame, evaluations: pd.DataFrame,
                 groups: pd.DataFrame, items: pd.DataFrame,
                 units: pd.DataFrame, *, per_item: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per evaluation × unit with the make-up decision and its reason (rules 5–7).

    A unit needs make-up when it is judged (n_ballots ≥ min_ballots) and its
    unsatisfactory items are a strict majority of its rated items (items with a defined
    rate; unknown-only items are not rated). overall_rate is the mean of the rated item
    rates, for ranking. Every evaluation in ``evaluations`` appears.

    Columns: evaluation_id, unit_id, unit, committee_id, committee, n_ballots,
    min_ballots, threshold, n_rated_items, n_unsatisfactory, judged, needs_makeup,
    overall_rate, reason_zh, reason_en.

    ``per_item`` is item_results() of the same frames when the caller has it already
    (a dashboard shows both): passing it saves computing every item rate twice.
    """
    if per_item is None:
        per_item = item_results(counts, ballots, evaluations, groups, items, units)
    per_unit = per_item.groupby(EVAL_KEYS, as_index=False).agg(
        n_rated_items=("rated", "sum"), n_unsatisfactory=("unsatisfactory", "sum"),
        overall_rate=("rate", "mean"))  # mean skips NaN, i.e. unrated items
    out = (ballot_totals(ballots, evaluations)
           .merge(per_unit, on=EVAL_KEYS, how="left")
           .merge(units[["unit_id", "unit", "committee_id", "committee"]],
                  on="unit_id", how="left"))
    for col in ("n_rated_items", "n_unsatisfactory"):
        out[col] = out[col].fillna(0).astype("int64")
    # nullable: units outside any committee keep an integer id column, not float
    out["committee_id"] = out["committee_id"].astype("Int64")
    out["needs_makeup"] = out["judged"] & (2 * out["n_unsatisfactory"] > out["n_rated_items"])
    out["reason_zh"], out["reason_en"] = reason_texts(
        out, per_item[per_item["unsatisfactory"]])
    columns = ["evaluation_id", "unit_id", "unit", "committee_id", "committee", "n_ballots",
               "min_ballots", "threshold", "n_rated_items", "n_unsatisfactory", "judged",
               "needs_makeup", "overall_rate", "reason_zh", "reason_en"]
    return out[columns]
