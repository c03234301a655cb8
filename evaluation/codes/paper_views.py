"""Paper ballots (现场纸质测评票): keying in, double entry and reconciliation, for organisers.

The entry form is the rater's form (:func:`surveys.forms.ballot_form_class`)
plus the code from the ballot's slip; the same strict checks apply. The logic
lives in :mod:`evaluation.codes.paper`.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from models import Role
from surveys.forms import answers_from_form, ballot_form_class, field_name, unexpected_fields

from evaluation.codes import paper
from evaluation.campaigns.evaluation_views import bp, evaluation_or_404
from evaluation.accounts.permissions import role_required
from evaluation.services import ServiceError

_MESSAGES = {
    paper.Outcome.STORED: _l("测评票已保存"),
    paper.Outcome.AWAITING_SECOND: _l("第一遍已录入,请另一位录入员录入第二遍后才计入"),
    paper.Outcome.MISMATCH: _l("两遍录入不一致,请核对"),
}


def _strict_problem(items) -> str | None:
    """:func:`unexpected_fields` on the raw form, minus the fields the paper form adds."""
    data = MultiDict([(k, v) for k, v in request.form.items(multi=True) if k not in ("code", "submit")])
    return unexpected_fields(data, items)


@bp.route("/evaluations/<int:evaluation_id>/paper", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def paper_entry(evaluation_id: int):
    """Key in a paper ballot against the code on its slip."""
    evaluation = evaluation_or_404(evaluation_id)
    questionnaire = evaluation.questionnaire
    items = list(questionnaire.items)
    formdata = request.form if request.method == "POST" else None
    form = paper.paper_form_class(questionnaire, current_app.config["TEXT_ANSWER_MAX"])(formdata=formdata)
    status = 200
    if request.method == "POST":
        problem = _strict_problem(items)
        if problem:
            form.form_errors.append(problem)
        elif form.validate():
            try:
                result = paper.enter(evaluation, form.code.data, answers_from_form(form, items), current_user)
            except ServiceError as error:
                form.form_errors.append(str(error))
            else:
                flash(str(_MESSAGES[result.outcome]), "info" if result.outcome is not paper.Outcome.MISMATCH else "error")
                if result.outcome is paper.Outcome.MISMATCH:
                    return redirect(url_for(".reconcile", entry_id=result.entry_id), code=303)
                return redirect(url_for(".paper_entry", evaluation_id=evaluation_id), code=303)
        status = 400
    return render_template("manage/paper.html", evaluation=evaluation, form=form, items=items,
                           field_name=field_name, pending=paper.pending(evaluation_id)), status


@bp.route("/paper/<int:entry_id>/reconcile", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def reconcile(entry_id: int):
    """Two disagreeing entries side by side; the organiser decides the mismatching items, then it is stored."""
    try:
        pair = paper.pair(entry_id)
    except ServiceError:
        abort(404)
    evaluation = evaluation_or_404(pair.evaluation.id)
    questionnaire = evaluation.questionnaire
    items = list(questionnaire.items)
    form_class = ballot_form_class(questionnaire, current_app.config["TEXT_ANSWER_MAX"])
    status = 200
    if request.method == "POST":
        form = form_class(formdata=request.form)
        problem = _strict_problem(items)
        if problem:
            form.form_errors.append(problem)
        elif form.validate():
            try:
                paper.resolve(entry_id, answers_from_form(form, items))
            except ServiceError as error:
                form.form_errors.append(str(error))
            else:
                flash(_("核对完成,测评票已保存"), "info")
                return redirect(url_for(".paper_entry", evaluation_id=evaluation.id), code=303)
        status = 400
    else:
        form = form_class(formdata=None, data=paper.prefill(pair.answers(1), items, pair.mismatched))
    return render_template("manage/reconcile.html", evaluation=evaluation, pair=pair, form=form, items=items,
                           field_name=field_name, first=paper.shown(pair.answers(1), items),
                           second=paper.shown(pair.answers(2), items)), status


@bp.route("/paper/<int:entry_id>/discard", methods=["POST"])
@role_required(Role.ORGANISER)
def discard(entry_id: int):
    """Drop both entries of a disagreeing pair (e.g. a spoilt paper ballot); the code stays unused."""
    try:
        pair = paper.pair(entry_id)
    except ServiceError:
        abort(404)
    evaluation_or_404(pair.evaluation.id)
    evaluation_id = paper.discard(entry_id)
    flash(_("已放弃这两遍录入,测评码仍未使用"), "info")
    return redirect(url_for(".paper_entry", evaluation_id=evaluation_id), code=303)
