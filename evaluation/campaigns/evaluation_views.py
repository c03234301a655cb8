"""Evaluations in bulk: create, open, close, thresholds; codes, slips and paper ballots.

The views are thin: they read the form, check who may act on which units and
call :mod:`evaluation.campaigns.bulk`, :mod:`evaluation.codes.slips` and :mod:`evaluation.codes.paper`.
Codes and slips live in :mod:`evaluation.codes.views`, paper ballots in
:mod:`evaluation.codes.paper_views`; both register on this blueprint.
"""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from extensions import db
from ids import db_id
from models import Campaign, Evaluation, EvaluationStatus, Role, Unit

from evaluation.campaigns.bulk import (
    BulkSpec, change_rules, changing_ids, committees, create_evaluations, plan_create, questionnaire_choices,
    rules_values, select_ids, set_status, to_local, to_utc,
)
from evaluation.campaigns.confirm import ask, confirmed
from evaluation.campaigns.evaluation_forms import ApplyForm, BulkCreateForm
from evaluation.accounts.permissions import can_see_unit, role_required, subtree_ids, visible_unit_ids
from evaluation.campaigns.evaluation_list import MANAGE_LIST, group_names, manage_query
from evaluation.listing import page_of, read_args
from evaluation.services import ServiceError

bp = Blueprint("manage", __name__, url_prefix="/admin")


@bp.app_template_filter("localtime")
def localtime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time shown in local wall-clock time; '—' when unset."""
    local = to_local(value)
    return local.strftime(fmt) if local else "—"


def campaign_or_404(campaign_id: int) -> Campaign:
    """The campaign; 404 when missing or, for a liaison, when none of its units is theirs."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    visible = visible_unit_ids(current_user)
    if visible is not None and db.session.scalar(
            db.select(Unit.id).where(Unit.campaign_id == campaign_id, Unit.id.in_(visible)).limit(1)) is None:
        abort(404)
    return campaign


def evaluation_or_404(evaluation_id: int) -> Evaluation:
    """The evaluation, if the signed-in user may see its unit (404 otherwise: no hint that it exists)."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None or not can_see_unit(current_user, evaluation.unit_id):
        abort(404)
    return evaluation


def scope_choices(campaign_id: int) -> list[tuple[str, str]]:
    """"All units" plus one choice per committee the user may see."""
    visible = visible_unit_ids(current_user)
    everything = _("全部单位") if visible is None else _("我负责的全部单位")
    return [("all", everything)] + [(f"c{c.id}", c.name) for c in committees(campaign_id, visible)]


def scope_committee(value: Optional[str]) -> Optional[int]:
    """The committee id of a scope choice ``c<id>``; None for "all"."""
    return int(value[1:]) if value and value.startswith("c") and value[1:].isdigit() else None


def scope_unit_set(value: Optional[str]) -> Optional[set[int]]:
    """Units a scope choice covers for this user, or None for every unit (organisers, "all")."""
    visible = visible_unit_ids(current_user)
    committee_id = scope_committee(value)
    units = subtree_ids(committee_id) if committee_id is not None else None
    if visible is None:
        return units
    return visible if units is None else units & visible


def flash_errors(form) -> None:
    """Flash every form error (form-level and per field) as one message each."""
    for field_name, messages in form.errors.items():
        for message in messages:
            flash(str(message) if field_name != "ids" else _("所选测评无效"), "error")


@bp.route("/campaigns/<int:campaign_id>/evaluations/new", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def new_evaluations(campaign_id: int):
    """Create one questionnaire's evaluations for all units, or one committee's, in one step."""
    campaign = campaign_or_404(campaign_id)
    form = BulkCreateForm()
    form.questionnaire.choices = questionnaire_choices()
    form.scope.choices = scope_choices(campaign_id)
    form.groups.choices = [(g.id, g.name) for g in campaign.rater_groups]
    if request.method == "GET":
        form.groups.data = [g.id for g in campaign.rater_groups]
    if form.validate_on_submit():
        spec = BulkSpec(campaign_id, form.questionnaire.data, form.groups.data,
                        committee_id=scope_committee(form.scope.data), opens_at=to_utc(form.opens_at.data),
                        closes_at=to_utc(form.closes_at.data), threshold=form.threshold.data,
                        min_ballots=form.min_ballots.data, open_now=form.open_now.data,
                        paper_double_entry=form.paper_double_entry.data)
        try:
            questionnaire, _groups, units, todo = plan_create(spec)
            if not confirmed(len(todo)):  # bulk: say how many first, act on the confirmation
                return ask(_create_question(questionnaire.title, len(todo), len(units) - len(todo), spec.open_now),
                           _("确认建立 %(n)s 个测评", n=len(todo)), request.path, len(todo))
            result = create_evaluations(spec)
        except ServiceError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            flash(_("已建立 %(created)s 个测评,跳过 %(skipped)s 个已有该测评表的单位。", created=result.created,
                    skipped=result.skipped), "info")
            if result.inactive:  # say so: otherwise the counts do not add up to the units listed
                flash(_("另有 %(n)s 个已停用的单位未建立测评。", n=result.inactive), "info")
            return redirect(url_for(".evaluations", campaign_id=campaign_id, questionnaire=spec.questionnaire_key))
    return render_template("manage/new.html", campaign=campaign, form=form), (400 if form.errors else 200)


@bp.route("/campaigns/<int:campaign_id>/evaluations/manage")
@role_required(Role.ORGANISER)
def evaluations(campaign_id: int):
    """The campaign's evaluations with tick boxes: open, close, change threshold or minimum ballots."""
    campaign = campaign_or_404(campaign_id)
    keys = questionnaire_choices()
    key = request.args.get("questionnaire")
    key = key if key in dict(keys) else None
    all_committees = committees(campaign_id)
    committee_id = request.args.get("committee", type=db_id)
    committee_id = committee_id if committee_id in {c.id for c in all_committees} else None
    form = ApplyForm()
    form.target.choices = [("selected", _("勾选的测评"))] + [
        (f"key:{k}", _("本活动全部「%(title)s」", title=title)) for k, title in keys]
    query = manage_query(campaign_id, key, subtree_ids(committee_id) if committee_id is not None else None)
    page = page_of(MANAGE_LIST, query, read_args(MANAGE_LIST))
    return render_template("manage/evaluations.html", campaign=campaign, page=page, form=form, keys=keys,
                           key=key, committees=all_committees, committee_id=committee_id,
                           groups=group_names([r.id for r in page.rows]))


@bp.route("/campaigns/<int:campaign_id>/evaluations/apply", methods=["POST"])
@role_required(Role.ORGANISER)
def apply(campaign_id: int):
    """Open, close or change the rules of the ticked evaluations (or all of one questionnaire)."""
    campaign_or_404(campaign_id)
    form = ApplyForm()
    # Back to the same page of the same list: its filters, search, order and page came with the form.
    kept = {k: request.form.get(k, "")[:200] or None for k in ("q", "sort", "dir", "page")}
    back = redirect(url_for(".evaluations", campaign_id=campaign_id,
                            questionnaire=request.form.get("questionnaire") or None,
                            committee=request.form.get("committee", type=db_id), **kept), code=303)
    if not form.validate():
        flash_errors(form)
        return back
    target = form.target.data or "selected"
    key = target[4:] if target.startswith("key:") else None
    try:
        ids = select_ids(campaign_id, form.ids.data or [], key)
        question = _apply_question(campaign_id, ids, form)
        if question is not None:  # open, close or new rules for many evaluations: the count first
            text, button, n = question
            return ask(text, button, back.location, n)
        if form.action.data in ("open", "close"):
            status = EvaluationStatus.OPEN if form.action.data == "open" else EvaluationStatus.CLOSED
            n = set_status(campaign_id, ids, status)
            flash(ngettext("已开启 %(num)s 个测评", "已开启 %(num)s 个测评", n) if status is EvaluationStatus.OPEN
                  else ngettext("已结束 %(num)s 个测评", "已结束 %(num)s 个测评", n), "info")
        else:
            double = {"on": True, "off": False}.get(form.paper_double_entry.data)
            n = change_rules(campaign_id, ids, form.threshold.data, form.min_ballots.data, double)
            flash(ngettext("已修改 %(num)s 个测评的规则", "已修改 %(num)s 个测评的规则", n), "info")
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    return back


def _create_question(title: str, n: int, skipped: int, open_now: bool) -> str:
    """What a bulk create will do, in words, for its confirmation page."""
    if open_now:
        return _("为 %(n)s 个单位建立「%(title)s」测评并立即开启(跳过 %(skipped)s 个已有该测评表的单位)。",
                 n=n, title=title, skipped=skipped)
    return _("为 %(n)s 个单位建立「%(title)s」测评(草稿;跳过 %(skipped)s 个已有该测评表的单位)。",
             n=n, title=title, skipped=skipped)


def _apply_question(campaign_id: int, ids: list[int], form: ApplyForm):
    """``(question, button, count)`` when this apply still needs its confirmation, else None (confirmed).

    Open and close count only the evaluations they would change; new rules count every one chosen.
    """
    action = form.action.data
    if action in ("open", "close"):
        n = len(changing_ids(campaign_id, ids, EvaluationStatus.OPEN if action == "open" else EvaluationStatus.CLOSED))
        if n == 0 or confirmed(n):
            return None
        if action == "open":
            return _("开启 %(n)s 个测评?开启后所用测评表冻结,不能再直接修改。", n=n), _("确认开启 %(n)s 个测评", n=n), n
        return (_("结束 %(n)s 个测评?结束后不再接受测评票,已投的票全部计数。", n=n),
                _("确认结束 %(n)s 个测评", n=n), n)
    double = {"on": True, "off": False}.get(form.paper_double_entry.data)
    rules_values(form.threshold.data, form.min_ballots.data, double)  # refuse a wrong change before asking
    n = len(ids)
    if confirmed(n):
        return None
    return _("修改 %(n)s 个测评的规则(留空的项不变)?", n=n), _("确认修改 %(n)s 个测评", n=n), n
