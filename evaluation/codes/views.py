"""Codes and slips: issue in bulk or for one evaluation, print once, count afterwards, void a batch.

Organisers act on every unit; a liaison (联络员) issues and prints codes for
their own units only. The response to an issuing POST is the only place the
plain codes ever appear: the slip sheet (with a ``data:`` link to a CSV of the
same codes) or, with the "CSV only" button, the CSV itself. Both are sent
``Cache-Control: no-store``. A one-time form token kept in the signed session
stops a reload of that response from issuing a second set.
"""
from __future__ import annotations

from flask import Response, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import force_locale, gettext as _
from markupsafe import Markup
from flask_login import current_user

from extensions import db
from models import CodeBatch, Evaluation, Questionnaire, Role

from evaluation.campaigns.evaluation_views import (
    bp, campaign_or_404, evaluation_or_404, localtime, scope_choices, scope_unit_set,
)
from evaluation.codes.batch_list import BATCH_LIST, batch_query, batch_table
from evaluation.campaigns.evaluation_forms import BulkCodesForm, CodesForm, new_nonce
from evaluation.codes.paper import pending
from evaluation.accounts.permissions import role_required, visible_unit_ids
from evaluation.results.views import pct
from evaluation.services import ServiceError
from evaluation.codes.slips import (
    CSV_LIMIT, SLIP_LIMIT, SLIPS_PER_PAGE, Issue, batch_rows, check_issue, csv_data_uri, csv_text, issue, qr_svg,
    slip_pages, targets_for, turnout_rows, unused_count, void,
)
from evaluation.codes.turnout import TURNOUT_LIST, WORKLIST, turnout_query, turnout_table, turnout_totals, worklist_table
from evaluation.campaigns.evaluation_list import committee_filter, evaluation_query, evaluation_totals
from evaluation.list_exports import download
from evaluation.listing import Page, all_rows, page_of, read_args
from evaluation.codes.reprint import reprint, reprint_plan
from evaluation.campaigns.confirm import ask, confirmed

_USED_NONCES = "issued_nonces"


def _nonce_used(nonce: str) -> bool:
    return bool(nonce) and nonce in session.get(_USED_NONCES, [])


def _remember_nonce(nonce: str) -> None:
    if nonce:
        session[_USED_NONCES] = (session.get(_USED_NONCES, []) + [nonce])[-30:]


def _already_issued(back: str):
    return render_template("manage/already_issued.html", back=back), 409


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store, max-age=0"
    response.headers["Pragma"] = "no-cache"
    return response


def issued_response(result: Issue, output: str, back: str) -> Response:
    """The one response that shows plain codes: the slip sheet, or the CSV when asked for."""
    name = f"ceping-codes-{result.batch_ids[0]}" + (f"-{result.batch_ids[-1]}" if len(result.batch_ids) > 1 else "")
    if output == "csv":
        response = Response(csv_text(result.codes), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return _no_store(response)
    with force_locale("zh"):  # slips are read by raters: always in the campaign's language
        sheets = render_template("manage/_slip_sheets.html", pages=slip_pages(result.codes, SLIPS_PER_PAGE),
                                 qr=qr_svg, index_url=url_for("surveys.index", _external=True))
    html = render_template("manage/slips.html", codes=result.codes, per_page=SLIPS_PER_PAGE, sheets=Markup(sheets),
                           csv_uri=csv_data_uri(result.codes), csv_name=f"{name}.csv", back=back)
    return _no_store(make_response(html))


def _confirm_issue(targets, each: int, total: int, back: str, output: str):
    """The page that states the count before any code is issued (codes are shown only once)."""
    lines = [f"{e.unit.name} · {g.name}" for e, g in targets[:12]]
    if len(targets) > 12:
        lines.append(_("……另有 %(n)s 组", n=len(targets) - 12))
    question = _("将为 %(groups)s 组(单位 × 测评主体)各发放 %(each)s 个测评码,共 %(total)s 个。"
                 "测评码只显示这一次。", groups=len(targets), each=each, total=total)
    return ask(question, _("确认发放 %(total)s 个测评码", total=total), back, total, lines, download=output == "csv")


def _issue_from(form, targets, back: str, target: str):
    """Shared tail of both issuing views: nonce check, the count confirmed, issue, respond.

    Returns None with the error on the form when the service refuses.
    """
    if _nonce_used(form.nonce.data):
        return _already_issued(back)
    output = "csv" if request.form.get("output") == "csv" else "slips"
    limit = CSV_LIMIT if output == "csv" else SLIP_LIMIT
    try:
        total = check_issue(targets, form.count.data, limit)
        if not confirmed(total):  # one click never issues: the count is stated and confirmed first
            return _confirm_issue(targets, form.count.data, total, back, output)
        result = issue(targets, form.count.data, limit, current_user, target=target)
    except ServiceError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return None
    _remember_nonce(form.nonce.data)
    return issued_response(result, output, back)


@bp.route("/campaigns/<int:campaign_id>/codes", methods=["GET", "POST"])
@role_required(Role.ORGANISER, Role.LIAISON)
def campaign_codes(campaign_id: int):
    """Issue N codes per unit × rater group for one questionnaire's evaluations (all units or a committee)."""
    campaign = campaign_or_404(campaign_id)
    form = BulkCodesForm()
    keys = db.session.execute(db.select(Questionnaire.key, Questionnaire.title).join(
        Evaluation, Evaluation.questionnaire_id == Questionnaire.id).where(Evaluation.campaign_id == campaign_id)
        .distinct().order_by(Questionnaire.key)).all()
    form.questionnaire.choices = list(dict((k, t) for k, t in keys).items())
    form.scope.choices = scope_choices(campaign_id)
    form.groups.choices = [(g.id, g.name) for g in campaign.rater_groups]
    back = url_for(".campaign_codes", campaign_id=campaign_id)
    if request.method == "GET":
        form.groups.data = [g.id for g in campaign.rater_groups]
        form.nonce.data = new_nonce()
    if form.validate_on_submit():
        targets = targets_for(campaign_id, form.questionnaire.data, form.groups.data,
                              scope_unit_set(form.scope.data))
        response = _issue_from(form, targets, back, f"campaign:{campaign_id}")
        if response is not None:
            return response
    return render_template("manage/codes.html", campaign=campaign, form=form, slip_limit=SLIP_LIMIT,
                           csv_limit=CSV_LIMIT), (400 if form.errors else 200)


@bp.route("/evaluations/<int:evaluation_id>/codes", methods=["GET", "POST"])
@role_required(Role.ORGANISER, Role.LIAISON)
def evaluation_codes(evaluation_id: int):
    """One evaluation's batches and turnout per group (counts only), with issuing and voiding."""
    evaluation = evaluation_or_404(evaluation_id)
    form = CodesForm()
    form.groups.choices = [(g.id, g.name) for g in evaluation.rater_groups]
    back = url_for(".evaluation_codes", evaluation_id=evaluation_id)
    if request.method == "GET":
        form.groups.data = [g.id for g in evaluation.rater_groups]
        form.nonce.data = new_nonce()
    if form.validate_on_submit():
        targets = [(evaluation, g) for g in evaluation.rater_groups if g.id in set(form.groups.data)]
        response = _issue_from(form, targets, back, f"evaluation:{evaluation_id}")
        if response is not None:
            return response
    context = {"evaluation": evaluation, "form": form, "batches": batch_rows(evaluation_id),
               "turnout": turnout_rows(evaluation.campaign_id, evaluation_id=evaluation_id),
               "slip_limit": SLIP_LIMIT, "csv_limit": CSV_LIMIT,
               "paper": pending(evaluation_id) if current_user.role is Role.ORGANISER else None}
    return render_template("manage/evaluation_codes.html", **context), (400 if form.errors else 200)


@bp.route("/campaigns/<int:campaign_id>/batches")
@role_required(Role.ORGANISER, Role.LIAISON)
def batches(campaign_id: int):
    """Every code batch of the campaign in the reader's scope: searched, sorted, by committee, paged."""
    filters = _turnout_filters(campaign_id)
    page = page_of(BATCH_LIST, batch_query(campaign_id, filters["units"]), read_args(BATCH_LIST))
    return render_template("manage/batches.html", page=page, **filters)


@bp.route("/campaigns/<int:campaign_id>/batches.<fmt>")
@role_required(Role.ORGANISER, Role.LIAISON)
def batches_export(campaign_id: int, fmt: str):
    """The batches list as CSV or XLSX, with the page's filters, search and order (counts only, never codes)."""
    filters = _turnout_filters(campaign_id)
    rows = all_rows(BATCH_LIST, batch_query(campaign_id, filters["units"]), read_args(BATCH_LIST))
    header, cells = batch_table(rows, localtime)
    return download(fmt, _("批次"), header, cells, f"campaign-{campaign_id}-batches",
                    _("%(campaign)s-测评码批次", campaign=filters["campaign"].name), f"campaign:{campaign_id}")


@bp.route("/batches/<int:batch_id>/void", methods=["POST"])
@role_required(Role.ORGANISER)
def void_batch(batch_id: int):
    """Void the unused codes of a batch: they then open the "voided" page. Used codes keep their ballots."""
    batch = db.session.get(CodeBatch, batch_id)
    if batch is None:
        abort(404)
    evaluation_id = batch.evaluation_id
    unused = unused_count(batch_id)
    if unused and not confirmed(unused):  # irreversible: asked on its own page, with or without JavaScript
        return ask(_("作废第 %(batch)s 批中 %(n)s 个未使用的测评码?作废后不能恢复。", batch=batch_id, n=unused),
                   _("作废 %(n)s 个测评码", n=unused), url_for(".evaluation_codes", evaluation_id=evaluation_id), unused)
    try:
        n = void(batch_id, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("批次 %(id)s 已作废 %(n)s 个未使用的测评码", id=batch_id, n=n), "info")
    return redirect(url_for(".evaluation_codes", evaluation_id=evaluation_id), code=303)


@bp.route("/batches/<int:batch_id>/reprint", methods=["POST"])
@role_required(Role.ORGANISER)
def reprint_batch(batch_id: int):
    """Re-print a lost batch: after a stated confirmation, void its unused codes and show as many new slips."""
    batch = db.session.get(CodeBatch, batch_id)
    if batch is None:
        abort(404)
    back = url_for(".evaluation_codes", evaluation_id=batch.evaluation_id)
    try:
        n = reprint_plan(batch)
        if not confirmed(n):
            question = _("补印第 %(batch)s 批:作废其中 %(n)s 个未使用的测评码,并为%(unit)s · %(group)s重新发放 %(n)s 个"
                         "(新批次)。丢失的测评条随即失效。", batch=batch_id, n=n, unit=batch.evaluation.unit.name,
                         group=batch.rater_group.name)
            return ask(question, _("确认补印 %(n)s 个测评码", n=n), back, n)
        result = reprint(batch, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back, code=303)
    return issued_response(result, "slips", back)


def _turnout_filters(campaign_id: int) -> dict:
    """Campaign, questionnaire and committee filters of the turnout lists, in the reader's scope."""
    campaign = campaign_or_404(campaign_id)
    choices, committee_id, units = committee_filter(campaign_id, request.args.get("committee"),
                                                    visible_unit_ids(current_user))
    return {"campaign": campaign, "key": request.args.get("questionnaire") or None, "committees": choices,
            "committee_id": committee_id, "units": units}


def _turnout(campaign_id: int) -> tuple[dict, Page]:
    """The turnout page's filters and its page of rows (the JSON refresh reads the same page)."""
    filters = _turnout_filters(campaign_id)
    query = turnout_query(campaign_id, filters["key"], filters["units"])
    filters["totals"] = turnout_totals(query)
    return filters, page_of(TURNOUT_LIST, query, read_args(TURNOUT_LIST))


@bp.route("/campaigns/<int:campaign_id>/turnout")
@role_required(Role.ORGANISER, Role.LIAISON, Role.VIEWER)
def turnout(campaign_id: int):
    """Turnout per unit × rater group: codes used / issued (voided codes not counted), as ballots arrive."""
    filters, page = _turnout(campaign_id)
    return render_template("manage/turnout.html", page=page, **filters)


@bp.route("/campaigns/<int:campaign_id>/turnout.json")
@role_required(Role.ORGANISER, Role.LIAISON, Role.VIEWER)
def turnout_json(campaign_id: int):
    """The turnout page's counts, for static/js/turnout.js to refresh them in place as ballots arrive.

    Counts only, in the user's scope, for the rows of the page being looked at (same filters,
    search, order and page), with the rates already formatted as the page formats them;
    ``Cache-Control: no-store`` so no proxy serves old counts.
    """
    filters, page = _turnout(campaign_id)
    totals = filters["totals"]
    rate = (totals["used"] / totals["issued"]) if totals["issued"] else None
    body = {"issued": totals["issued"], "used": totals["used"], "rate": pct(rate, 0),
            "rows": [{"key": f"{r.evaluation_id}:{r.group}", "issued": r.issued, "used": r.used,
                      "rate": pct(r.rate, 0)} for r in page.rows]}
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/campaigns/<int:campaign_id>/turnout.<fmt>")
@role_required(Role.ORGANISER, Role.LIAISON, Role.VIEWER)
def turnout_export(campaign_id: int, fmt: str):
    """The turnout list as CSV or XLSX: the page's filters, search and order, every page, the reader's units."""
    filters = _turnout_filters(campaign_id)
    query = turnout_query(campaign_id, filters["key"], filters["units"])
    header, cells = turnout_table(all_rows(TURNOUT_LIST, query, read_args(TURNOUT_LIST)))
    return download(fmt, _("参与率"), header, cells, f"campaign-{campaign_id}-turnout",
                    _("%(campaign)s-参与率", campaign=filters["campaign"].name), f"campaign:{campaign_id}")


@bp.route("/campaigns/<int:campaign_id>/worklist")
@role_required(Role.ORGANISER, Role.LIAISON, Role.VIEWER)
def worklist(campaign_id: int):
    """The turnout worklist: open and closed evaluations, lowest turnout first, by committee."""
    filters = _turnout_filters(campaign_id)
    query = evaluation_query(campaign_id, filters["units"], key=filters["key"])
    return render_template("manage/worklist.html", page=page_of(WORKLIST, query, read_args(WORKLIST)),
                           totals=evaluation_totals(query), **filters)


@bp.route("/campaigns/<int:campaign_id>/worklist.<fmt>")
@role_required(Role.ORGANISER, Role.LIAISON, Role.VIEWER)
def worklist_export(campaign_id: int, fmt: str):
    """The worklist as CSV or XLSX, lowest turnout first, with the page's filters."""
    filters = _turnout_filters(campaign_id)
    query = evaluation_query(campaign_id, filters["units"], key=filters["key"])
    header, cells = worklist_table(all_rows(WORKLIST, query, read_args(WORKLIST)))
    return download(fmt, _("参与率工作清单"), header, cells, f"campaign-{campaign_id}-worklist",
                    _("%(campaign)s-参与率工作清单", campaign=filters["campaign"].name), f"campaign:{campaign_id}")
