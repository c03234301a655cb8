"""Tests for analysis.figures: they build, scale, colour by status and keep names inert."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis.figures import (
    JUDGED_COLOUR,
    MAKEUP_COLOUR,
    NOT_JUDGED_COLOUR,
    heatmap_figure,
    option_shares_figure,
    ranking_figure,
)

SCRIPT = "<script>alert(1)</script>"


def many_units(n: int = 272) -> pd.DataFrame:
    """unit_results()-shaped rows: every 10th not judged, every 7th (judged) make-up."""
    ids = np.arange(1, n + 1)
    judged = ids % 10 != 0
    return pd.DataFrame({
        "evaluation_id": ids, "unit_id": ids, "unit": [f"第{i}党支部" for i in ids],
        "n_ballots": np.where(judged, 20, 5), "threshold": 0.6,
        "n_rated_items": 5, "n_unsatisfactory": np.where(ids % 7 == 0, 3, 0),
        "judged": judged, "needs_makeup": judged & (ids % 7 == 0),
        "overall_rate": (ids % 100) / 100, "reason_zh": "5 项指标均不低于 60%"})


def test_ranking_for_272_units_is_readable():
    units = many_units()
    fig = ranking_figure(units)
    assert isinstance(fig, go.Figure)
    traces = {t.name: t for t in fig.data}
    assert sum(len(t.y) for t in fig.data) == 272
    assert all(t.orientation == "h" for t in fig.data)
    # 272 judged/not judged: 27 multiples of 10 grey; multiples of 7 but not 10: 38 - 3 = 35 red
    assert len(traces["票数不足,不作评判"].y) == 27
    assert traces["票数不足,不作评判"].marker.color == NOT_JUDGED_COLOUR
    assert len(traces["需要补课"].y) == 35 and traces["需要补课"].marker.color == MAKEUP_COLOUR
    assert traces["通过"].marker.color == JUDGED_COLOUR
    assert fig.layout.height >= 272 * 12  # 12 px a bar (analysis.figures.ROW_PX): 10 px names stay legible
    # threshold line at .6, best unit (rate .99) last in the category array = top
    assert any(shape.x0 == 0.6 and shape.x1 == 0.6 for shape in fig.layout.shapes)
    assert fig.layout.yaxis.categoryarray[-1] in {"第99党支部", "第199党支部"}
    assert "%{customdata[3]}" in traces["通过"].hovertemplate
    fig.to_json()  # serialises


def test_duplicate_unit_names_do_not_merge_bars():
    units = many_units(3).assign(unit=["同名", "同名", "别名"])
    labels = set(ranking_figure(units).layout.yaxis.categoryarray)
    assert labels == {"同名 #1", "同名 #2", "别名"}


def test_script_in_unit_name_is_inert():
    units = many_units(3)
    units.loc[0, "unit"] = SCRIPT
    units.loc[1, "reason_zh"] = "5 项指标中有 3 项低于 60%:<img src=x onerror=alert(1)> 10.0%"
    fig = ranking_figure(units)
    assert "<script" not in fig.to_json()
    # escaped by us, not only by plotly's JSON encoder: plotly.js shows it as text
    labels = [label for t in fig.data for label in t.y]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in labels
    assert not any("<img" in str(v) for t in fig.data for v in np.ravel(t.customdata))


def item_frame() -> pd.DataFrame:
    """item_results()-shaped rows for 2 units × 3 items; unit 2 item 3 unrated."""
    return pd.DataFrame({
        "evaluation_id": [1, 1, 1, 2, 2, 2], "unit_id": [1, 1, 1, 2, 2, 2],
        "unit": ["甲", "甲", "甲", SCRIPT, SCRIPT, SCRIPT],
        "item_id": [1, 2, 3] * 2, "position": [1, 2, 3] * 2,
        "text": ["学习效果", "整改落实非常非常非常非常非常长的一条指标", "<b>x</b>"] * 2,
        "rate": [0.9, 0.5, 0.7, 0.4, 0.3, np.nan], "n_valid": [10, 10, 10, 10, 10, 0],
        "ci_low": [0.6, 0.2, 0.4, 0.15, 0.1, np.nan],
        "ci_high": [0.98, 0.8, 0.9, 0.7, 0.6, np.nan], "threshold": 0.6, "judged": True})


def test_heatmap_is_centred_on_threshold_and_ordered():
    fig = heatmap_figure(item_frame())
    heat = fig.data[0]
    assert heat.zmid == 0.6
    z = np.array(heat.z, dtype=float)
    assert z.shape == (2, 3)
    # 甲 mean .7 above 乙 mean .35: first row (top, axis reversed) is 甲
    assert heat.y[0] == "甲" and z[0].tolist() == pytest.approx([0.9, 0.5, 0.7])
    assert math.isnan(z[1][2])
    assert heat.x[1].endswith("…") and len(heat.x[1]) == 3 + 14   # "2. " + 13 chars + …
    assert "(95% 区间 20.0%–80.0%)" in heat.text[0][1]
    assert "<script" not in fig.to_json() and "<b>" not in str(heat.x)


def test_option_shares_stack_to_one_per_item_and_group():
    counts = pd.DataFrame({
        "evaluation_id": 1, "unit_id": 10,
        "item_id": [1, 1, 1, 1, 1, 2], "group_id": [1, 1, 1, 2, 2, 1],
        "option_id": [1, 2, 4, 1, 5, 5],
        "polarity": ["positive", "positive", "negative", "positive", "unknown", "unknown"],
        "n": [3, 1, 1, 2, 2, 4]})
    options = pd.DataFrame({"option_id": [1, 2, 4, 5], "position": [1, 2, 4, 5],
                            "label": ["满意", "比较满意", "不满意", "不了解"]})
    items = pd.DataFrame({"item_id": [1, 2], "text": ["学习效果", "整改落实"], "position": [1, 2]})
    groups = pd.DataFrame({"group_id": [1, 2], "group": ["党员", "群众"], "weight": np.nan})
    fig = option_shares_figure(counts, items, groups, evaluation_id=1, unit_id=10,
                               unit_name=SCRIPT, options=options)
    assert [t.name for t in fig.data] == ["满意", "比较满意", "不满意", "不了解"]
    shares = np.array([t.x for t in fig.data], dtype=float)
    # rows: (item 1, 党员), (item 1, 群众), (item 2, 党员)
    # 党员 on item 1: 3, 1, 1 of 5 → .6, .2, .2, 0; 群众: 2 满意, 2 不了解 → .5, 0, 0, .5
    assert shares[:, 0].tolist() == pytest.approx([0.6, 0.2, 0.2, 0.0])
    assert shares[:, 1].tolist() == pytest.approx([0.5, 0.0, 0.0, 0.5])
    assert shares.sum(axis=0) == pytest.approx([1.0, 1.0, 1.0])
    assert list(fig.data[0].y[1]) == ["党员", "群众", "党员"]
    assert fig.layout.barmode == "stack"
    assert "&lt;script&gt;" in fig.layout.title.text and "<script" not in fig.to_json()
