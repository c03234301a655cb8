"""Organiser pages: campaigns, the overview dashboard, unit pages, make-up, print reports.

Views stay thin: they parse the request, check permissions and hand over to
:mod:`evaluation.results.dashboards` and :mod:`evaluation.results.makeup`.
"""
from __future__ import annotations

from typing import Optional

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from extensions import db
from ids import db_id
from models import Campaign, Evaluation, Role
from surveys import box

from evaluation import bp
from evaluation.results.dashboards import campaign_overview, unit_detail
from evaluation.results.makeup import decide_makeup
from evaluation.campaigns.confirm import ask, confirmed
from evaluation.results.overview_cache import overview_body, overview_view
from evaluation.accounts.permissions import (
    ALL_ROLES, can_see_campaign, can_see_unit, may_open, role_required, visible_unit_ids,
)
from evaluation.campaigns.evaluation_list import (
    EVALUATION_LIST, committee_filter, evaluation_query, evaluation_totals, export_table as evaluation_table,
)
from evaluation.list_exports import download
from evaluation.listing import all_rows, page_of, read_args
from evaluation.results.frames import campaign_evaluation_ids, campaign_keys
from evaluation.services import ServiceError, campaigns

KEY_TITLES = {"satisfaction": _l("满意度测评"), "meeting": _l("民主生活会质量民主测评"),
              "report_review": _l("群众评议分析检查报告")}
#: Status labels of an evaluation, by ``EvaluationStatus`` value.
STATUS_LABELS = {"draft": _l("草稿"), "open": _l("进行中"), "closed": _l("已结束")}


@bp.app_context_processor
def _titles():
    return {"KEY_TITLES": KEY_TITLES, "STATUS_LABELS": STATUS_LABELS, "Role": Role, "reason_of": reason_of,
            "may_open": may_open}


def reason_of(row) -> str:
    """The make-up reason of a unit result or results document in the reader's language.

    analysis/ writes each reason in both languages (``reason_zh`` or ``reason``, and
    ``reason_en``); an English page shows the English one.
    """
    if str(get_locale()) == "en" and row.get("reason_en"):
        return row["reason_en"]
    return row.get("reason_zh", row.get("reason")) or ""


@bp.app_template_filter("pct")
def pct(value, digits: int = 1) -> str:
    """0.8532 → '85.3%'; missing or undefined rates → '—'."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if number != number:  # NaN: the rate is undefined (no valid votes)
        return "—"
    return f"{number * 100:.{digits}f}%"


def _campaign_or_404(campaign_id: int) -> Campaign:
    item = db.session.get(Campaign, campaign_id)
    if item is None or not can_see_campaign(current_user, campaign_id):
        abort(404)  # a liaison learns nothing, not even the name, of a campaign without their units
    return item


def _evaluation_or_404(evaluation_id: int) -> Evaluation:
    item = db.session.get(Evaluation, evaluation_id)
    if item is None or not can_see_unit(current_user, item.unit_id):
        abort(404)
    return item


@bp.route("/")
@role_required(*ALL_ROLES)
def home():
    """The list of campaigns; on a fresh install an organiser gets the form that creates the first one."""
    from evaluation.campaigns.forms import CampaignForm  # the units area owns the form and its view

    shown = [c for c in campaigns() if can_see_campaign(current_user, c.id)]
    form = CampaignForm(formdata=None) if not shown and current_user.role is Role.ORGANISER else None
    return render_template("evaluation/home.html", campaigns=shown, campaign_form=form,
                           rated={c.id: rated_units(c.id, visible_unit_ids(current_user)) for c in shown})


def rated_units(campaign_id: int, visible: Optional[set[int]] = None) -> int:
    """The units the campaign's overview counts by default: those evaluated (current round) with its
    first rated questionnaire, the same number as its "个单位" figure, so the two pages agree.

    For a liaison (``visible``) only their own units, as on their overview. The home page's other
    column counts every node of the unit tree (committees and branches too).
    """
    keys = campaign_keys(campaign_id)
    ids = campaign_evaluation_ids(campaign_id, keys[0]) if keys else []
    if visible is not None and ids:
        ids = list(db.session.scalars(select(Evaluation.id).where(Evaluation.id.in_(ids),
                                                                  Evaluation.unit_id.in_(visible))))
    return len(ids)


def _overview_context(campaign_id: int, memo: bool = True) -> dict:
    """Parse the overview's filters (bad values fall back to "all") and compute it.

    The page renders its body from the cached overview (:mod:`evaluation.results.overview_cache`);
    the print report, opened rarely, computes the overview in full (with its DataFrames).
    """
    campaign = _campaign_or_404(campaign_id)
    committee_id = request.args.get("committee", type=db_id)
    group_id = request.args.get("group", type=db_id)
    visible = visible_unit_ids(current_user)
    requested = request.args.get("questionnaire")
    # ?show=all draws every unit; anything else (or nothing) the default slice: one committee or both ends.
    show_all = request.args.get("show") == "all"
    context = {"campaign": campaign, "committee_id": committee_id, "group_id": group_id}
    if memo:
        context["keys"], context["key"], context["body"] = overview_body(
            campaign_id, requested, committee_id, group_id, visible, role=current_user.role.value, show_all=show_all)
        return context
    keys = context["keys"] = campaign_keys(campaign_id)
    key = context["key"] = requested if requested in keys else (keys[0] if keys else None)
    if key is not None:
        # The printed report lists every unit: paper has no link to "all".
        context["view"] = campaign_overview(campaign_id, key, committee_id, group_id, visible, show_all=True)
    return context


@bp.route("/campaigns/<int:campaign_id>")
@role_required(*ALL_ROLES)
def campaign(campaign_id: int):
    """Campaign overview: ranking, heatmap, make-up list, turnout, committees."""
    return render_template("evaluation/overview.html", **_overview_context(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/makeup")
@role_required(*ALL_ROLES)
def campaign_makeup(campaign_id: int):
    """Every unit that needs make-up, with the overview's filters (the overview shows the first few)."""
    campaign = _campaign_or_404(campaign_id)
    committee_id = request.args.get("committee", type=db_id)
    group_id = request.args.get("group", type=db_id)
    keys, key, view = overview_view(campaign_id, request.args.get("questionnaire"), committee_id, group_id,
                                    visible_unit_ids(current_user), role=current_user.role.value)
    return render_template("evaluation/makeup.html", campaign=campaign, key=key, view=view, group_id=group_id,
                           committee_id=view["committee_id"] if view else None,
                           organiser=current_user.role is Role.ORGANISER)


@bp.route("/campaigns/<int:campaign_id>/report")
@role_required(*ALL_ROLES)
def campaign_report(campaign_id: int):
    """Printable campaign report (A4, print stylesheet)."""
    return render_template("evaluation/campaign_report.html", **_overview_context(campaign_id, memo=False))


def _evaluation_list(campaign_id: int) -> dict:
    """The evaluations list's campaign, filters and select, in the reader's scope (page and export share it)."""
    item = _campaign_or_404(campaign_id)
    choices, committee_id, units = committee_filter(campaign_id, request.args.get("committee"),
                                                    visible_unit_ids(current_user))
    status = request.args.get("status")
    status = status if status in STATUS_LABELS else None
    return {"campaign": item, "committees": choices, "committee_id": committee_id, "status": status,
            "query": evaluation_query(campaign_id, units, status)}


@bp.route("/campaigns/<int:campaign_id>/evaluations")
@role_required(*ALL_ROLES)
def evaluations(campaign_id: int):
    """Every evaluation of a campaign with status, codes issued and ballots received: searched, sorted, paged."""
    context = _evaluation_list(campaign_id)
    query = context.pop("query")
    return render_template("evaluation/campaign.html", totals=evaluation_totals(query),
                           page=page_of(EVALUATION_LIST, query, read_args(EVALUATION_LIST)), **context)


@bp.route("/campaigns/<int:campaign_id>/evaluations.<fmt>")
@role_required(*ALL_ROLES)
def evaluations_export(campaign_id: int, fmt: str):
    """The evaluations list as CSV or XLSX: the page's filters, search and order, every page, the reader's units."""
    context = _evaluation_list(campaign_id)
    header, cells = evaluation_table(all_rows(EVALUATION_LIST, context["query"], read_args(EVALUATION_LIST)),
                                     STATUS_LABELS)
    name = context["campaign"].name
    return download(fmt, _("测评"), header, cells, f"campaign-{campaign_id}-evaluations",
                    _("%(campaign)s-测评与参与率", campaign=name), f"campaign:{campaign_id}")


@bp.route("/evaluations/<int:evaluation_id>")
@role_required(*ALL_ROLES)
def evaluation(evaluation_id: int):
    """Unit page: per-item rates with intervals, option shares by group, comments, rounds."""
    item = _evaluation_or_404(evaluation_id)
    detail = unit_detail(item, for_liaison=current_user.role is Role.LIAISON)
    sealed = box.sealed_counts([item.id]).get(item.id, 0)
    return render_template("evaluation/unit.html", evaluation=item, sealed=sealed,
                           batch=box.batch_size(item.min_ballots), **detail)


@bp.route("/evaluations/<int:evaluation_id>/report")
@role_required(*ALL_ROLES)
def evaluation_report(evaluation_id: int):
    """Printable unit report."""
    item = _evaluation_or_404(evaluation_id)
    detail = unit_detail(item, for_liaison=current_user.role is Role.LIAISON)
    return render_template("evaluation/unit_report.html", evaluation=item, **detail)


@bp.route("/evaluations/<int:evaluation_id>/makeup", methods=["POST"])
@role_required(Role.ORGANISER)
def makeup(evaluation_id: int):
    """Record the make-up decision and open the second round, once the organiser has confirmed it on its own page."""
    item = _evaluation_or_404(evaluation_id)
    if not confirmed(1):  # a second round cannot be taken back: one click only asks, with or without JavaScript
        return ask(_("决定%(unit)s补课,并开启第二轮测评?", unit=item.unit.name), _("决定补课并开启第二轮测评"),
                   url_for("evaluation.evaluation", evaluation_id=evaluation_id), 1)
    try:
        decision = decide_makeup(evaluation_id, current_user.id)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("evaluation.evaluation", evaluation_id=evaluation_id))
    flash(_("已决定补课,并开启第二轮测评。"), "info")
    return redirect(url_for("evaluation.evaluation", evaluation_id=decision.followup_id))
