"""analysis.progress: share of units per committee that completed each milestone, and its heatmap."""
from __future__ import annotations

import math

import pandas as pd

from analysis.progress import NO_COMMITTEE, TOTAL_LABEL, progress_figure, progress_pivot, progress_table

UNITS = pd.DataFrame({"unit_id": [1, 2, 3, 4], "committee_id": [20, 20, 10, None],
                      "committee": ["乙党委", "乙党委", "<b>甲</b>党委", None]})
MILESTONES = pd.DataFrame({"key": ["s1", "s2", "lb"], "label": ["学习", "调研", "回头看"]})
DONE = pd.DataFrame({"unit_id": [1, 1, 2, 3, 1, 99, 4], "key": ["s1", "s1", "s1", "s2", "lb", "s1", "zz"]})


def _cell(table, committee, key):
    row = table[(table["committee"] == committee) & (table["key"] == key)]
    assert len(row) == 1
    return row.iloc[0]


def test_shares_per_committee_and_total():
    table = progress_table(UNITS, MILESTONES, DONE)
    # 3 committee groups (one for units without committee) + total, × 3 milestones
    assert len(table) == 12
    a = _cell(table, "乙党委", "s1")
    assert (a.n_units, a.n_done, a.share) == (2, 2, 1.0)  # unit 1's duplicate counts once
    assert _cell(table, "乙党委", "s2").share == 0.0
    assert _cell(table, "乙党委", "lb").share == 0.5
    assert _cell(table, "<b>甲</b>党委", "s2").share == 1.0
    lone = _cell(table, NO_COMMITTEE, "s1")
    assert (lone.n_units, lone.n_done) == (1, 0)  # its "zz" completion is not a milestone
    total = _cell(table, TOTAL_LABEL, "s1")
    assert (total.n_units, total.n_done) == (4, 2) and bool(total.is_total)  # unit 99 is not counted
    assert math.isclose(_cell(table, TOTAL_LABEL, "s2").share, 0.25)
    # committees in id order, then no committee, then the total; milestones in plan order
    order = list(dict.fromkeys(table["committee"]))
    assert order == ["<b>甲</b>党委", "乙党委", NO_COMMITTEE, TOTAL_LABEL]
    assert list(table[table["committee"] == "乙党委"]["key"]) == ["s1", "s2", "lb"]


def test_pivot_rows_for_the_page_table():
    rows = progress_pivot(progress_table(UNITS, MILESTONES, DONE))
    assert [r["committee"] for r in rows][-1] == TOTAL_LABEL and rows[-1]["is_total"]
    second = next(r for r in rows if r["committee"] == "乙党委")
    assert second["n_units"] == 2 and [c["n_done"] for c in second["cells"]] == [2, 0, 1]


def test_empty_inputs_give_an_empty_table():
    assert progress_table(UNITS.iloc[0:0], MILESTONES, DONE).empty
    assert progress_table(UNITS, MILESTONES.iloc[0:0], DONE).empty
    table = progress_table(UNITS, MILESTONES, DONE.iloc[0:0])
    assert (table["n_done"] == 0).all() and (table["share"] == 0).all()


def test_figure_is_a_labelled_heatmap_with_inert_names():
    fig = progress_figure(progress_table(UNITS, MILESTONES, DONE))
    heat = fig.data[0]
    assert heat.type == "heatmap" and list(heat.x) == ["学习", "调研", "回头看"]
    assert list(heat.y) == ["&lt;b&gt;甲&lt;/b&gt;党委", "乙党委", NO_COMMITTEE, TOTAL_LABEL]
    assert [list(r) for r in heat.z][1] == [1.0, 0.0, 0.5]
    assert [list(r) for r in heat.text][3] == ["2/4", "1/4", "1/4"]
    assert "<b>" not in fig.to_json()
