"""What the dashboard pages show, assembled from the database and ``analysis/``.

Views call :func:`campaign_overview` and :func:`unit_detail`; both return plain
dicts of DataFrames, records and figure JSON. Every figure has its numbers in
a table too, so the charts are never the only way to read a result.
"""
from __future__ import annotations

from typing import Optional

import pandas as pd
from flask_babel import gettext
from sqlalchemy import case, func, select

import analysis
from analysis import disclosure, ranking
from analysis.documents import results_document
from analysis.figures import daily_figure, heatmap_figure, option_shares_figure, ranking_figure
from extensions import db
from models import (
    Answer, Ballot, BallotCode, CodeBatch, CodeStatus, Evaluation, Item, ItemKind, MakeUp, Option,
    RaterGroup,
)

from evaluation.results.frames import Frames, campaign_evaluation_ids, evaluation_id_source, load_frames
from evaluation.results.overview_parts import (
    ballots_per_day, frames_committees, heatmap_table, load_units_only, plain_round, reason_column,
)


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
    """Codes issued (not voided) and used per evaluation, without reading every code.

    used: codes whose ballot was submitted (status used), live — the ballot may
    still wait sealed in the box, where figures do not count it yet (turnout is a
    count of raters, not of answers). issued: the batches' sizes; a voided batch keeps only the codes used
    before it was voided (``void_batch`` voids the unused ones), counted by batch
    from ``ballot_code``'s batch index for voided batches only.
    """
    ids = evaluation_id_source(evaluation_ids)
    used_in_voided = (select(func.count()).select_from(BallotCode)
                      .where(BallotCode.batch_id == CodeBatch.id, BallotCode.status == CodeStatus.USED)
                      .scalar_subquery())
    issued = dict(db.session.execute(
        select(CodeBatch.evaluation_id,
               func.sum(case((CodeBatch.voided_at.is_(None), CodeBatch.count), else_=used_in_voided)))
        .where(CodeBatch.evaluation_id.in_(ids)).group_by(CodeBatch.evaluation_id)).all())
    used = dict(db.session.execute(
        select(BallotCode.evaluation_id, func.count())
        .where(BallotCode.evaluation_id.in_(ids), BallotCode.status == CodeStatus.USED)
        .group_by(BallotCode.evaluation_id)).all())
    rows = [(e, issued.get(e, 0), used.get(e, 0)) for e in sorted(set(issued) | set(used))]
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
    both = disclosure.mask_unjudged(both)  # a round not judged shows no rate, before or after
    by_id = {int(r["evaluation_id"]): r for r in both.to_dict("records")}
    # Closing the loop (issue 8): the rectification items answering each decision, done / total.
    from evaluation.work.rectification import makeup_progress

    items = makeup_progress([d.id for d in decisions])
    return [{"decision": d, "before": by_id.get(d.evaluation_id), "after": by_id.get(d.followup_id),
             "items": items.get(d.id, {"done": 0, "total": 0})}
            for d in decisions]


def results_for(evaluation_ids: list[int]) -> tuple[Frames, pd.DataFrame]:
    """Frames and unit results for a list of evaluations."""
    frames = load_frames(evaluation_ids, per_option=False)
    return frames, analysis.unit_results(*frames.args())


def campaign_overview(campaign_id: int, key: str, committee_id: Optional[int] = None,
                      group_id: Optional[int] = None, visible: Optional[set[int]] = None,
                      show_all: bool = False) -> dict:
    """Ranking, heatmap, make-up list, turnout, committee roll-up and ballots per day for one questionnaire.

    Plain data only (frames, records, strings), so that it can be stored in a
    cache (:mod:`evaluation.results.overview_cache`); ``*_rows`` are the tables ready to print.
    ``unit_rows`` rank every unit shown; the charts and ``shown_rows`` draw one committee, or
    without one the best and worst :data:`analysis.ranking.EDGE` unless ``show_all``. A
    committee the reader may not pick (another committee, for a liaison) counts as none.
    """
    # Rates and make-up need the tallies summed by polarity only (no option-share chart here).
    frames = load_frames(campaign_evaluation_ids(campaign_id, key), per_option=False)
    choices = frames_committees(load_units_only(campaign_id), visible)
    if committee_id not in {cid for cid, _ in choices}:
        committee_id = None  # an unknown or foreign committee shows nothing of it, not an empty page
    # Units whose per-group figures may be shown at all (analysis/disclosure.py): decided on the whole
    # unit, before a rater-group filter narrows the frames to one group.
    breakdown = disclosure.breakdown_units(frames.ballots, frames.evaluations)
    unit_ids = visible
    if committee_id is not None:
        in_committee = set(frames.units.loc[frames.units["committee_id"] == committee_id, "unit_id"])
        unit_ids = in_committee if unit_ids is None else unit_ids & in_committee
    frames = restrict(frames, group_id, unit_ids)
    items = analysis.item_results(*frames.args())
    units = analysis.unit_results(*frames.args(), per_item=items)
    if group_id is not None:
        # One group's figures are shown only where the unit's breakdown may be: otherwise the unit's
        # pooled figures minus this group would give the small groups beside it.
        for frame in (units, items):
            allowed = pd.Series(list(zip(frame["evaluation_id"], frame["unit_id"])), index=frame.index,
                                dtype=object).isin(breakdown)
            frame["judged"] = frame["judged"] & allowed
        units["needs_makeup"] = units["needs_makeup"] & units["judged"]
    shown_ids = [int(i) for i in units["evaluation_id"]]
    units = units.merge(turnout(shown_ids), on="evaluation_id", how="left").fillna({"issued": 0, "used": 0})
    # A second-round (make-up) evaluation that still fails cannot be sent to make up again.
    followups = set(frames.evaluations.loc[frames.evaluations["previous_id"].notna(), "evaluation_id"])
    units["is_followup"] = units["evaluation_id"].isin(followups)
    committees = analysis.committee_rollup(units) if len(units) else pd.DataFrame()
    # Units not judged: no rate, no rank, no count of unsatisfactory items, ranked last (every role, every surface).
    units = ranking.with_ranks(disclosure.rank_units(disclosure.mask_unjudged(units)))
    sliced = committee_id is None and not show_all and len(units) > 2 * ranking.EDGE
    shown = ranking.edges(units) if sliced else units
    shown_items = items[items["evaluation_id"].isin(shown["evaluation_id"])]
    heat_items = disclosure.judged_rows(shown_items)
    makeup = units[units["needs_makeup"]]
    days = ranking.per_day(ballots_per_day(shown_ids, group_id))
    return {
        "units": units,
        "items": items,
        "committees": committees,
        "makeup": makeup,
        "unit_rows": units.to_dict("records"),
        "shown_rows": shown.to_dict("records"),
        "sliced": sliced,
        "committee_id": committee_id,
        "totals": {"units": len(units), "judged": int(units["judged"].sum()), "makeup": len(makeup),
                   "ballots": int(units["n_ballots"].sum())},
        "makeup_rows": makeup.to_dict("records"),
        "committee_rows": committees.to_dict("records"),
        "heat_table": heatmap_table(shown_items),
        "rounds": [plain_round(r) for r in makeup_rounds(shown_ids)],
        "threshold": float(frames.evaluations["threshold"].iloc[0]) if len(frames.evaluations) else 0.6,
        "ranking_json": figure_json(ranking_figure(shown, translate=gettext, reason_column=reason_column()))
        if len(shown) else None,
        "heatmap_json": figure_json(heatmap_figure(heat_items, translate=gettext)) if len(heat_items) else None,
        "day_rows": [(d.date().isoformat(), int(n)) for d, n in zip(days["day"], days["n"])],
        "daily_json": figure_json(daily_figure(days, translate=gettext)) if len(days) else None,
        "committee_choices": choices,
        "group_choices": [tuple(r) for r in db.session.execute(
            select(RaterGroup.id, RaterGroup.name).where(RaterGroup.campaign_id == campaign_id)
            .order_by(RaterGroup.id))],
    }


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
    """Per-item figures, option shares by group, comments and before/after for one evaluation.

    What is withheld (analysis/disclosure.py) is the same for every role; ``for_liaison`` is kept for
    callers and changes nothing.
    """
    frames = load_frames([evaluation.id])
    document = results_document(*frames.args())[0]
    # Option shares by group only where the unit's whole breakdown may be shown (disclosure.py);
    # a judged unit whose groups are too small shows them pooled over all its raters.
    labelled = (evaluation.id, evaluation.unit_id) in disclosure.breakdown_units(frames.ballots, frames.evaluations)
    shown = frames
    if not labelled:
        everyone = pd.DataFrame({"group_id": [disclosure.ALL_GROUPS], "group": [gettext("全体测评人")]})
        counts = disclosure.pool_groups(frames.counts) if document["judged"] else frames.counts.iloc[0:0]
        shown = Frames(counts, frames.ballots, frames.evaluations, everyone, frames.items, frames.units)
    fig = None
    if document["items"] and len(shown.counts):
        fig = option_shares_figure(shown.counts, frames.items, frames.groups, evaluation_id=evaluation.id,
                                   unit_id=evaluation.unit_id, unit_name=evaluation.unit.name,
                                   options=options_frame(evaluation.questionnaire_id), translate=gettext)
    followup = db.session.scalar(select(Evaluation).where(Evaluation.previous_id == evaluation.id))
    linked = [e for e in (db.session.get(Evaluation, evaluation.previous_id) if evaluation.previous_id else None,
                          followup) if e is not None]
    rounds = []
    if linked:
        ordered = sorted([evaluation, *linked], key=lambda e: e.id)
        both = load_frames([e.id for e in ordered])
        docs = {d["evaluation_id"]: d for d in results_document(*both.args())}
        rounds = [docs[e.id] for e in ordered]
    decision = db.session.scalar(select(MakeUp).where(MakeUp.evaluation_id == evaluation.id))
    shares = share_table(shown, options_frame(evaluation.questionnaire_id)) if fig else []
    # A unit not judged shows no comment (a handful of raters); a comment names its group only where
    # the unit's per-group breakdown is shown, for the same reason as the figures.
    notes = [dict(c, group=c["group"] if labelled else "") for c in comments(evaluation.id)] \
        if document["judged"] else []
    return {"doc": document, "shares_json": figure_json(fig) if fig else None, "shares": shares,
            "comments": notes, "rounds": rounds,
            "decision": decision, "followup": followup}
