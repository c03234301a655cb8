"""Rater views: thin wrappers around :mod:`surveys.ballots` and :mod:`surveys.forms`."""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from extensions import limiter

from . import bp, guard, structure
from .ballots import CodeState, SubmitResult, code_state_after_reject, lookup, submit_ballot
from .codes import format_code, normalise_code
from .forms import CodeEntryForm, answers_from_form, field_name, unexpected_fields

# HTTP status for each reason a code cannot open a questionnaire.
_STATE_STATUS = {
    CodeState.MALFORMED: 404,
    CodeState.UNKNOWN: 404,
    CodeState.VOID: 410,
    CodeState.USED: 409,
    CodeState.NOT_OPEN: 403,
}


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(guard.request_limit, methods=["POST"])
def index():
    """Home page with the code box; a valid-looking code goes on to its questionnaire."""
    form = CodeEntryForm()
    if form.validate_on_submit():
        if guard.blocked():
            abort(429)
        code = normalise_code(form.code.data)
        if code is not None:
            return redirect(url_for("surveys.ballot", code=format_code(code)))
        form.code.errors.append(_("测评码格式不正确:应为 12 位字母和数字"))
    return render_template("surveys/index.html", form=form), (400 if form.errors else 200)


def _code_problem(state: CodeState):
    return render_template("surveys/code_problem.html", state=state.value), _STATE_STATUS[state]


@bp.route("/v/<code>", methods=["GET", "POST"])
@limiter.limit(guard.request_limit)
def ballot(code: str):
    """Show the questionnaire for a code (GET) or store its ballot (POST)."""
    if guard.blocked():
        abort(429)
    found = lookup(code)
    if found.state in (CodeState.MALFORMED, CodeState.UNKNOWN):
        guard.record_failure()
    if found.state is not CodeState.READY:
        return _code_problem(found.state)
    row = found.code
    evaluation = row.evaluation
    # An open evaluation's questionnaire is frozen: its snapshot and form class are made once per process.
    questionnaire = structure.questionnaire(evaluation.questionnaire_id)
    items = questionnaire.items
    # The form reads exactly the data ``unexpected_fields`` checks: an HTML form body.
    # (Left to itself Flask-WTF would also read a JSON body, which the strict checks never see.)
    formdata = request.form if request.method == "POST" else None
    form = structure.form_class(questionnaire, current_app.config["TEXT_ANSWER_MAX"])(formdata=formdata)
    context = dict(evaluation=evaluation, questionnaire=questionnaire, group=row.rater_group,
                   form=form, items=items, field_name=field_name, code=code)
    if request.method == "POST":
        problem = unexpected_fields(request.form, items)
        if problem:
            return render_template("errors/error.html", code=400, title=_("无法提交"),
                                   message=problem), 400
        if not form.validate():
            return render_template("surveys/ballot.html", **context), 400
        result = submit_ballot(row.code_hash, evaluation.id, row.rater_group_id, answers_from_form(form, items))
        if result is SubmitResult.STORED:
            return redirect(url_for("surveys.thanks"))
        if result is SubmitResult.BUSY:
            return render_template("errors/error.html", code=503, title=_("系统繁忙"),
                                   message=_("系统繁忙,您的测评票未保存,测评码仍然有效,请稍后再次提交。")), 503
        return _code_problem(code_state_after_reject(row.code_hash))
    return render_template("surveys/ballot.html", items_html=structure.items_html(questionnaire, form, field_name),
                           **context)


@bp.route("/thanks")
def thanks():
    """Shown after a ballot is stored; carries no information about the ballot."""
    return render_template("surveys/thanks.html")
