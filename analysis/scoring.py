"""The scoring contract: answer tallies → rates → unsatisfactory items → make-up.

Every function takes plain DataFrames (built by one grouped SQL query elsewhere, or by
hand in tests) and returns DataFrames; nothing here knows about Flask or the database.
The numbered rules in docs/design.md, "The scoring contract", are implemented here and the
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

from analysis import grouping
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


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den as float, NaN where den is 0 (no division warnings)."""
    den_f = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den_f != 0, np.asarray(num, dtype=float) / den_f, np.nan)


def _group_tally(counts: pd.DataFrame) -> dict[str, np.ndarray]:
    """group_rates() as a dict of column arrays, keys in sorted order (rules 1–2)."""
    codes, found = pd.factorize(counts["polarity"], use_na_sentinel=False)
    found = list(found)
    unknown_polarities = set(found) - set(POLARITIES)
    if unknown_polarities:
        raise ValueError(f"unexpected polarity values: {sorted(unknown_polarities)}")
    keys, keep = grouping.int_keys(counts, GROUP_KEYS)
    n = counts["n"].to_numpy()
    if keep is not None:
        codes, n = codes[keep], n[keep]
    order = grouping.sort_order(keys)
    if order is not None:
        keys, codes, n = [k[order] for k in keys], codes[order], n[order]
    starts = grouping.run_starts(keys)
    out = {key: k[starts] for key, k in zip(GROUP_KEYS, keys)}
    for polarity in POLARITIES:  # a polarity nobody chose matches no code (-2) and sums to 0
        code = found.index(polarity) if polarity in found else -2
        out[f"n_{polarity}"] = grouping.run_sums(np.where(codes == code, n, 0), starts).astype("int64")
    out["n_valid"] = out["n_positive"] + out["n_negative"]
    out["rate"] = _safe_ratio(out["n_positive"], out["n_valid"])
    out["ci_low"], out["ci_high"] = wilson_interval(out["n_positive"], out["n_valid"])
    return out


def group_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Tally answers per evaluation × unit × item × rater group (rules 1–2).

    Returns one row per key, sorted by key, with n_positive, n_negative, n_unknown,
    n_valid (= positive + negative), rate (n_positive / n_valid, NaN when n_valid is 0)
    and the Wilson interval ci_low, ci_high.
    """
    return pd.DataFrame(_group_tally(counts))


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
    weighted, rate, ci_low, ci_high, rated, threshold, unsatisfactory.
    """
    tally = _group_tally(counts)
    weight = np.asarray(grouping.take(groups, "group_id", tally["group_id"], ["weight"])["weight"], dtype=float)
    if (weight < 0).any():
        raise ValueError("rater group weights must not be negative")
    # Rows are sorted by evaluation first: an evaluation is weighted if any of its rows has a weight.
    eval_starts = grouping.run_starts([tally["evaluation_id"]])
    eval_weighted = grouping.run_sums((~np.isnan(weight)).astype(np.int64), eval_starts) > 0
    row_weighted = np.repeat(eval_weighted, grouping.run_lengths(eval_starts, len(weight)))
    w = np.where(tally["n_valid"] > 0, np.nan_to_num(weight, nan=0.0), 0.0)
    w_rate = w * np.nan_to_num(tally["rate"], nan=0.0)

    starts = grouping.run_starts([tally[k] for k in ITEM_KEYS])
    out = {key: tally[key][starts] for key in ITEM_KEYS}
    for column in ("n_positive", "n_negative", "n_unknown", "n_valid"):
        out[column] = grouping.run_sums(tally[column], starts)
    # Floats summed as pandas summed these sorted rows (reduceat), to the last bit.
    w_sum, w_rate_sum = grouping.run_sums(w, starts), grouping.run_sums(w_rate, starts)
    out["weighted"] = row_weighted[starts]
    pooled = _safe_ratio(out["n_positive"], out["n_valid"])
    out["rate"] = np.where(out["weighted"], _safe_ratio(w_rate_sum, w_sum), pooled)
    out["ci_low"], out["ci_high"] = wilson_interval(out["n_positive"], out["n_valid"])
    out["rated"] = ~np.isnan(out["rate"])
    rules = _evaluation_rules(evaluations)
    threshold = np.asarray(grouping.take(rules, "evaluation_id", out["evaluation_id"], ["threshold"])["threshold"],
                           dtype=float)
    out["threshold"] = np.where(np.isnan(threshold), DEFAULT_THRESHOLD, threshold)
    out["unsatisfactory"] = out["rate"] < out["threshold"] - RATE_TOLERANCE  # NaN is never below
    frame = pd.DataFrame(out)
    grouping.empty_join_keys(frame, rules, ["evaluation_id"])
    return frame


def ballot_totals(ballots: pd.DataFrame, evaluations: pd.DataFrame) -> pd.DataFrame:
    """Ballots per evaluation × unit (summed over groups) and whether it is judged (rule 6).

    Every evaluation appears, with 0 ballots if none were submitted.
    Columns: evaluation_id, unit_id, threshold, min_ballots, n_ballots, judged.
    """
    totals: dict[tuple, int] = {}
    present = ballots["n_ballots"].notna().to_numpy()  # as groupby's sum, which skips missing values
    for e, u, n in zip(*(ballots[c].to_numpy()[present].tolist() for c in ("evaluation_id", "unit_id", "n_ballots"))):
        totals[e, u] = totals.get((e, u), 0) + n
    rules = _evaluation_rules(evaluations)
    out = pd.DataFrame({"evaluation_id": evaluations["evaluation_id"].array,
                        "unit_id": evaluations["unit_id"].array,
                        "threshold": rules["threshold"].to_numpy(),
                        "min_ballots": rules["min_ballots"].to_numpy()})
    pairs = zip(out["evaluation_id"].tolist(), out["unit_id"].tolist())
    out["n_ballots"] = np.array([totals.get(pair, 0) for pair in pairs], dtype=float).astype("int64")
    out["judged"] = out["n_ballots"] >= out["min_ballots"]
    grouping.empty_join_keys(out, ballots, EVAL_KEYS)
    return out


def item_results(counts: pd.DataFrame, ballots: pd.DataFrame, evaluations: pd.DataFrame,
                 groups: pd.DataFrame, items: pd.DataFrame,
                 units: pd.DataFrame) -> pd.DataFrame:
    """item_rates() joined with item text/position, unit name and the unit's ``judged``.

    Items of a unit that is not judged are still computed — organisers see them — but
    callers showing results to liaisons must keep only rows with ``judged`` True (rule 6:
    small groups would expose individual raters).
    """
    out = item_rates(counts, groups, evaluations)
    totals = ballot_totals(ballots, evaluations)
    judged = grouping.pair_lookup((totals["evaluation_id"], totals["unit_id"]), totals["judged"].tolist(),
                                  (out["evaluation_id"], out["unit_id"]), missing=False)
    out["judged"] = np.array(judged, dtype=bool)
    for column, values in grouping.take(items, "item_id", out["item_id"], ["text", "position"]).items():
        out[column] = values
    out["unit"] = grouping.take(units, "unit_id", out["unit_id"], ["unit"])["unit"]
    out["position"] = out["position"].astype("Int64")  # stays integer if an item is missing
    for right, keys in ((totals, EVAL_KEYS), (items, ["item_id"]), (units, ["unit_id"])):
        grouping.empty_join_keys(out, right, keys)
    position = out["position"].array
    # Sorted like sort_values([*EVAL_KEYS, "position", "item_id"]): a missing position last.
    order = np.lexsort((out["item_id"].to_numpy(), position.to_numpy(dtype="int64", na_value=0),
                        position.isna(), out["unit_id"].to_numpy(), out["evaluation_id"].to_numpy()))
    return out.take(order).reset_index(drop=True)


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
    keys, keep = grouping.int_keys(per_item, EVAL_KEYS)
    order = grouping.sort_order(keys)
    was_sorted = order is None and keep is None
    rows = np.arange(len(per_item)) if keep is None else np.flatnonzero(keep)
    if order is not None:
        keys, rows = [k[order] for k in keys], rows[order]
    starts = grouping.run_starts(keys)
    per_unit = {
        "n_rated_items": grouping.run_sums(per_item["rated"].to_numpy(dtype=np.int64)[rows], starts),
        "n_unsatisfactory": grouping.run_sums(per_item["unsatisfactory"].to_numpy(dtype=np.int64)[rows], starts),
        "overall_rate": grouping.run_means(per_item["rate"].to_numpy(dtype=float)[rows], starts, was_sorted),
    }  # the mean skips NaN, i.e. unrated items
    out = ballot_totals(ballots, evaluations)
    found = np.array(grouping.pair_lookup((keys[0][starts], keys[1][starts]), list(range(len(starts))),
                                          (out["evaluation_id"], out["unit_id"]), missing=-1), dtype=np.intp)
    for column, values in grouping.take(units, "unit_id", out["unit_id"],
                                        ["unit", "committee_id", "committee"]).items():
        out[column] = values
    # found is -1 for an evaluation without items: it picks the appended 0 / NaN
    for column in ("n_rated_items", "n_unsatisfactory"):
        out[column] = np.append(per_unit[column], 0)[found].astype("int64")
    out["overall_rate"] = np.append(per_unit["overall_rate"], np.nan)[found]
    for right, keys in ((per_item, EVAL_KEYS), (units, ["unit_id"])):
        grouping.empty_join_keys(out, right, keys)
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
