"""Plotly figures for learning tests (学习成果测试): pass rate per unit, share correct per item.

Like :mod:`analysis.figures`, every organiser-typed label goes through
:func:`analysis.figures.inert`, and each figure has its numbers in a table on the page.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.figures import (
    FRAME_PX, JUDGED_COLOUR, MAKEUP_COLOUR, NOT_JUDGED_COLOUR, ROW_PX, _short, _unit_labels, inert,
)

#: Below this pass rate a unit's bar is drawn red (most of its participants failed).
LOW_PASS_RATE = 0.5


def N_(text: str) -> str:
    """Mark a label for translation (the caller passes ``translate``); this module stays Flask-free."""
    return text


def _same(text: str) -> str:
    return text


def pass_rate_figure(units: pd.DataFrame, title: str | None = None, translate=_same) -> go.Figure:
    """Horizontal bars of each unit's pass rate, best on top.

    Takes :func:`analysis.quiz.unit_summary` rows with a ``unit`` column. Units where
    fewer than half passed are red, others blue; units without participants are
    listed in grey at 0 so they are not forgotten. The hover gives mean score and
    participants.
    """
    title = title or translate(N_("各单位学习成果测试及格率"))
    frame = units.sort_values(["pass_rate", "mean_score", "unit_id"], na_position="first")
    frame = frame.assign(label=_unit_labels(frame))
    status = np.select([frame["participants"] == 0, frame["pass_rate"] < LOW_PASS_RATE], ["none", "low"], "ok")
    legend = {"low": (translate(N_("及格率低于 50%")), MAKEUP_COLOUR),
              "ok": (translate(N_("及格率 50% 及以上")), JUDGED_COLOUR),
              "none": (translate(N_("尚无人参加")), NOT_JUDGED_COLOUR)}
    hover = translate(N_("<b>%{y}</b><br>及格率 %{x:.1%}<br>参加 %{customdata[0]} 人,及格 %{customdata[2]} 人"
                         "<br>平均分 %{customdata[1]}<extra></extra>"))
    fig = go.Figure()
    for key, (name, colour) in legend.items():
        part = frame[status == key]
        fig.add_trace(go.Bar(
            x=part["pass_rate"].fillna(0.0), y=part["label"], orientation="h", name=name, marker_color=colour,
            customdata=np.column_stack([part["participants"], part["mean_score"].round(1).fillna(0.0),
                                        part["passed"]]),
            hovertemplate=hover))
    fig.update_layout(title=title, barmode="overlay", height=max(360, ROW_PX * len(frame) + FRAME_PX),
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
                      margin={"l": 10, "r": 20, "t": 90, "b": 40})
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title_text=translate(N_("及格率(得分不低于及格线的人数占比)")))
    fig.update_yaxes(categoryorder="array", categoryarray=list(frame["label"]), automargin=True,
                     tickfont={"size": 11})
    return fig


def item_share_figure(items: pd.DataFrame, title: str | None = None, translate=_same) -> go.Figure:
    """Horizontal bars of share correct per question, hardest on top.

    Takes :func:`analysis.quiz.item_summary` rows (item_id, position, text, share_correct,
    n_correct, participants).
    """
    title = title or translate(N_("各题答对率(最难的题在上)"))
    frame = items.sort_values(["share_correct", "position"], ascending=[False, False], na_position="first")
    labels = frame["position"].astype(int).astype(str) + ". " + inert(_short(frame["text"], 18))
    full = frame["position"].astype(int).astype(str) + ". " + inert(frame["text"])
    fig = go.Figure(go.Bar(
        x=frame["share_correct"].fillna(0.0), y=list(labels), orientation="h", marker_color=JUDGED_COLOUR,
        customdata=np.column_stack([full, frame["n_correct"], frame["participants"]]),
        hovertemplate=translate(N_("%{customdata[0]}<br>答对率 %{x:.1%}(%{customdata[1]} / %{customdata[2]})"
                                   "<extra></extra>"))))
    fig.update_layout(title=title, height=max(360, ROW_PX * len(frame) + FRAME_PX), showlegend=False,
                      margin={"l": 10, "r": 20, "t": 60, "b": 40})
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title_text=translate(N_("答对率")))
    fig.update_yaxes(categoryorder="array", categoryarray=list(labels), automargin=True, tickfont={"size": 11})
    return fig
