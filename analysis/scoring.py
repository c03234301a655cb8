"""The scoring contract: answer tallies → rates → unsatisfactory items → make-up.

Every function takes plain DataFrames (built by one grouped SQL query elsewhere, or by
hand in tests) and returns DataFrames; nothing here knows about Flask or the database.
The numbered rules in DESIGN.md, "The scoring contract", are implemented here and the
comments cite them as (rule N).

Input frames (column names are the contract):

* ``counts``: evaluation_id, unit_id, item_id, group_id, option_id, polarity, n
  (one row per option chosen at least once; blank answers have no row)
* ``ballots``: evaluation_id, unit_id, group_id, n_ballots
* ``evaluations``: evaluation_id, unit_id, threshold, min_ballots
* ``groups``: group_id, group, weight (NaN = no weight set)
* ``items``: item_id, text, position
* ``units``: unit_id, unit, committee_id, committee
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.reasons import reason_texts

#: z for a two-sided 95% interval, to the precision the tests pin.
Z95 = 1.959963985
DEFAULT_THRESHOLD = 0.60
DEFAULT_MIN_BALLOTS = 8
#: Rates are ratios of small integers (or weighted means of them); floating point can
#: land one ulp under the threshold (0.1·0.6 + 0.2·0.6)/0.3 = 0.5999999999999999.
#: Real distances between distinct rates are ≥ 1/(n_valid²) ≫ 1e-9, so this is safe.
RATE_TOLERANCE = 1e-9
POLARITIES = ("positive", "negative", "unknown")

EVAL_KEYS = ["evaluation_id", "unit_id"]
ITEM_KEYS = [*EVAL_KEYS, "item_id"]
GROUP_KEYS = [*ITEM_KEYS, "group_id"]

#: What wilson_interval() accepts and returns, element-wise.
Numeric = float | int | np.ndarray | pd.Series


def wilson_interval(k: Numeric, n: Numeric, z: float = Z95) -> tuple[Numeric, Numeric]:
    """Wilson score interval for k successes out of n, vectorised.

    Accepts scalars, arrays or Series (k and n broadcast together) and returns a pair
    ``(low, high)`` of the same kind: Series keep k's index, scalars come back as floats.
    Where ``n == 0`` both ends are NaN (the rate is undefined, rule 2).
    """
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_arr / n_arr
        z2 = z * z
        denom = 1.0 + z2 / n_arr
        centre = (p + z2 / (2.0 * n_arr)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n_arr + z2 / (4.0 * n_arr * n_arr)) / denom
    defined = n_arr > 0
    # clip: rounding can push the ends a hair outside [0, 1] when p is 0 or 1
    low = np.where(defined, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(defined, np.clip(centre + half, 0.0, 1.0), np.nan)
    if isinstance(k, pd.Series):
        return pd.Series(low, index=k.index), pd.Series(high, index=k.index)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def below_threshold(rate: pd.Series, threshold: pd.Series | float) -> pd.Series:
    """True where ``rate < threshold`` beyond floating-point noise (rule 4).

    Exactly at the threshold is satisfactory, so 3/5 at 0.60 is not below; an undefined
    (NaN) rate is never below.
    """
    return (rate < threshold - RATE_TOLERANCE).fillna(False).astype(bool)


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


def committee_rollup(unit_results: pd.DataFrame) -> pd.DataFrame:
    """Summarise unit_results() per committee (党委), for the organisers' overview.

    Units are counted once even if they have several evaluations in the frame (filter
    to one round first for clean figures). mean_overall_rate averages only judged
    units: figures from too few ballots should not move a committee's standing.
    Units without a committee form one row with committee_id/committee missing.

    Columns: committee_id, committee, n_units, n_judged, n_makeup, n_ballots,
    mean_overall_rate.
    """
    frame = unit_results.assign(
        judged_unit=unit_results["unit_id"].where(unit_results["judged"]),
        makeup_unit=unit_results["unit_id"].where(unit_results["needs_makeup"]),
        judged_rate=unit_results["overall_rate"].where(unit_results["judged"]))
    out = frame.groupby(["committee_id", "committee"], dropna=False, as_index=False).agg(
        n_units=("unit_id", "nunique"), n_judged=("judged_unit", "nunique"),
        n_makeup=("makeup_unit", "nunique"), n_ballots=("n_ballots", "sum"),
        mean_overall_rate=("judged_rate", "mean"))
    return out.sort_values("committee_id", ignore_index=True, na_position="last")
