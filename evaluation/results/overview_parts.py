"""Pieces of the campaign overview (:func:`evaluation.results.dashboards.campaign_overview`).

Plain values only (rows, tuples, dicts), since the overview is cached
(:mod:`evaluation.results.overview_cache`): the heatmap's table, the committee
choices a reader may pick, the ballots counted per day, and the make-up rounds
without their ORM objects.
"""
from __future__ import annotations

from typing import Optional

import pandas as pd
from flask_babel import get_locale
from sqlalchemy import func, select

from extensions import db
from models import Ballot

from evaluation.results.frames import evaluation_id_source


def reason_column() -> str:
    """The unit results' reason column in the reader's language (``reason_zh`` or ``reason_en``)."""
    return "reason_en" if str(get_locale()) == "en" else "reason_zh"
def heatmap_table(items: pd.DataFrame) -> dict:
    """The heatmap's numbers as plain rows, computed once instead of filtered per cell in the template.

    ``columns``: (item_id, position, text) by position; ``rows``: one per
    evaluation in id order with ``unit``, ``judged`` (liaisons see judged rows
    only) and ``cells``: (rate or None, below threshold) per column.
    """
    if not len(items):
        return {"columns": [], "rows": []}
    texts = items.drop_duplicates("item_id").sort_values("position")
    columns = [(int(t.item_id), t.position, t.text) for t in texts.itertuples()]
    cells: dict[tuple[int, int], tuple] = {}
    for ev, item, rate, below in zip(items["evaluation_id"], items["item_id"], items["rate"],
                                     items["unsatisfactory"]):
        cells.setdefault((int(ev), int(item)), (rate, bool(below)))  # the first row, as before
    first = items.drop_duplicates("evaluation_id").sort_values("evaluation_id")
    rows = [{"evaluation_id": int(r.evaluation_id), "unit": r.unit, "judged": bool(r.judged),
             "cells": [cells.get((int(r.evaluation_id), c[0]), (None, False)) for c in columns]}
            for r in first.itertuples()]
    return {"columns": columns, "rows": rows}


def plain_round(row: dict) -> dict:
    """A make-up round with its decision as plain values (no ORM object may enter a cache)."""
    decision = row["decision"]
    return {**row, "decision": {"id": decision.id, "unit_id": decision.unit_id,
                                "followup_id": decision.followup_id, "unit": {"name": decision.unit.name}}}


def load_units_only(campaign_id: int) -> pd.DataFrame:
    """The campaign's unit frame (for the committee filter)."""
    from evaluation.results.frames import unit_frame

    return unit_frame([campaign_id])


def frames_committees(units: pd.DataFrame, visible: Optional[set[int]] = None) -> list[tuple[int, str]]:
    """(id, name) of the committees in a unit frame, in tree order; with ``visible`` (a liaison's
    units) only the committees those units belong to, so no other committee's name is shown."""
    committees = units[units["kind"] == "committee"].sort_values("unit_id")
    if visible is not None:
        own = set(units.loc[units["unit_id"].isin(visible), "committee_id"].dropna().astype(int)) | set(visible)
        committees = committees[committees["unit_id"].isin(own)]
    return [(int(r.unit_id), r.unit) for r in committees.itertuples()]


def ballots_per_day(evaluation_ids: list[int], group_id: Optional[int] = None) -> pd.DataFrame:
    """``day``, ``n``: ballots counted per day of submission for these evaluations (one grouped query).

    Ballots carry their day only (never a time), and the chart sums over every shown
    unit: a day's figure is a count of codes used, which turnout already shows.
    """
    query = (select(Ballot.submitted_on, func.count()).where(Ballot.evaluation_id.in_(evaluation_id_source(
        evaluation_ids))).group_by(Ballot.submitted_on).order_by(Ballot.submitted_on))
    if group_id is not None:
        query = query.where(Ballot.rater_group_id == group_id)
    return pd.DataFrame(db.session.execute(query).all(), columns=["day", "n"])
