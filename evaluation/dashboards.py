"""What the dashboard pages show, assembled from the database and ``analysis/``.

Views call :func:`campaign_overview` and :func:`unit_detail`; both return plain
dicts of DataFrames, records and figure JSON. Every figure has its numbers in
a table too, so the charts are never the only way to read a result.
"""
from __future__ import annotations

from typing import Optional

import pandas as pd
from sqlalchemy import func, select

import analysis
from analysis.documents import results_document
from analysis.figures import heatmap_figure, option_shares_figure, ranking_figure
from extensions import db
from models import (
    Answer, Ballot, BallotCode, CodeStatus, Evaluation, Item, ItemKind, MakeUp, Option, RaterGroup,
)

from .results import Frames, campaign_evaluation_ids, load_frames


def figure_json(fig) -> str:
    """Figure JSON safe to embed in a ``<script type="application/json">`` block."""
    return fig.to_json().replace("<", "\\u003c").replace(">", "\\u003e")


def restrict(frames: Frames, group_id: Optional[int] = None, unit_ids: Optional[set[int]] = None) -> Frames:
    """Frames limited to one rater group and/or a set of units (filters of the overview)."""
    counts, ballots, evaluations, groups = frames.counts, frames.ballots, frames.evaluations, frames.groups
    if group_id is not None:
        counts = counts[counts["group_id"] == group_id]
        ballots = ballots[ballots["group_id"] == group_id]
        groups = groups[groups["group_id"] == group_id]
    if unit_ids is not None:
        counts = counts[counts["unit_id"].isin(unit_ids)]
        ballots = ballots[ballots["unit_id"].isin(unit_ids)]
        evaluations = evaluations[evaluations["unit_id"].isin(unit_ids)]
    return Frames(counts, ballots, evaluations, groups, frames.items, frames.units)


def turnout(evaluation_ids: list[int]) -> pd.DataFrame:
    """Codes issued (not voided) and used per evaluation: one grouped query."""
    rows = db.session.execute(
        select(BallotCode.evaluation_id,
               func.count().label("issued"),
               func.sum((BallotCode.status == CodeStatus.USED).cast(db.Integer)).label("used"))
        .where(BallotCode.evaluation_id.in_(evaluation_ids), BallotCode.status != CodeStatus.VOID)
        .group_by(BallotCode.evaluation_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["evaluation_id", "issued", "used"])
    return frame.astype({"issued": "int64", "used": "int64"})


def makeup_rounds(followup_ids: list[int]) -> list[dict]:
    """Make-up decisions whose second round is among ``followup_ids``, before beside after.

    Each row: unit, decision, the unit results of the first round ("before")
    and of the second ("after"), computed together from the stored ballots, and
    ``items``: the rectification items linked to the decision, done and total.
    """
    decisions = db.session.scalars(select(MakeUp).where(MakeUp.followup_id.in_(followup_ids))
                                   .order_by(MakeUp.id)).all()
    if not decisions:
        return []
    _, both = results_for([d.evaluation_id for d in decisions] + [d.followup_id for d in decisions])
    by_id = {int(r["evaluation_id"]): r for r in both.to_dict("records")}
    # Closing the loop (issue 8): the rectification items answering each decision, done / total.
    from .rectification import makeup_progress

    items = makeup_progress([d.id for d in decisions])
    return [{"decision": d, "before": by_id.get(d.evaluation_id), "after": by_id.get(d.followup_id),
             "items": items.get(d.id, {"done": 0, "total": 0})}
            for d in decisions]


def results_for(evaluation_ids: list[int]) -> tuple[Frames, pd.DataFrame]:
    """Frames and unit results for a list of evaluations."""
    frames = load_frames(evaluation_ids)
    return frames, analysis.unit_results(*frames.args())


def campaign_overview(campaign_id: int, key: str, committee_id: Optional[int] = None,
                      group_id: Optional[int] = None, visible: Optional[set[int]] = None) -> dict:
    """Ranking, heatmap, make-up list, turnout and committee roll-up for one questionnaire."""
    ids = campaign_evaluation_ids(campaign_id, key)
    frames = load_frames(ids)
    unit_ids = visible
    if committee_id is not None:
        in_committee = set(frames.units.loc[frames.units["committee_id"] == committee_id, "unit_id"])
        unit_ids = in_committee if unit_ids is None else unit_ids & in_committee
    frames = restrict(frames, group_id, unit_ids)
    units = analysis.unit_results(*frames.args())
    items = analysis.item_results(*frames.args())
    shown_ids = [int(i) for i in units["evaluation_id"]]
    units = units.merge(turnout(shown_ids), on="evaluation_id", how="left").fillna({"issued": 0, "used": 0})
    # A second-round (make-up) evaluation that still fails cannot be sent to make up again.
    followups = set(frames.evaluations.loc[frames.evaluations["previous_id"].notna(), "evaluation_id"])
    units["is_followup"] = units["evaluation_id"].isin(followups)
    units = units.sort_values(["overall_rate", "unit"], ascending=[False, True], na_position="last")
    heat_items = items if visible is None else items[items["judged"]]
    return {
        "units": units,
        "items": items,
        "committees": analysis.committee_rollup(units) if len(units) else pd.DataFrame(),
        "makeup": units[units["needs_makeup"]],
        "rounds": makeup_rounds(shown_ids),
        "threshold": float(frames.evaluations["threshold"].iloc[0]) if len(frames.evaluations) else 0.6,
        "ranking_json": figure_json(ranking_figure(units)) if len(units) else None,
        "heatmap_json": figure_json(heatmap_figure(heat_items)) if len(heat_items) else None,
        "committee_choices": frames_committees(load_units_only(campaign_id)),
        "group_choices": list(db.session.execute(
            select(RaterGroup.id, RaterGroup.name).where(RaterGroup.campaign_id == campaign_id)
            .order_by(RaterGroup.id)).all()),
    }


def load_units_only(campaign_id: int) -> pd.DataFrame:
    """The campaign's unit frame (for the committee filter)."""
    from .results import unit_frame

    return unit_frame([campaign_id])


def frames_committees(units: pd.DataFrame) -> list[tuple[int, str]]:
    """(id, name) of the committees in a unit frame, in tree order."""
    committees = units[units["kind"] == "committee"].sort_values("unit_id")
    return [(int(r.unit_id), r.unit) for r in committees.itertuples()]


def options_frame(questionnaire_id: int) -> pd.DataFrame:
    """option_id, label, position of the options used by a questionnaire's items."""
    rows = db.session.execute(
        select(Option.id, Option.label, Option.position)
        .where(Option.scale_id.in_(select(Item.scale_id).where(Item.questionnaire_id == questionnaire_id)))
    ).all()
    return pd.DataFrame(rows, columns=["option_id", "label", "position"])


def comments(evaluation_id: int) -> list[dict]:
    """Free-text answers of an evaluation, newest day first (day only: secrecy)."""
    rows = db.session.execute(
        select(Ballot.submitted_on, RaterGroup.name, Item.text, Answer.text)
        .join(Answer, Answer.ballot_id == Ballot.id)
        .join(Item, Item.id == Answer.item_id)
        .join(RaterGroup, RaterGroup.id == Ballot.rater_group_id)
        .where(Ballot.evaluation_id == evaluation_id, Item.kind == ItemKind.TEXT, Answer.text.is_not(None))
        .order_by(Ballot.submitted_on.desc(), Answer.text)
    ).all()
    return [{"day": r[0], "group": r[1], "item": r[2], "text": r[3]} for r in rows]


def share_table(frames: Frames, options: pd.DataFrame) -> list[dict]:
    """Rows item × group × option with count and share: the option-shares chart as a table."""
    frame = (frames.counts.merge(options, on="option_id", how="left")
             .merge(frames.items, on="item_id", how="left")
             .merge(frames.groups[["group_id", "group"]], on="group_id", how="left"))
    frame["share"] = frame["n"] / frame.groupby(["item_id", "group_id"])["n"].transform("sum")
    frame = frame.sort_values(["position_y", "group_id", "position_x"])
    return frame.rename(columns={"position_y": "item_position", "label": "option"})[
        ["item_position", "text", "group", "option", "n", "share"]].to_dict("records")


def unit_detail(evaluation: Evaluation, for_liaison: bool = False) -> dict:
    """Per-item figures, option shares by group, comments and before/after for one evaluation."""
    frames = load_frames([evaluation.id])
    document = results_document(*frames.args(), for_liaison=for_liaison)[0]
    fig = None
    if document["items"]:
        fig = option_shares_figure(frames.counts, frames.items, frames.groups, evaluation_id=evaluation.id,
                                   unit_id=evaluation.unit_id, unit_name=evaluation.unit.name,
                                   options=options_frame(evaluation.questionnaire_id))
    followup = db.session.scalar(select(Evaluation).where(Evaluation.previous_id == evaluation.id))
    linked = [e for e in (db.session.get(Evaluation, evaluation.previous_id) if evaluation.previous_id else None,
                          followup) if e is not None]
    rounds = []
    if linked:
        ordered = sorted([evaluation, *linked], key=lambda e: e.id)
        both = load_frames([e.id for e in ordered])
        docs = {d["evaluation_id"]: d for d in results_document(*both.args(), for_liaison=for_liaison)}
        rounds = [docs[e.id] for e in ordered]
    decision = db.session.scalar(select(MakeUp).where(MakeUp.evaluation_id == evaluation.id))
    shares = share_table(frames, options_frame(evaluation.questionnaire_id)) if document["items"] else []
    show_comments = document["judged"] or not for_liaison
    return {"doc": document, "shares_json": figure_json(fig) if fig else None, "shares": shares,
            "comments": comments(evaluation.id) if show_comments else [], "rounds": rounds,
            "decision": decision, "followup": followup}
