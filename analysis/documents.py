"""JSON-ready nested results: unit → items → rater groups.

The JSON API and the dashboards both want one document per unit rather than three flat
frames. Everything here is plain Python (int, float, bool, str, None): NaN and pandas
NA become None, so ``json.dumps(doc, allow_nan=False)`` always works.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from analysis import disclosure
from analysis.scoring import (
    EVAL_KEYS,
    ITEM_KEYS,
    group_rates,
    item_results,
    unit_results,
)

UNIT_FIELDS = ["evaluation_id", "unit_id", "unit", "committee_id", "committee", "n_ballots",
               "min_ballots", "threshold", "judged", "needs_makeup", "reason", "reason_en",
               "overall_rate", "n_rated_items", "n_unsatisfactory"]
ITEM_FIELDS = ["item_id", "text", "position", "n_valid", "n_positive", "n_negative",
               "n_unknown", "rate", "ci_low", "ci_high", "weighted", "rated",
               "unsatisfactory"]
GROUP_FIELDS = ["group_id", "group", "weight", "n_ballots", "n_valid", "n_positive",
                "n_negative", "n_unknown", "rate", "ci_low", "ci_high"]


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as dicts of plain Python values, with NaN/NA replaced by None."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")


def _nest(children: pd.DataFrame, keys: list[str],
          fields: list[str]) -> dict[tuple, list[dict[str, Any]]]:
    """Map each key tuple to the list of its child records (in the frame's order)."""
    nested: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    key_rows = children[keys].itertuples(index=False, name=None)
    for key, record in zip(key_rows, json_records(children[fields])):
        nested[tuple(int(k) for k in key)].append(record)
    return nested


def results_document(counts: pd.DataFrame, ballots: pd.DataFrame,
                     evaluations: pd.DataFrame, groups: pd.DataFrame, items: pd.DataFrame,
                     units: pd.DataFrame, *, for_liaison: bool = False) -> list[dict[str, Any]]:
    """One JSON-safe dict per evaluation × unit, items nested, rater groups nested in items.

    Unit keys: evaluation_id, unit_id, unit, committee_id, committee, n_ballots,
    min_ballots, threshold, judged, needs_makeup, reason (Chinese), reason_en,
    overall_rate, n_rated_items, n_unsatisfactory, items.
    Item keys: item_id, text, position, n_valid, n_positive, n_negative, n_unknown, rate,
    ci_low, ci_high, weighted, rated, unsatisfactory, groups.
    Group keys: group_id, group, weight, n_ballots, n_valid, n_positive, n_negative,
    n_unknown, rate, ci_low, ci_high.

    Disclosure control (analysis/disclosure.py) applies to every reader alike —
    ``for_liaison`` is accepted for old callers and changes nothing: a unit that is
    not judged gets ``items == []`` and None for its overall rate, rated and
    unsatisfactory counts (rule 6); a unit's per-group breakdown is shown only if
    every rater group with ballots in it has at least min_ballots of them, since one
    hidden group beside shown ones could be worked out as pooled minus shown.
    """
    per_unit = unit_results(counts, ballots, evaluations, groups, items, units).rename(
        columns={"reason_zh": "reason"})
    per_item = item_results(counts, ballots, evaluations, groups, items, units)
    group_ballots = ballots.groupby([*EVAL_KEYS, "group_id"], as_index=False)["n_ballots"].sum()
    per_group = (group_rates(counts)
                 .merge(groups[["group_id", "group", "weight"]], on="group_id", how="left")
                 .merge(group_ballots, on=[*EVAL_KEYS, "group_id"], how="left")
                 .sort_values([*ITEM_KEYS, "group_id"]))
    per_group["n_ballots"] = per_group["n_ballots"].astype("Int64")

    per_group = disclosure.shown_group_rows(per_group, ballots, evaluations)
    per_item = disclosure.judged_rows(per_item)
    per_unit = disclosure.mask_unjudged(per_unit)

    groups_by_item = _nest(per_group, ITEM_KEYS, GROUP_FIELDS)
    items_by_unit = _nest(per_item, EVAL_KEYS, ITEM_FIELDS)
    documents = json_records(per_unit[UNIT_FIELDS])
    for doc in documents:
        unit_key = (doc["evaluation_id"], doc["unit_id"])
        doc["items"] = items_by_unit.get(unit_key, [])
        for item in doc["items"]:
            item["groups"] = groups_by_item.get((*unit_key, item["item_id"]), [])
    return documents
