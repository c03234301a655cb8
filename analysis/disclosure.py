"""Disclosure control: which figures may be shown at all, for every role and every surface.

Rule 6 of the scoring contract and the secrecy invariants: no figure that rests
on fewer than ``min_ballots`` ballots of a unit or of a rater group is shown,
organisers included, and no figure from which such a group can be subtracted
out. Every results surface (pages, charts, API, CLI, CSV/XLSX, print, raw
ballots) takes its rows through these functions, so one rule decides.

* A unit (evaluation) with fewer ballots than its minimum is *not judged*: its
  per-item figures, overall rate, rated and unsatisfactory counts and reason
  are withheld; rankings put it last without a rate.
* A rater group's own figures (its rates, counts, option shares, the group
  label on a comment) are shown only where the unit is judged and the group has
  at least ``min_ballots`` ballots — and only if *every* group with ballots in
  that unit does: were one small group hidden beside shown ones, the unit's
  pooled figures minus the shown groups would give the hidden group exactly
  (complementary suppression). So a unit's per-group breakdown is all or none.
"""

from __future__ import annotations

import pandas as pd

from analysis.scoring import EVAL_KEYS, ballot_totals

#: Unit-level figures withheld for a unit that is not judged.
UNIT_FIGURES = ["overall_rate", "n_rated_items", "n_unsatisfactory"]


def group_sizes(ballots: pd.DataFrame, evaluations: pd.DataFrame) -> pd.DataFrame:
    """Ballots per evaluation × unit × group with the unit's min_ballots and ``judged``."""
    rules = ballot_totals(ballots, evaluations)[[*EVAL_KEYS, "min_ballots", "judged"]]
    sizes = ballots.groupby([*EVAL_KEYS, "group_id"], as_index=False)["n_ballots"].sum()
    return sizes.merge(rules, on=EVAL_KEYS, how="left")


def breakdown_units(ballots: pd.DataFrame, evaluations: pd.DataFrame) -> set[tuple[int, int]]:
    """(evaluation_id, unit_id) whose per-group breakdown may be shown: judged, and no group below the minimum."""
    sizes = group_sizes(ballots, evaluations)
    if sizes.empty:
        return set()
    sizes = sizes[sizes["n_ballots"] > 0]
    small = sizes["n_ballots"] < sizes["min_ballots"]
    bad = set(zip(sizes.loc[small | ~sizes["judged"].astype(bool), "evaluation_id"].astype(int),
                  sizes.loc[small | ~sizes["judged"].astype(bool), "unit_id"].astype(int)))
    every = set(zip(sizes["evaluation_id"].astype(int), sizes["unit_id"].astype(int)))
    return every - bad


def _keys(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(list(zip(frame["evaluation_id"].astype(int), frame["unit_id"].astype(int))), index=frame.index,
                     dtype=object)


def shown_group_rows(frame: pd.DataFrame, ballots: pd.DataFrame, evaluations: pd.DataFrame) -> pd.DataFrame:
    """Only the rows of ``frame`` (with evaluation_id, unit_id) in units whose group breakdown may be shown."""
    if frame.empty:
        return frame
    allowed = breakdown_units(ballots, evaluations)
    return frame[_keys(frame).isin(allowed)]


#: group_id of the pooled "all raters" row shown where a unit's per-group breakdown is withheld.
ALL_GROUPS = 0


def pool_groups(counts: pd.DataFrame) -> pd.DataFrame:
    """Answer counts summed over rater groups, as one group with id :data:`ALL_GROUPS`.

    For a judged unit whose breakdown is withheld: the unit's option shares rest on
    all its ballots (at least ``min_ballots``), so they may be shown pooled.
    """
    keys = [c for c in counts.columns if c not in ("group_id", "n")]
    pooled = counts.groupby(keys, as_index=False)["n"].sum()
    pooled.insert(0, "group_id", ALL_GROUPS)
    return pooled[list(counts.columns)]


def judged_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the rows of units that are judged (a frame with a boolean ``judged`` column)."""
    return frame[frame["judged"].fillna(False).astype(bool)]


def mask_unjudged(units: pd.DataFrame) -> pd.DataFrame:
    """unit_results() with the figures of units not judged withheld (None).

    Their reason stays: it says only how many ballots there are and that the unit is not judged.
    """
    out = units.copy()
    judged = out["judged"].fillna(False).astype(bool)
    for column in UNIT_FIGURES:
        if column in out:
            out[column] = out[column].astype(object).where(judged, None)
    return out


def rank_units(units: pd.DataFrame) -> pd.DataFrame:
    """Units best first by overall rate; units not judged last (by name), whatever their figures."""
    judged = units["judged"].fillna(False).astype(bool)
    ordered = units.assign(_unjudged=~judged, _rate=units["overall_rate"].where(judged).astype(float))
    ordered = ordered.sort_values(["_unjudged", "_rate", "unit"], ascending=[True, False, True], na_position="last")
    return ordered.drop(columns=["_unjudged", "_rate"])
