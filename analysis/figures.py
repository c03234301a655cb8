"""Plotly figures for the dashboards: unit ranking, units × items heatmap, option shares.

Each function returns a ``plotly.graph_objects.Figure``; the view serialises it with
``fig.to_json()`` and the page draws it with the locally served plotly.min.js.

Unit names, item texts and reasons are typed by organisers, and plotly renders labels
as a subset of HTML. Every such string therefore goes through :func:`inert`, which turns
``& < >`` into entities (plotly.js decodes them back for display, so '<b>' shows as the
literal text '<b>'). plotly's own JSON encoder also writes ``<`` as ``\\u003c``.

Titles, axis titles, legend names and hover labels are interface text: they are
written in Chinese, marked with :func:`N_` for extraction, and passed through the
``translate`` argument (the view gives ``flask_babel.gettext``; the default keeps
Chinese), so this module stays free of Flask.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.ranking import label_ranks
from analysis.reasons import percent_label, threshold_label
from analysis.scoring import DEFAULT_THRESHOLD

MAKEUP_COLOUR = "#d62728"      # red: needs make-up
JUDGED_COLOUR = "#1f77b4"      # blue: judged, no make-up
NOT_JUDGED_COLOUR = "#c7c7c7"  # grey: too few ballots to judge
ROW_PX = 12                    # per bar/row: 60 rows (the default slice) stay readable and short
FRAME_PX = 180                 # title, axes and legend around the rows
# Shades by polarity; darker = earlier (better) option within its polarity.
POLARITY_SHADES = {
    "positive": ["#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef"],
    "negative": ["#a50f15", "#de2d26", "#fb6a4a", "#fc9272", "#fcbba1"],
    "unknown": ["#969696", "#bdbdbd", "#d9d9d9"],
}


def N_(text: str) -> str:
    """Mark an interface text for extraction; the caller's ``translate`` translates it."""
    return text


def _same(text: str) -> str:
    return text


def inert(text: pd.Series) -> pd.Series:
    """Escape ``& < >`` in organiser-typed labels so plotly shows them as text."""
    return text.fillna("").astype(str).map(lambda s: html.escape(s, quote=False))


def _short(text: pd.Series, limit: int = 14) -> pd.Series:
    """Truncate raw text for axis ticks (before escaping, so no entity is cut in half)."""
    raw = text.fillna("").astype(str)
    return raw.where(raw.str.len() <= limit, raw.str.slice(0, limit - 1) + "…")


def _unit_labels(frame: pd.DataFrame, text: pd.Series | None = None) -> pd.Series:
    """Escaped unit names (or ``text``); a label shared by several units gets '#id' so bars do not merge."""
    names = inert(frame["unit"] if text is None else text)
    units_per_name = frame["unit_id"].groupby(names).transform("nunique")
    return names.where(units_per_name <= 1, names + " #" + frame["unit_id"].astype(str))


def _threshold(frame: pd.DataFrame, threshold: float | None) -> float:
    """The threshold to draw: given, else the frame's own if it is unique, else default."""
    if threshold is not None:
        return threshold
    values = frame["threshold"].dropna().unique() if "threshold" in frame else []
    return float(values[0]) if len(values) == 1 else DEFAULT_THRESHOLD


def ranking_figure(unit_results: pd.DataFrame, threshold: float | None = None,
                   title: str | None = None, translate=_same, reason_column: str = "reason_zh") -> go.Figure:
    """Horizontal bar chart of units by overall_rate, best on top.

    Takes unit_results() rows (one evaluation round). Make-up units are red, judged
    units blue, not-judged units grey; a dashed line marks the threshold. The height grows
    with the number of units so every name stays legible. The hover shows the reason
    from ``reason_column`` ("reason_en" on an English page).
    """
    title = title or translate(N_("各单位测评满意率排名"))
    limit = _threshold(unit_results, threshold)
    # A unit that is not judged has no rate to show (analysis/disclosure.py): no bar, grey, last.
    judged = unit_results["judged"].fillna(False).astype(bool)
    rate = pd.to_numeric(unit_results["overall_rate"], errors="coerce").where(judged)
    frame = unit_results.assign(overall_rate=rate, judged=judged).sort_values(
        ["judged", "overall_rate", "unit_id"], na_position="first")
    # A ranked slice (analysis/ranking.py) carries ``rank``: its labels show it, so a gap reads as one.
    text = label_ranks(frame) if "rank" in frame else None
    frame = frame.assign(label=_unit_labels(frame, text), reason=inert(frame[reason_column]))
    status = np.select([~frame["judged"], frame["needs_makeup"]],
                       ["not_judged", "makeup"], default="ok")
    legend = {"makeup": (translate(N_("需要补课")), MAKEUP_COLOUR), "ok": (translate(N_("通过")), JUDGED_COLOUR),
              "not_judged": (translate(N_("票数不足,不作评判")), NOT_JUDGED_COLOUR)}
    hover = translate(N_("<b>%{y}</b><br>总体满意率 %{x:.1%}<br>测评票 %{customdata[0]} 张"
                         "<br>%{customdata[3]}<extra></extra>"))
    fig = go.Figure()
    for key, (name, colour) in legend.items():  # three traces → a legend with three keys
        part = frame[status == key]
        fig.add_trace(go.Bar(
            x=part["overall_rate"], y=part["label"], orientation="h", name=name,
            marker_color=colour,
            customdata=np.column_stack([part["n_ballots"], part["n_unsatisfactory"],
                                        part["n_rated_items"], part["reason"]]),
            hovertemplate=hover))
    fig.add_vline(x=limit, line_dash="dash", line_color="#333",
                  annotation_text=translate(N_("阈值 %(limit)s")) % {"limit": threshold_label(limit)},
                  annotation_position="top")
    fig.update_layout(
        title=title, barmode="overlay", height=max(400, ROW_PX * len(frame) + FRAME_PX),
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        margin={"l": 10, "r": 20, "t": 90, "b": 40})
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title_text=translate(N_("总体满意率")))
    # categoryarray fixes the order across the three traces (first = bottom)
    fig.update_yaxes(categoryorder="array", categoryarray=list(frame["label"]),
                     automargin=True, tickfont={"size": 10})
    return fig


def heatmap_figure(item_results: pd.DataFrame, threshold: float | None = None,
                   title: str | None = None, translate=_same) -> go.Figure:
    """Units × items heatmap of item rates, diverging around the threshold.

    Takes item_results() rows (filter to judged units for liaisons). Red is below the
    threshold, blue above (``zmid`` = threshold); empty cells are items nobody rated.
    Units are ordered by their mean item rate, best on top. Long indicator texts are
    shortened on the axis; the hover keeps the full text.
    """
    title = title or translate(N_("各单位分项指标满意率"))
    limit = _threshold(item_results, threshold)
    number = item_results["position"].astype(str) + ". "
    frame = item_results.assign(
        unit_label=_unit_labels(item_results),
        item_label=number + inert(item_results["text"]),
        item_tick=number + inert(_short(item_results["text"])))
    interval = (frame["ci_low"].map(percent_label, na_action="ignore") + "–"
                + frame["ci_high"].map(percent_label, na_action="ignore"))
    hover = translate(N_("%(unit)s<br>%(item)s<br>满意率 %(rate)s(95%% 区间 %(interval)s)<br>有效答卷 %(n)s"))
    frame["hover"] = [hover % {"unit": unit, "item": item, "rate": rate, "interval": ci, "n": n}
                      for unit, item, rate, ci, n in zip(
                          frame["unit_label"], frame["item_label"],
                          frame["rate"].map(percent_label, na_action="ignore").fillna("—"),
                          interval.fillna("—"), frame["n_valid"].astype(str))]
    unit_order = (frame.groupby("unit_label")["rate"].mean()
                  .sort_values(ascending=False, na_position="last").index)
    item_axis = frame.drop_duplicates("item_label").sort_values(["position", "item_id"])
    item_order = item_axis["item_label"]
    z = frame.pivot_table(index="unit_label", columns="item_label", values="rate",
                          aggfunc="first").reindex(
        index=unit_order, columns=item_order)
    text = frame.pivot_table(index="unit_label", columns="item_label", values="hover",
                             aggfunc="first").reindex(index=unit_order, columns=item_order)
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(dtype=float), x=list(item_axis["item_tick"]), y=list(unit_order),
        text=text.fillna("").to_numpy(dtype=object), hovertemplate="%{text}<extra></extra>",
        colorscale="RdBu", zmid=limit, xgap=1, ygap=1,
        colorbar={"tickformat": ".0%", "title": {"text": translate(N_("满意率"))}}))
    # The slanted item labels sit on top, so the title goes to the container's top edge
    # and the top margin leaves room for both.
    titled = translate(N_("%(title)s(阈值 %(limit)s)")) % {"title": title, "limit": threshold_label(limit)}
    fig.update_layout(title={"text": titled, "y": 0.995,
                             "yref": "container", "yanchor": "top"},
                      height=max(400, ROW_PX * len(unit_order) + FRAME_PX + 30),
                      margin={"l": 10, "r": 20, "t": 120, "b": 10})
    fig.update_xaxes(side="top", tickangle=-30, automargin=True)
    fig.update_yaxes(autorange="reversed", automargin=True, tickfont={"size": 10})
    return fig


def _shade(polarity: str, rank: int) -> str:
    """Colour for the rank-th option (0 = first) of a polarity; unknown polarities are grey."""
    shades = POLARITY_SHADES.get(polarity, POLARITY_SHADES["unknown"])
    return shades[min(rank, len(shades) - 1)]


def _option_table(counts: pd.DataFrame, options: pd.DataFrame | None, translate=_same) -> pd.DataFrame:
    """option_id → label, position, polarity, colour, in display order."""
    table = counts.drop_duplicates("option_id")[["option_id", "polarity"]]
    if options is not None:
        table = table.merge(options[["option_id", "label", "position"]], on="option_id",
                            how="left")
    else:
        table = table.assign(label=np.nan, position=table["option_id"])
    unnamed = translate(N_("选项 %(id)s"))
    table["label"] = inert(table["label"].fillna(table["option_id"].map(lambda i: unnamed % {"id": i})))
    table = table.sort_values(["position", "option_id"], ignore_index=True)
    rank = table.groupby("polarity").cumcount()
    table["colour"] = [_shade(p, r) for p, r in zip(table["polarity"], rank)]
    return table


def option_shares_figure(counts: pd.DataFrame, items: pd.DataFrame, groups: pd.DataFrame,
                         *, evaluation_id: int, unit_id: int, unit_name: str,
                         options: pd.DataFrame | None = None, translate=_same) -> go.Figure:
    """100% stacked bars of option shares for one unit: a bar per item × rater group.

    ``options`` (option_id, label, position) names and orders the options; without it
    they are called '选项 <id>'. Shares are of the answers given (blanks excluded,
    '不了解' included), so each bar sums to 100%.
    """
    mine = counts[(counts["evaluation_id"] == evaluation_id) & (counts["unit_id"] == unit_id)]
    option_table = _option_table(mine, options, translate)
    frame = (mine.merge(items[["item_id", "text", "position"]], on="item_id", how="left")
             .merge(groups[["group_id", "group"]], on="group_id", how="left"))
    # pivot_table drops rows whose keys are missing, so give unnamed items/groups a label
    frame["text"] = frame["text"].fillna("")
    frame["position"] = frame["position"].fillna(frame["item_id"])
    unnamed = translate(N_("主体 %(id)s"))
    frame["group"] = frame["group"].fillna(frame["group_id"].map(lambda i: unnamed % {"id": i}))
    frame["share"] = frame["n"] / frame.groupby(["item_id", "group_id"])["n"].transform("sum")
    wide = frame.pivot_table(index=["position", "item_id", "text", "group_id", "group"],
                             columns="option_id", values="share", aggfunc="sum",
                             fill_value=0.0)
    counts_wide = frame.pivot_table(index=wide.index.names, columns="option_id", values="n",
                                    aggfunc="sum", fill_value=0)
    rows = wide.index.to_frame(index=False)
    item_labels = rows["position"].astype(str) + ". " + inert(_short(rows["text"]))
    group_labels = inert(rows["group"])
    hover = translate(N_("%{fullData.name}:%{x:.1%}(%{customdata} 人)<br>%{y}<extra></extra>"))
    fig = go.Figure()
    for option in option_table.itertuples(index=False):  # a handful of options, not ballots
        share = wide[option.option_id] if option.option_id in wide else 0.0
        fig.add_trace(go.Bar(
            x=np.asarray(share, dtype=float), y=[list(item_labels), list(group_labels)],
            orientation="h", name=html.escape(str(option.label), quote=False), marker_color=option.colour,
            customdata=np.asarray(counts_wide.get(option.option_id, 0)),
            # the label goes in via fullData.name: text inside a template could hold "%{"
            hovertemplate=hover))
    title = translate(N_("%(unit)s 各指标评价等次分布(按测评主体)")) % {"unit": html.escape(unit_name, quote=False)}
    fig.update_layout(
        title=title,
        barmode="stack", height=max(400, 26 * len(rows) + FRAME_PX),
        # stacked bars list their legend reversed by default; keep the scale's order
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
        margin={"l": 10, "r": 20, "t": 90, "b": 40})
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def daily_figure(days: pd.DataFrame, title: str | None = None, translate=_same) -> go.Figure:
    """Ballots counted per day (``analysis.ranking.per_day`` rows): a short bar chart.

    A day's count is a number of ballots (of codes used), never tied to a unit or a
    rater group here, so it discloses nothing the turnout figures do not.
    """
    title = title or translate(N_("每日收到测评票"))
    fig = go.Figure(go.Bar(x=days["day"], y=days["n"], marker_color=JUDGED_COLOUR,
                           hovertemplate=translate(N_("%{x|%Y-%m-%d}:%{y} 张<extra></extra>"))))
    fig.update_layout(title=title, height=260, margin={"l": 10, "r": 10, "t": 50, "b": 30}, bargap=0.15)
    fig.update_xaxes(tickformat="%m-%d")
    fig.update_yaxes(automargin=True, rangemode="tozero")
    return fig
