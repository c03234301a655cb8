"""Analysis-report review (四不通过): report rounds per unit, the review scores and the verdict.

Organisers attach a report text (which creates its review evaluation) and record the
verdict; everyone who may see the unit reads the rounds. Liaisons see the review's
per-item figures only when the review has enough ballots to be judged (rule 6).
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from extensions import csrf, db
from models import AnalysisReport, Role

from evaluation.work import reports
from evaluation.work.views import bp, campaign_or_404, scope, unit_or_404
from evaluation.accounts.permissions import ALL_ROLES, can_see_unit, role_required
from evaluation.services import ServiceError
from evaluation.work.forms import ReportForm, VerdictForm


@bp.route("/campaigns/<int:campaign_id>/reports")
@role_required(*ALL_ROLES)
def reports_list(campaign_id: int):
    """Every unit with a report: its newest round and verdict."""
    campaign = campaign_or_404(campaign_id)
    return render_template("work/reports.html", campaign=campaign,
                           rows=reports.campaign_rows(campaign_id, scope()))


def _unit_page(unit, form: ReportForm, status: int = 200):
    rounds = reports.rounds(unit.id)
    newest = rounds[-1] if rounds else None
    can_submit = current_user.role is Role.ORGANISER and (newest is None or newest.verdict == "returned")
    return render_template("work/unit_reports.html", unit=unit, campaign=unit.campaign, rounds=rounds,
                           form=form, can_submit=can_submit, conditions_of=reports.conditions_of), status


@bp.route("/work/units/<int:unit_id>/reports")
@role_required(*ALL_ROLES)
def unit_reports(unit_id: int):
    """The rounds of a unit's report; organisers may start the first or the next round."""
    return _unit_page(unit_or_404(unit_id), ReportForm(formdata=None))


@bp.route("/work/units/<int:unit_id>/reports", methods=["POST"])
@csrf.exempt  # ReportForm checks the token itself, after the larger body limit below is in place
@role_required(Role.ORGANISER)
def report_submit(unit_id: int):
    """Start a round: store the text and create (and open) its review evaluation."""
    # A report of 20,000 Chinese characters is ~180 KB form-encoded, above the app-wide 64 KiB.
    request.max_content_length = current_app.config["UPLOAD_MAX"]
    unit = unit_or_404(unit_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return _unit_page(unit, form, 400)
    try:
        report = reports.submit(unit.id, form.text.data, current_user, open_now=form.open_now.data)
    except ServiceError as error:
        form.text.errors.append(str(error))
        return _unit_page(unit, form, 400)
    flash(_("已提交第 %(round)s 轮报告并建立评议测评", round=report.round), "info")
    return redirect(url_for("work.report", report_id=report.id))


def _report_or_404(report_id: int) -> AnalysisReport:
    report = db.session.get(AnalysisReport, report_id)
    if report is None or not can_see_unit(current_user, report.unit_id):
        abort(404)
    return report


def _report_page(report: AnalysisReport, form: VerdictForm, status: int = 200, scores=None):
    scores = scores or reports.review_scores(report)
    show_scores = scores["judged"] or current_user.role is not Role.LIAISON
    newest = reports.latest(report.unit_id)
    can_decide = (current_user.role is Role.ORGANISER and report.verdict == "pending"
                  and newest is not None and newest.id == report.id)
    return render_template("work/report.html", report=report, unit=report.unit, campaign=report.unit.campaign,
                           scores=scores, show_scores=show_scores, form=form, can_decide=can_decide,
                           decided=reports.conditions_of(report), conditions=reports.CONDITIONS), status


@bp.route("/reports/<int:report_id>")
@role_required(*ALL_ROLES)
def report(report_id: int):
    """One round: the text, the review's scores beside the four conditions, the verdict."""
    item = _report_or_404(report_id)
    form = VerdictForm(formdata=None)
    scores = reports.review_scores(item)
    # Offer what the scores suggest; the organiser decides.
    for entry in scores["conditions"]:
        getattr(form, entry["condition"].key).data = entry["suggested"]
    return _report_page(item, form, scores=scores)


@bp.route("/reports/<int:report_id>/verdict", methods=["POST"])
@role_required(Role.ORGANISER)
def report_verdict(report_id: int):
    """Record the verdict: passed when all four conditions are met, else returned for a new round."""
    item = _report_or_404(report_id)
    form = VerdictForm()
    if not form.validate_on_submit():
        return _report_page(item, form, 400)
    met = {c.key: getattr(form, c.key).data for c in reports.CONDITIONS}
    try:
        reports.record_verdict(item, met, form.note.data, current_user)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("work.report", report_id=item.id))
    if item.verdict == "passed":
        flash(_("报告已通过"), "info")
    else:
        flash(_("报告已退回,单位修改后提交新一轮"), "info")
    return redirect(url_for("work.unit_reports", unit_id=item.unit_id))
