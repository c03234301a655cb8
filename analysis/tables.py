"""Flat tables from results documents, for the CSV and XLSX exports.

A results document (``evaluation.results.documents.campaign_document`` / ``evaluation_document``)
is nested: units → items → rater groups. Spreadsheets want flat rows, so this module
flattens it into one table per level. Column names are the JSON field names, so a
figure in the CSV can be checked against the API by name; the XLSX adds a label in
the reader's language in front of each (``translate``, Chinese by default). Pure:
dicts in, DataFrames / text / bytes out, no Flask.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from analysis.exports import csv_chunks, results_xlsx


def N_(text: str) -> str:
    """Mark a header label or sheet name for extraction; ``translate`` translates it."""
    return text


def _same(text: str) -> str:
    return text


UNIT_COLUMNS = ["evaluation_id", "committee_id", "committee", "unit_id", "unit", "n_ballots",
                "min_ballots", "threshold", "judged", "needs_makeup", "n_rated_items",
                "n_unsatisfactory", "overall_rate", "reason", "reason_en"]
ITEM_COLUMNS = ["item_id", "item_position", "item", "n_valid", "n_positive", "n_negative",
                "n_unknown", "rate", "ci_low", "ci_high", "weighted", "rated", "unsatisfactory"]
GROUP_COLUMNS = ["evaluation_id", "unit_id", "unit", "item_id", "item_position", "item",
                 "group_id", "group", "weight", "n_ballots", "n_valid", "n_positive",
                 "n_negative", "n_unknown", "rate", "ci_low", "ci_high"]
COMMITTEE_COLUMNS = ["committee_id", "committee", "n_units", "n_judged", "n_makeup", "n_ballots",
                     "mean_overall_rate"]
#: Whole numbers: kept as nullable integers so an empty cell does not turn 1234567 into 1.23457e+06.
INTEGER_KEYS = frozenset({"evaluation_id", "committee_id", "unit_id", "n_ballots", "min_ballots",
                          "n_rated_items", "n_unsatisfactory", "item_id", "item_position", "n_valid",
                          "n_positive", "n_negative", "n_unknown", "group_id", "n_units", "n_judged",
                          "n_makeup"})
#: Shown as 0.0% in XLSX.
PERCENT_KEYS = frozenset({"threshold", "overall_rate", "rate", "ci_low", "ci_high", "mean_overall_rate"})
#: XLSX header labels (put in front of the JSON name), in Chinese; translated when written.
LABELS = {
    "evaluation_id": N_("测评编号"), "committee_id": N_("党(工)委编号"), "committee": N_("党(工)委"),
    "unit_id": N_("单位编号"), "unit": N_("单位"), "n_ballots": N_("票数"), "min_ballots": N_("最低票数"),
    "threshold": N_("阈值"), "judged": N_("是否评判"), "needs_makeup": N_("需要补课"), "n_rated_items": N_("有效指标数"),
    "n_unsatisfactory": N_("不满意指标数"), "overall_rate": N_("综合满意率"), "reason": N_("说明"),
    "reason_en": N_("说明(英文)"), "item_id": N_("指标编号"), "item_position": N_("序号"), "item": N_("指标"),
    "n_valid": N_("有效评价数"), "n_positive": N_("肯定评价数"), "n_negative": N_("否定评价数"),
    "n_unknown": N_("不了解数"), "rate": N_("满意率"), "ci_low": N_("95%区间下限"), "ci_high": N_("95%区间上限"),
    "weighted": N_("加权"), "rated": N_("已评价"), "unsatisfactory": N_("不满意"), "group_id": N_("测评主体编号"),
    "group": N_("测评主体"), "weight": N_("权重"), "n_units": N_("单位数"), "n_judged": N_("评判单位数"),
    "n_makeup": N_("需补课单位数"), "mean_overall_rate": N_("平均综合满意率"),
}


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns``; integer columns as Int64 (empty cells allowed)."""
    frame = pd.DataFrame(rows, columns=columns)
    for column in INTEGER_KEYS.intersection(columns):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    return frame


def _item_fields(item: dict[str, Any]) -> dict[str, Any]:
    """An item's figures under the table's names (text → item, position → item_position)."""
    row = {key: item.get(key) for key in ITEM_COLUMNS}
    row["item"], row["item_position"] = item.get("text"), item.get("position")
    return row


def unit_table(units: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per unit document: the unit-level fields only."""
    return _frame([{key: unit.get(key) for key in UNIT_COLUMNS} for unit in units], UNIT_COLUMNS)


def item_table(units: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per unit × item, unit-level columns first; a unit without rated items
    (no ballots yet) still has one row, with the item columns empty."""
    rows = []
    for unit in units:
        head = {key: unit.get(key) for key in UNIT_COLUMNS}
        rows.extend({**head, **_item_fields(item)} for item in unit["items"])
        if not unit["items"]:
            rows.append(head)
    return _frame(rows, UNIT_COLUMNS + ITEM_COLUMNS)


def group_table(units: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per unit × item × rater group."""
    rows = []
    for unit in units:
        for item in unit["items"]:
            item_row = _item_fields(item)
            for group in item.get("groups", []):
                row = {**item_row, **group, "evaluation_id": unit["evaluation_id"],
                       "unit_id": unit["unit_id"], "unit": unit["unit"]}
                rows.append({key: row.get(key) for key in GROUP_COLUMNS})
    return _frame(rows, GROUP_COLUMNS)


def committee_table(committees: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per committee roll-up record."""
    return _frame([{key: c.get(key) for key in COMMITTEE_COLUMNS} for c in committees],
                  COMMITTEE_COLUMNS)


def results_csv_chunks(document: dict[str, Any]) -> Iterator[str]:
    """The results CSV (one row per unit × item) as streamed text chunks, BOM first."""
    return csv_chunks(item_table(document["units"]))


def _header(key: str, translate=_same) -> str:
    """A workbook column header: the label, then the JSON name ('单位 unit')."""
    return f"{translate(LABELS[key])} {key}" if key in LABELS else f"{key} {key}"


def _labelled(frame: pd.DataFrame, translate=_same) -> pd.DataFrame:
    """Columns renamed 'label key' for people reading the workbook."""
    return frame.rename(columns={key: _header(key, translate) for key in frame.columns})


def results_workbook(document: dict[str, Any], translate=_same) -> bytes:
    """The results XLSX: 单位 units, 指标 items, and 党(工)委 committees for a campaign
    document or 测评主体 groups for an evaluation document (sheet names and header
    labels through ``translate``; the JSON names stay in the headers)."""
    units = document["units"]
    levels = {translate(N_("单位 units")): unit_table(units), translate(N_("指标 items")): item_table(units)}
    if "committees" in document:
        levels[translate(N_("党(工)委 committees"))] = committee_table(document["committees"])
    else:
        levels[translate(N_("测评主体 groups"))] = group_table(units)
    percent = [_header(key, translate) for key in PERCENT_KEYS]
    return results_xlsx({name: _labelled(frame, translate) for name, frame in levels.items()}, percent)
