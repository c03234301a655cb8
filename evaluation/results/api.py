"""The results API (JSON), ``/api/v1``, for scripts and other systems.

Every route needs ``Authorization: Bearer <token>`` (``flask --app app tokens create
USERNAME``). A token carries its account's role and scope, and the API only reads:
organisers and viewers read every result; a liaison reads only the evaluations of
units in their subtree (any other is a 404, as if it did not exist), campaign results
narrowed to those units, and no per-item figures of a unit that is not judged
(rule 6). Responses are the exact text of :func:`evaluation.results.documents.results_json`,
the same as the ``results`` CLI command prints. Errors are JSON too:
``{"error": "中文 / English", "status": code}``.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from errors import json_error
from extensions import csrf, db
from ids import get_by_id
from models import Evaluation, Role

from evaluation.accounts.permissions import can_see_unit, visible_unit_ids
from evaluation.results.documents import ResultsNotFound, campaign_document, evaluation_document, results_json
from evaluation.accounts.tokens import user_for_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies: there is no cross-site form to forge

UNAUTHORISED = "需要有效的 API 令牌 / A valid API token is required (Authorization: Bearer <token>)."
FORBIDDEN = "此令牌无权访问结果 / This token may not read results."


def _bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


@bp.before_request
def require_token():
    """Refuse the request unless it carries a valid token (401); 403 for a liaison without a unit
    and for anything but reading by a liaison or viewer."""
    user = user_for_token(_bearer_token())
    if user is None:
        response = json_error(401, UNAUTHORISED)
        response.headers["WWW-Authenticate"] = 'Bearer realm="ceping"'
        return response
    if user.role is Role.LIAISON and user.unit_id is None:
        return json_error(403, FORBIDDEN)
    if user.role is not Role.ORGANISER and request.method not in ("GET", "HEAD", "OPTIONS"):
        return json_error(403, FORBIDDEN)  # liaisons and viewers only ever read
    g.api_user = user
    return None


def _is_liaison() -> bool:
    return g.api_user.role is Role.LIAISON


def _rollback() -> None:
    """Roll the session back, tolerating a dead connection (the reason we may be here)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the error response must still be sent
        pass


def _json(document: dict):
    """A 200 response with the document's canonical JSON text."""
    response = current_app.response_class(results_json(document), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/evaluations/<int:evaluation_id>/results")
def evaluation_results(evaluation_id: int):
    """Results of one evaluation: its unit with items and rater groups (a liaison: own units only)."""
    evaluation = get_by_id(Evaluation, evaluation_id)
    if evaluation is not None and not can_see_unit(g.api_user, evaluation.unit_id):
        evaluation = None  # another unit's evaluation does not exist for this liaison
    if evaluation is None:
        raise ResultsNotFound(f"测评 {evaluation_id} 不存在 / No evaluation with id {evaluation_id}.")
    return _json(evaluation_document(evaluation_id, for_liaison=_is_liaison()))


@bp.route("/campaigns/<int:campaign_id>/results")
def campaign_results(campaign_id: int):
    """Current-round results of a campaign for one questionnaire (``?questionnaire=KEY``),
    narrowed to a liaison's own units."""
    return _json(campaign_document(campaign_id, request.args.get("questionnaire") or None,
                                   unit_ids=visible_unit_ids(g.api_user), for_liaison=_is_liaison()))


@bp.errorhandler(ResultsNotFound)
def not_found(error: ResultsNotFound):
    """An unknown evaluation, campaign or questionnaire: 404 with the reason."""
    return json_error(404, str(error))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Any HTTP error raised inside an API view, as JSON."""
    _rollback()
    return json_error(error.code or 500)


@bp.errorhandler(OperationalError)
def database_down(error: OperationalError):
    """The database is unreachable or locked: 503, nothing changed."""
    _rollback()
    current_app.logger.error("database unavailable: %s", type(error).__name__)
    return json_error(503)


@bp.errorhandler(Exception)
def unexpected(error: Exception):
    """Anything else: 500 without details (they go to the log)."""
    _rollback()
    current_app.logger.exception("unhandled API error")
    return json_error(500)
