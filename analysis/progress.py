"""Campaign progress by committee: the share of units that completed each step.

Pure pandas and plotly, no Flask. Inputs:

- ``units``: one row per unit counted (``unit_id``, ``committee_id``, ``committee``);
  a unit with no committee is counted under "(无党委)".
- ``milestones``: the ordered things a unit completes (``key``, ``label``): the six
  steps, with the look-back checklists between the stages.
- ``done``: one row per completion (``unit_id``, ``key``); completions of units not in
  ``units`` or of unknown milestones are ignored, duplicates count once.

:func:`progress_table` returns one row per committee × milestone, plus a total row per
milestone (``committee_id`` NA, ``is_total`` True); :func:`progress_figure` draws it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.figures import inert


def N_(text: str) -> str:
    """Mark a label for translation (the caller passes ``translate``); this module stays Flask-free."""
    return text


def _same(text: str) -> str:
    return text


TOTAL_LABEL = N_("合计")
NO_COMMITTEE = N_("(无党委)")
COLUMNS = ["committee_id", "committee", "is_total", "key", "label", "order", "n_units", "n_done", "share"]


def progress_table(units: pd.DataFrame, milestones: pd.DataFrame, done: pd.DataFrame,
                   translate=_same) -> pd.DataFrame:
    """Units done / units per committee and milestone, with the share (NaN for no units).

    ``translate`` turns the total row's and the no-committee labels into the reader's language.
    """
    if units.empty or milestones.empty:
        return pd.DataFrame(columns=COLUMNS)
    units = units.assign(committee=units["committee"].fillna(translate(NO_COMMITTEE)))
    steps = milestones[["key", "label"]].reset_index(drop=True).assign(order=lambda f: np.arange(len(f)))
    finished = (done[["unit_id", "key"]].drop_duplicates()
                .merge(units[["unit_id", "committee_id", "committee"]], on="unit_id")
                .merge(steps[["key"]], on="key"))
    committees = (units.groupby(["committee_id", "committee"], dropna=False, as_index=False)
                  .agg(n_units=("unit_id", "nunique")))
    grid = committees.merge(steps, how="cross")
    per = (finished.groupby(["committee_id", "committee", "key"], dropna=False).size()
           .rename("n_done").reset_index())
    grid = grid.merge(per, on=["committee_id", "committee", "key"], how="left")
    grid["is_total"] = False
    totals = steps.assign(committee_id=pd.NA, committee=translate(TOTAL_LABEL), is_total=True,
                          n_units=int(units["unit_id"].nunique()))
    totals = totals.merge(finished.groupby("key").size().rename("n_done").reset_index(), on="key", how="left")
    out = pd.concat([grid, totals], ignore_index=True)
    out["n_done"] = out["n_done"].fillna(0).astype("int64")
    out["n_units"] = out["n_units"].astype("int64")
    out["share"] = (out["n_done"] / out["n_units"].where(out["n_units"] > 0)).astype(float)
    # Committees in tree order (by id), units without a committee after them, the total last.
    out = out.sort_values(["is_total", "committee_id", "order"], kind="stable", na_position="last",
                          ignore_index=True)
    out["committee_id"] = out["committee_id"].astype("Int64")
    return out[COLUMNS]


def progress_pivot(table: pd.DataFrame) -> list[dict]:
    """Rows for the page's table: committee, units, then ``cells`` (n_done, share) per milestone."""
    rows = []
    for (_, committee, _), part in table.groupby(["is_total", "committee", "committee_id"], dropna=False,
                                                  sort=False):
        part = part.sort_values("order")
        rows.append({"committee": committee, "committee_id": part["committee_id"].iloc[0],
                     "is_total": bool(part["is_total"].iloc[0]), "n_units": int(part["n_units"].iloc[0]),
                     "cells": [{"key": r.key, "n_done": int(r.n_done), "share": r.share}
                               for r in part.itertuples()]})
    return rows


def progress_figure(table: pd.DataFrame, title: str | None = None, translate=_same) -> go.Figure:
    """Heatmap committees × milestones of the share done, each cell labelled "n/N".

    Committee names and labels are escaped (organiser-typed); the total row is last.
    ``translate`` puts the default title and the colour bar's title in the reader's language.
    """
    title = title or translate(N_("各党(工)委单位完成各环节的比例"))
    labels = table.drop_duplicates("key").sort_values("order")
    rows = table.drop_duplicates(["is_total", "committee", "committee_id"])[["is_total", "committee",
                                                                             "committee_id"]]
    z, text = [], []
    for row in rows.itertuples():
        part = table[(table["is_total"] == row.is_total) & (table["committee"] == row.committee)]
        part = part.set_index("key").reindex(labels["key"])
        z.append([None if pd.isna(v) else float(v) for v in part["share"]])
        text.append([f"{int(d)}/{int(n)}" for d, n in zip(part["n_done"], part["n_units"])])
    names = list(inert(rows["committee"].astype(str)))
    fig = go.Figure(go.Heatmap(
        z=z, x=list(inert(labels["label"])), y=names, text=text, texttemplate="%{text}",
        zmin=0, zmax=1, colorscale="Blues", colorbar={"title": {"text": translate(N_("完成比例"))}, "tickformat": ".0%"},
        hovertemplate="%{y}<br>%{x}: %{text} (%{z:.0%})<extra></extra>"))
    fig.update_layout(title={"text": title}, height=180 + 32 * len(names),
                      margin={"l": 160, "r": 20, "t": 60, "b": 120},
                      yaxis={"autorange": "reversed"}, xaxis={"tickangle": -30})
    return fig
