"""Stages and steps (三个阶段、六个环节): the plan, per-unit completion, look-backs, progress chart.

Organisers set up the plan (the standard one in a click) and its dates; a unit's
steps and look-back checklists are kept by organisers and the unit's liaison;
everyone reads the campaign's progress chart, a liaison for their own units.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from extensions import db
from models import Role, Stage

from evaluation.work import lookback, stages
from evaluation.work.views import bp, campaign_or_404, scope, unit_or_404
from evaluation.days import local_today
from evaluation.accounts.permissions import ALL_ROLES, role_required
from evaluation.services import ServiceError
from evaluation.work.forms import LookBackForm, StageForm, StepForm

EDITORS = (Role.ORGANISER, Role.LIAISON)


@bp.route("/campaigns/<int:campaign_id>/stages")
@role_required(*ALL_ROLES)
def stages_page(campaign_id: int):
    """The plan with its dates, and the progress chart by committee with its table."""
    campaign = campaign_or_404(campaign_id)
    forms = {s.id: StageForm(formdata=None, obj=s, prefix=f"stage{s.id}") for s in stages.plan(campaign_id)}
    return render_template("work/stages.html", campaign=campaign, view=stages.progress(campaign_id, scope()),
                           forms=forms)


@bp.route("/campaigns/<int:campaign_id>/stages/standard", methods=["POST"])
@role_required(Role.ORGANISER)
def stages_standard(campaign_id: int):
    """Create the standard three stages and six steps."""
    campaign = campaign_or_404(campaign_id)
    try:
        stages.create_standard_plan(campaign, current_user)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(_("已按标准安排建立三个阶段、六个环节"), "info")
    return redirect(url_for("work.stages_page", campaign_id=campaign.id))


@bp.route("/stages/<int:stage_id>", methods=["POST"])
@role_required(Role.ORGANISER)
def stage_edit(stage_id: int):
    """Rename a stage or change its dates."""
    stage = db.session.get(Stage, stage_id)
    if stage is None:
        abort(404)
    form = StageForm(prefix=f"stage{stage.id}")
    if form.validate_on_submit():
        try:
            stages.edit_stage(stage, form.name.data, form.starts_on.data, form.ends_on.data, current_user)
        except ServiceError as error:
            flash(str(error), "error")
        else:
            flash(_("已保存"), "info")
    else:
        flash("; ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("work.stages_page", campaign_id=stage.campaign_id))


@bp.route("/work/units/<int:unit_id>/steps")
@role_required(*ALL_ROLES)
def unit_steps(unit_id: int):
    """A unit's steps with completion dates, and its look-back checklists."""
    unit = unit_or_404(unit_id)
    return render_template("work/unit_steps.html", unit=unit, campaign=unit.campaign,
                           plan=stages.plan(unit.campaign_id), done=stages.completions(unit.id),
                           lookbacks={k: lookback.get(unit.id, k) for k in lookback.LOOKBACKS},
                           today=local_today(), can_edit=current_user.role in EDITORS,
                           REPORT_STEP=stages.REPORT_STEP)


@bp.route("/work/units/<int:unit_id>/steps/<int:step_id>", methods=["POST"])
@role_required(*EDITORS)
def unit_step(unit_id: int, step_id: int):
    """Mark one step done on a date (today by default), or take the mark back."""
    unit = unit_or_404(unit_id)
    step = stages.step_of(unit.campaign_id, step_id)
    if step is None:
        abort(404)
    form = StepForm()
    if not form.validate_on_submit():
        flash("; ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    elif form.undo.data:
        stages.clear_done(unit, step, current_user)
        flash(_("已撤销“%(step)s”", step=step.name), "info")
    else:
        try:
            stages.set_done(unit, step, form.done_on.data or local_today(), form.note.data, current_user)
        except ServiceError as error:
            flash(str(error), "error")
        else:
            flash(_("“%(step)s”已完成", step=step.name), "info")
    return redirect(url_for("work.unit_steps", unit_id=unit.id))


def _lookback_page(unit, kind: str, form: LookBackForm, status: int = 200):
    return render_template("work/lookback.html", unit=unit, campaign=unit.campaign, kind=kind,
                           spec=lookback.LOOKBACKS[kind], form=form, row=lookback.get(unit.id, kind),
                           can_edit=current_user.role in EDITORS), status


def _kind_or_404(kind: str) -> str:
    if kind not in lookback.LOOKBACKS:
        abort(404)
    return kind


@bp.route("/work/units/<int:unit_id>/lookback/<kind>")
@role_required(*ALL_ROLES)
def lookback_form(unit_id: int, kind: str):
    """A look-back checklist (三对比 or 三评议) with the stored answers."""
    unit, kind = unit_or_404(unit_id), _kind_or_404(kind)
    stored = lookback.answers_of(lookback.get(unit.id, kind), kind)
    form = LookBackForm(formdata=None, data={"answers": [{"answer": a["answer"] or None, "note": a["note"]}
                                                         for a in stored]})
    return _lookback_page(unit, kind, form)


@bp.route("/work/units/<int:unit_id>/lookback/<kind>", methods=["POST"])
@role_required(*EDITORS)
def lookback_save(unit_id: int, kind: str):
    """Save the checklist; it is completed when every question has an answer."""
    unit, kind = unit_or_404(unit_id), _kind_or_404(kind)
    form = LookBackForm()
    if not form.validate_on_submit():
        return _lookback_page(unit, kind, form, 400)
    pairs = [(entry.form.answer.data or "", entry.form.note.data or "") for entry in form.answers]
    try:
        row = lookback.save(unit, kind, pairs, current_user)
    except ServiceError as error:
        flash(str(error), "error")
        return _lookback_page(unit, kind, form, 400)
    if row.completed_on:
        flash(_("%(title)s已完成", title=lookback.LOOKBACKS[kind]["title"]), "info")
    else:
        flash(_("已保存,尚有未回答的问题"), "info")
    return redirect(url_for("work.unit_steps", unit_id=unit.id))
