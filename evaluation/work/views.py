"""The rest of the campaign's work: suggestions moderation, report verdicts, rectification, stages.

This module holds the blueprint, the lookups every work view shares (campaign,
unit within the user's scope) and the two hub pages; the views of each area live
in ``admin_work_*.py`` and register on the same blueprint. Logic stays in the
service modules (:mod:`evaluation.work.suggestions`, :mod:`~evaluation.work.reports`,
:mod:`~evaluation.work.rectification`, :mod:`~evaluation.work.stages`, :mod:`~evaluation.work.lookback`).
"""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, abort, render_template
from flask_login import current_user

from extensions import db
from models import Campaign, Unit

from evaluation.work import lookback
from evaluation.work import rectification
from evaluation.work import reports
from evaluation.work import stages
from evaluation.work import suggestions
from evaluation.campaigns.unit_list import UNIT_LIST, unit_query
from evaluation.listing import page_of, read_args
from evaluation.accounts.permissions import ALL_ROLES, can_see_campaign, can_see_unit, role_required, visible_unit_ids

bp = Blueprint("work", __name__, url_prefix="/admin")


@bp.context_processor
def _labels() -> dict:
    return {"SUGGESTION_CATEGORIES": suggestions.CATEGORIES, "SUGGESTION_STATUSES": suggestions.STATUSES,
            "RECT_CATEGORIES": rectification.CATEGORIES, "RECT_STATUSES": rectification.STATUSES,
            "VERDICTS": reports.VERDICTS, "LOOKBACKS": lookback.LOOKBACKS, "ANSWERS": lookback.ANSWERS}


@bp.app_template_global()
def work_summary(unit_id: int) -> dict:
    """What the unit page shows of the campaign work: suggestions, rectification, report."""
    unit = db.session.get(Unit, unit_id)
    summary = suggestions.unit_summary(unit_id)
    items = rectification.unit_items(unit_id)
    summary.update(unit_id=unit_id, campaign_id=unit.campaign_id if unit else None,
                   n_items=len(items), n_done=sum(1 for i in items if i.status == "done"),
                   n_overdue=sum(1 for i in items if rectification.is_overdue(i)),
                   report=reports.latest(unit_id), categories=suggestions.CATEGORIES, verdicts=reports.VERDICTS)
    return summary


def campaign_or_404(campaign_id: int) -> Campaign:
    """The campaign, or 404 (also for a liaison whose units are not in it)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not can_see_campaign(current_user, campaign_id):
        abort(404)
    return campaign


def unit_or_404(unit_id: int) -> Unit:
    """A unit the signed-in user may see (a liaison: their own subtree), else 404."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or not can_see_unit(current_user, unit.id):
        abort(404)
    return unit


def scope() -> Optional[set[int]]:
    """Unit ids the signed-in user may see, None for all."""
    return visible_unit_ids(current_user)


def _unit_page(campaign_id: int, visible: Optional[set[int]]):
    """One page of the campaign's units the reader may see, searched by code or name (726 links were 20,000 px)."""
    query = unit_query(campaign_id)
    if visible is not None:
        query = query.where(Unit.id.in_(visible))
    return page_of(UNIT_LIST, query, read_args(UNIT_LIST))


@bp.route("/campaigns/<int:campaign_id>/work")
@role_required(*ALL_ROLES)
def hub(campaign_id: int):
    """The campaign's work at a glance: suggestions, reports, rectification, stages."""
    campaign = campaign_or_404(campaign_id)
    visible = scope()
    rect_rows = rectification.campaign_rows(campaign_id, visible)
    return render_template(
        "work/hub.html", campaign=campaign, counts=suggestions.status_counts(campaign_id, visible),
        report_rows=reports.campaign_rows(campaign_id, visible), rect_rows=rect_rows,
        rect_totals={k: sum(r[k] for r in rect_rows) for k in ("total", "done", "overdue")},
        stages=stages.plan(campaign_id), units=_unit_page(campaign_id, visible))


@bp.route("/work/units/<int:unit_id>")
@role_required(*ALL_ROLES)
def unit(unit_id: int):
    """One unit's work: suggestions, report rounds, rectification, steps and look-backs."""
    item = unit_or_404(unit_id)
    done = stages.completions(item.id)
    return render_template(
        "work/unit.html", unit=item, campaign=item.campaign, summary=work_summary(item.id),
        rounds=reports.rounds(item.id), plan=stages.plan(item.campaign_id), done=done,
        lookbacks={kind: lookback.get(item.id, kind) for kind in lookback.LOOKBACKS})
