"""The scoring contract: answer tallies → rates → unsatisfactory items → make-up.

Every function takes plain DataFrames (built by one grouped SQL query elsewhere, or by
hand in tests) and returns DataFrames; nothing here knows about Flask or the database.
The numbered rules in docs/design.md, "The scoring contract", are implemented here and the
comments cite them as (rule N). Each step is one of pandas' own operations (groupby, merge,
join, reindex) on a campaign's few thousand tally rows; bench/README.md, section 3, has what
that costs at 1M ballots and where the time goes.

Input frames (column names are the contract):

* ``counts``: evaluation_id, unit_id, item_id, group_id, option_id, polarity, n
  (one row per option chosen at least once; blank answers have no row) — or the same
  already summed by polarity: evaluation_id, unit_id, item_id, group_id, n_positive,
  n_negative, n_unknown (one row per key; what a campaign's results read, since only
  the option-share charts need the options)
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
    den = den.astype(float)
    return num.astype(float) / den.where(den != 0)


def _evaluation_rules(evaluations: pd.DataFrame) -> pd.DataFrame:
    """evaluation_id → threshold, min_ballots with the documented defaults filled in."""
    return pd.DataFrame({
        "evaluation_id": evaluations["evaluation_id"],
        "threshold": evaluations["threshold"].astype(float).fillna(DEFAULT_THRESHOLD),
        "min_ballots": evaluations["min_ballots"].fillna(DEFAULT_MIN_BALLOTS).astype("int64"),
    })


def polarity_sums(counts: pd.DataFrame) -> pd.DataFrame:
    """Per-option counts summed by polarity: one row per evaluation × unit × item × group, sorted by key.

    Columns: the keys, n_positive, n_negative, n_unknown (a polarity nobody chose counts 0).
    Counts already in that shape (see the module docstring) are only sorted.
    """
    n_columns = [f"n_{p}" for p in POLARITIES]
    if "polarity" not in counts.columns and set(n_columns) <= set(counts.columns):
        out = counts[[*GROUP_KEYS, *n_columns]].sort_values(GROUP_KEYS, ignore_index=True)
    else:
        polarity = pd.Categorical(counts["polarity"])  # load_frames() hands it over categorical already
        if polarity.isna().any() or not set(polarity.categories) <= set(POLARITIES):
            unknown_polarities = set(counts["polarity"].unique()) - set(POLARITIES)
            raise ValueError(f"unexpected polarity values: {sorted(unknown_polarities)}")
        polarity = polarity.set_categories(POLARITIES)
        # The counts spread into one column per polarity (zeros elsewhere), summed per key.
        spread = counts[GROUP_KEYS].assign(**{f"n_{p}": counts["n"].where(polarity == p, 0) for p in POLARITIES})
        out = spread.groupby(GROUP_KEYS, as_index=False).sum()
    return out.astype(dict.fromkeys([*GROUP_KEYS, *n_columns], "int64"))


def group_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Tally answers per evaluation × unit × item × rater group (rules 1–2).

    Returns one row per key, sorted by key, with n_positive, n_negative, n_unknown,
    n_valid (= positive + negative), rate (n_positive / n_valid, NaN when n_valid is 0)
    and the Wilson interval ci_low, ci_high.
    """
    out = polarity_sums(counts)
    out["n_valid"] = out["n_positive"] + out["n_negative"]
    out["rate"] = _safe_ratio(out["n_positive"], out["n_valid"])
    out["ci_low"], out["ci_high"] = wilson_interval(out["n_positive"], out["n_valid"])
    return out


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
    weighted, rate, ci_low, ci_high, rated, threshold, unsatisfactory.
    """
    per_group = group_rates(counts)
    weight = per_group["group_id"].map(groups.set_index("group_id")["weight"]).astype(float)
    if (weight < 0).any():
        raise ValueError("rater group weights must not be negative")
    w = weight.fillna(0.0).where(per_group["n_valid"] > 0, 0.0)
    per_group = per_group.assign(w=w, w_rate=w * per_group["rate"].fillna(0.0), n_weights=weight.notna())
    out = per_group.groupby(ITEM_KEYS, as_index=False)[
        ["n_positive", "n_negative", "n_unknown", "n_valid", "w", "w_rate", "n_weights"]].sum()
    # An evaluation is weighted if any group that answered in it has a weight.
    out["weighted"] = out.groupby("evaluation_id")["n_weights"].transform("sum") > 0
    pooled = _safe_ratio(out["n_positive"], out["n_valid"])
    out["rate"] = pooled.where(~out["weighted"], _safe_ratio(out["w_rate"], out["w"]))
    out["ci_low"], out["ci_high"] = wilson_interval(out["n_positive"], out["n_valid"])
    out["rated"] = out["rate"].notna()
    out = out.merge(_evaluation_rules(evaluations)[["evaluation_id", "threshold"]], on="evaluation_id", how="left")
    out["threshold"] = out["threshold"].fillna(DEFAULT_THRESHOLD)
    out["unsatisfactory"] = below_threshold(out["rate"], out["threshold"])
    return out.drop(columns=["w", "w_rate", "n_weights"])


def ballot_totals(ballots: pd.DataFrame, evaluations: pd.DataFrame) -> pd.DataFrame:
    """Ballots per evaluation × unit (summed over groups) and whether it is judged (rule 6).

    Every evaluation appears, with 0 ballots if none were submitted.
    Columns: evaluation_id, unit_id, threshold, min_ballots, n_ballots, judged.
    """
    totals = ballots.groupby(EVAL_KEYS)["n_ballots"].sum()
    out = _evaluation_rules(evaluations)
    out.insert(1, "unit_id", evaluations["unit_id"])
    out["n_ballots"] = totals.reindex(pd.MultiIndex.from_frame(out[EVAL_KEYS]), fill_value=0).to_numpy()
    out["n_ballots"] = out["n_ballots"].astype("int64")
    out["judged"] = out["n_ballots"] >= out["min_ballots"]
    return out.reset_index(drop=True)


def item_results(counts: pd.DataFrame, ballots: pd.DataFrame, evaluations: pd.DataFrame,
                 groups: pd.DataFrame, items: pd.DataFrame,
                 units: pd.DataFrame) -> pd.DataFrame:
    """item_rates() joined with item text/position, unit name and the unit's ``judged``.

    Items of a unit that is not judged are still computed — organisers see them — but
    callers showing results to liaisons must keep only rows with ``judged`` True (rule 6:
    small groups would expose individual raters).
    """
    judged = ballot_totals(ballots, evaluations).set_index(EVAL_KEYS)["judged"]
    out = (item_rates(counts, groups, evaluations)
           .join(judged, on=EVAL_KEYS)
           .join(items.set_index("item_id")[["text", "position"]], on="item_id")
           .join(units.set_index("unit_id")["unit"], on="unit_id"))
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
    per_unit = (per_item.groupby(EVAL_KEYS)[["rated", "unsatisfactory", "rate"]]
                .agg({"rated": "sum", "unsatisfactory": "sum", "rate": "mean"})  # mean skips NaN: unrated items
                .rename(columns={"rated": "n_rated_items", "unsatisfactory": "n_unsatisfactory",
                                 "rate": "overall_rate"}))
    out = (ballot_totals(ballots, evaluations)
           .join(per_unit, on=EVAL_KEYS)
           .join(units.set_index("unit_id")[["unit", "committee_id", "committee"]], on="unit_id"))
    for column in ("n_rated_items", "n_unsatisfactory"):
        out[column] = out[column].fillna(0).astype("int64")
    # nullable: units outside any committee keep an integer id column, not float
    out["committee_id"] = out["committee_id"].astype("Int64")
    out["needs_makeup"] = out["judged"] & (2 * out["n_unsatisfactory"] > out["n_rated_items"])
    out["reason_zh"], out["reason_en"] = reason_texts(out, per_item[per_item["unsatisfactory"]])
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
