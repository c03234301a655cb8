"""Rater views: thin wrappers around :mod:`surveys.ballots` and :mod:`surveys.forms`.

The code never travels in a request line, where proxies, load balancers and
access logs would keep it: slips link to ``/v#K7QX-M3PD-9TWR`` (a URL fragment
stays in the browser), a small static script on ``/v`` posts the code in a form
body, and the questionnaire carries it in its own body. Without JavaScript the
rater types the code printed on the slip into the same box.
"""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from extensions import csrf, limiter

from . import bp, guard, quiz_score, structure
from .ballots import CodeState, SubmitResult, code_state_after_reject, lookup, submit_ballot
from .codes import format_code, normalise_code
from .forms import BALLOT_MARK, SCRIPTED_MARK, CodeEntryForm, answers_from_form, field_name, unexpected_fields

# Post/Redirect/Get keeps the code out of every URL: the code a rater posted waits in their own signed
# session cookie (a header, never a request line) while the questionnaire is open at GET /v/questionnaire,
# and leaves it when the ballot is stored. "Done" lets Back after submitting show the thanks page again.
SESSION_CODE = "rater_code"
SESSION_DONE = "rater_done"
SESSION_SCORE = "rater_score"

# HTTP status for each reason a code cannot open a questionnaire.
_STATE_STATUS = {
    CodeState.MALFORMED: 404,
    CodeState.UNKNOWN: 404,
    CodeState.VOID: 410,
    CodeState.USED: 409,
    CodeState.NOT_OPEN: 403,
}


@bp.route("/")
def index():
    """Home page with the code box; it posts to ``/v``."""
    return render_template("surveys/index.html", form=CodeEntryForm())


@bp.route("/v/<code>", methods=["GET", "POST"])
def legacy_link(code: str):  # noqa: ARG001 - the code is deliberately not used
    """A link printed before codes moved to the fragment: send the browser to ``/v`` without it.

    The code already reached this server in the request line, so it goes back
    only in the fragment of the redirect, and the page posts it from there.
    """
    normalised = normalise_code(code)
    return redirect(url_for("surveys.ballot") + ("#" + format_code(normalised) if normalised else ""), code=303)


def _code_problem(state: CodeState):
    return render_template("surveys/code_problem.html", state=state.value), _STATE_STATUS[state]


@bp.route("/v", methods=["GET", "POST"])
@limiter.limit(guard.request_limit, methods=["POST"], deduct_when=guard.request_failed)
@csrf.exempt  # opening a questionnaire changes nothing; a ballot's post is checked below
def ballot():
    """The code box (GET); the questionnaire for a posted code (POST); its ballot (POST with the ballot mark)."""
    if request.method == "GET":
        return render_template("surveys/index.html", form=CodeEntryForm(), from_link=True)
    if guard.blocked():
        abort(429)
    stale: CSRFError | None = None
    if BALLOT_MARK in request.form:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            try:
                csrf.protect()  # the ballot form's token, exactly as for every other form that changes data
            except CSRFError as error:
                # Most often a page left open too long: nothing is stored, but for a code that can
                # still vote the answers come back on a fresh form instead of being lost.
                stale = error
    else:
        entry = CodeEntryForm(formdata=request.form)  # a form body only, never JSON
        if entry.validate() and normalise_code(entry.code.data) is None:
            entry.code.errors.append(_("测评码格式不正确:应为 12 位字母和数字"))
        if entry.errors:  # a typing slip: the box again, with the message next to it
            return render_template("surveys/index.html", form=entry), 400
    code = request.form.get("code", "")
    found = lookup(code)
    if found.state in (CodeState.MALFORMED, CodeState.UNKNOWN):
        guard.record_failure()
    if found.state is not CodeState.READY:
        if stale:
            raise stale  # the refusal every other form gives an expired or foreign token
        return _code_problem(found.state)
    if BALLOT_MARK not in request.form:
        # Post/Redirect/Get: the questionnaire is a GET page, so Back and reload never re-post the code.
        session[SESSION_CODE] = normalise_code(code)
        session.pop(SESSION_DONE, None)
        if request.form.get(SCRIPTED_MARK) == "1":
            # The same outcome one request sooner (a rater's third of the server's work): this page's
            # script replaces its history entry with that GET address (templates/surveys/ballot.html).
            return _ballot(found.code, code, None)
        return redirect(url_for("surveys.questionnaire"), code=303)
    return _ballot(found.code, code, stale)


@bp.route("/v/questionnaire")
def questionnaire():
    """The questionnaire for the code this browser posted to ``/v`` (kept in its session, not the URL).

    Back after submitting lands here: the code has left the session, so the rater sees
    that the ballot was stored — never the filled form, and nothing is posted again.
    """
    code = session.get(SESSION_CODE)
    if not code:
        if session.get(SESSION_DONE):
            return render_template("surveys/thanks.html", score=None)
        return redirect(url_for("surveys.ballot"), code=303)
    found = lookup(code)
    if found.state is not CodeState.READY:
        session.pop(SESSION_CODE, None)
        return _code_problem(found.state)
    return _ballot(found.code, code, None)


def _ballot(row, code: str, stale: CSRFError | None):
    """Show the questionnaire of a ready code (GET), or check and store its posted ballot (POST)."""
    evaluation = row.evaluation
    # An open evaluation's questionnaire is frozen: its snapshot and form class are made once per process.
    questionnaire = structure.questionnaire(evaluation.questionnaire_id)
    items = questionnaire.items
    submitting = BALLOT_MARK in request.form
    form_class = structure.form_class(questionnaire, current_app.config["TEXT_ANSWER_MAX"])
    context = dict(evaluation=evaluation, questionnaire=questionnaire, group=row.rater_group,
                   items=items, field_name=field_name, code=format_code(normalise_code(code)),
                   ballot_mark=BALLOT_MARK)
    if not submitting:
        # A frozen questionnaire's unfilled items come rendered from the process's store: no form is
        # bound for the page (the template adds the CSRF token itself).
        items_html = structure.items_html(questionnaire, form_class, field_name)
        form = None if items_html is not None else form_class(formdata=None)
        return render_template("surveys/ballot.html", items_html=items_html, form=form, **context)
    # The form reads exactly the data ``unexpected_fields`` checks: an HTML form body.
    # (Left to itself Flask-WTF would also read a JSON body, which the strict checks never see.)
    form = form_class(formdata=request.form)
    context["form"] = form
    problem = unexpected_fields(request.form, items)
    if problem:
        return render_template("errors/error.html", code=400, title=_("无法提交"), message=problem), 400
    if stale:
        return render_template("surveys/ballot.html", stale=True, **context), 400  # nothing stored
    if not form.validate():
        _focus_first_error(form)
        return render_template("surveys/ballot.html", **context), 400
    answers = answers_from_form(form, items)
    result = submit_ballot(row.code_hash, evaluation.id, row.rater_group_id, answers, evaluation.questionnaire_id)
    if result is SubmitResult.STORED:
        _forget(code)
        session[SESSION_DONE] = True
        if questionnaire.quiz:  # shown once on the thanks page, from the answers just posted
            session[SESSION_SCORE] = _score(questionnaire, answers)
        # Post/Redirect/Get (303: the browser follows with a GET): Back and reload never re-post the ballot.
        return redirect(url_for("surveys.thanks"), code=303)
    if result is SubmitResult.BUSY:
        return render_template("errors/error.html", code=503, title=_("系统繁忙"),
                               message=_("系统繁忙,您的测评票未保存,测评码仍然有效,请稍后再次提交。")), 503
    _forget(code)
    return _code_problem(code_state_after_reject(row.code_hash))


def _forget(code: str) -> None:
    """Drop the session's open code once it has voted (or cannot), but not another tab's newer code."""
    if session.get(SESSION_CODE) == normalise_code(code):
        session.pop(SESSION_CODE, None)


def _score(questionnaire, answers) -> dict | None:
    """The taker's score, or None: the ballot is stored already, so a scoring fault must not become a 500."""
    try:
        return quiz_score.score(questionnaire.id, questionnaire.frozen, questionnaire.pass_mark, answers)
    except Exception:  # noqa: BLE001 - logged; the thanks page then simply shows no score
        current_app.logger.exception("learning-test score not computed")
        return None


def _focus_first_error(form) -> None:
    """Put ``autofocus`` on the first item with an error, so the page opens at it (no script needed)."""
    for field in form:
        if field.errors and field.name != "csrf_token":
            field.render_kw = {**(field.render_kw or {}), "autofocus": True}
            return


@bp.route("/thanks")
def thanks():
    """Shown after a ballot is stored; a learning test's taker also sees their score, once."""
    return render_template("surveys/thanks.html", score=session.pop(SESSION_SCORE, None))
