"""Downloads: results as CSV and XLSX (every role, a liaison their own units), raw anonymous ballots
as CSV and XLSX (organisers).

The results files are flattened from the same documents the JSON API serves
(:mod:`evaluation.results.frames`, :mod:`analysis.tables`), so a figure is the same wherever it
is read. The raw ballots are streamed straight from the database in batches
(:mod:`evaluation.results.raw_ballots`), so a campaign of any size is exported with
flat memory; the raw ballots XLSX (one row per ballot, one sheet per questionnaire) is
written by the streaming writer of :mod:`analysis.xlsx_stream` for the same reason. Ballot rows carry the day of submission only, never a code.
Every text cell is neutralised against spreadsheet formula injection.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from flask import Blueprint, Response, abort, request, stream_with_context
from flask_babel import gettext
from flask_login import current_user

from analysis import ranking
from analysis.tables import results_csv_chunks, results_workbook
from analysis.xlsx_stream import stream_xlsx
from extensions import db
from ids import db_id
from models import Campaign, Evaluation, Role, Unit, UnitKind

from evaluation.accounts.permissions import (
    can_see_campaign, can_see_unit, role_required, subtree_ids, visible_unit_ids,
)
from evaluation.results.documents import ResultsNotFound, campaign_document, evaluation_document
from evaluation.results.raw_ballots import ballot_csv_chunks, ballot_sheets

bp = Blueprint("exports", __name__, url_prefix="/admin")

CSV_MIMETYPE = "text/csv"  # Flask adds "; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def content_disposition(ascii_name: str, display_name: str) -> str:
    """``attachment`` with an ASCII filename and the display name as RFC 5987 ``filename*``."""
    safe_ascii = _UNSAFE_FILENAME.sub("_", ascii_name.encode("ascii", "replace").decode("ascii"))
    display = _UNSAFE_FILENAME.sub("_", display_name)
    return f"attachment; filename=\"{safe_ascii}\"; filename*=UTF-8''{quote(display, safe='')}"


def _download(body: bytes | Iterable[str] | Iterable[bytes], mimetype: str, ascii_name: str,
              display_name: str) -> Response:
    """A download response; text or byte chunks are streamed (text as UTF-8) inside the request context."""
    if not isinstance(body, bytes):
        chunks = body
        body = stream_with_context(chunk if isinstance(chunk, bytes) else chunk.encode("utf-8") for chunk in chunks)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(ascii_name, display_name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _scope(campaign_id: int, committee_id) -> set[int] | None:
    """The units an export may hold: the reader's own (a liaison's subtree, else all), narrowed to
    ``?committee=ID`` when that is a committee of the campaign; an unknown one narrows nothing,
    as on the overview, so a bad argument never answers an error or an empty file."""
    visible = visible_unit_ids(current_user)
    if committee_id is None:
        return visible
    committee = db.session.get(Unit, committee_id)
    if committee is None or committee.campaign_id != campaign_id or committee.kind is not UnitKind.COMMITTEE:
        return visible
    members = subtree_ids(committee_id)
    if visible is not None and not visible & members:
        return visible  # another committee, for a liaison: as on the overview, it narrows nothing
    return members if visible is None else visible & members


def _campaign_document(campaign_id: int) -> dict:
    """The campaign document for ``?questionnaire=KEY`` (default: most used) and ``?committee=ID``,
    narrowed to the reader's units, or 404 (a liaison's campaign without their units, too)."""
    if not can_see_campaign(current_user, campaign_id):
        abort(404)
    unit_ids = _scope(campaign_id, request.args.get("committee", type=db_id))
    try:
        # the same disclosure as every page (analysis/disclosure.py): nothing resting on < min_ballots
        document = campaign_document(campaign_id, request.args.get("questionnaire") or None, unit_ids=unit_ids,
                                     for_liaison=current_user.role is Role.LIAISON)
    except ResultsNotFound:
        abort(404)
    # rows in the overview's ranking order: units not judged (no rate) last
    return {**document, "units": ranking.ranked_documents(document["units"])}


def _evaluation_document(evaluation_id: int) -> dict:
    """The evaluation document, or 404 (for a liaison, also another unit's evaluation)."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None or not can_see_unit(current_user, evaluation.unit_id):
        abort(404)
    try:
        return evaluation_document(evaluation_id, for_liaison=current_user.role is Role.LIAISON)
    except ResultsNotFound:
        abort(404)


def _campaign_names(document: dict, suffix: str) -> tuple[str, str]:
    """(ASCII filename, display filename) for a campaign results file."""
    key = document["questionnaire"] or "none"
    return (f"campaign-{document['campaign_id']}-{key}-results.{suffix}",
            gettext("%(campaign)s-%(key)s-测评结果.%(suffix)s", campaign=document["campaign"], key=key, suffix=suffix))


def _evaluation_names(document: dict, suffix: str) -> tuple[str, str]:
    """(ASCII filename, display filename) for an evaluation results file."""
    unit = document["units"][0]["unit"] if document["units"] else ""
    return (f"evaluation-{document['evaluation_id']}-results.{suffix}",
            gettext("%(unit)s-测评%(id)s-结果.%(suffix)s", unit=unit, id=document["evaluation_id"], suffix=suffix))


@bp.route("/campaigns/<int:campaign_id>/results.csv")
@role_required(Role.ORGANISER, Role.VIEWER, Role.LIAISON)
def campaign_results_csv(campaign_id: int):
    """Campaign results, one row per unit × item (``?questionnaire=KEY``)."""
    document = _campaign_document(campaign_id)
    return _download(results_csv_chunks(document), CSV_MIMETYPE, *_campaign_names(document, "csv"))


@bp.route("/campaigns/<int:campaign_id>/results.xlsx")
@role_required(Role.ORGANISER, Role.VIEWER, Role.LIAISON)
def campaign_results_xlsx(campaign_id: int):
    """Campaign results workbook: units, items and committees sheets."""
    document = _campaign_document(campaign_id)
    return _download(results_workbook(document, gettext), XLSX_MIMETYPE, *_campaign_names(document, "xlsx"))


@bp.route("/evaluations/<int:evaluation_id>/results.csv")
@role_required(Role.ORGANISER, Role.VIEWER, Role.LIAISON)
def evaluation_results_csv(evaluation_id: int):
    """One evaluation's results, one row per item."""
    document = _evaluation_document(evaluation_id)
    return _download(results_csv_chunks(document), CSV_MIMETYPE, *_evaluation_names(document, "csv"))


@bp.route("/evaluations/<int:evaluation_id>/results.xlsx")
@role_required(Role.ORGANISER, Role.VIEWER, Role.LIAISON)
def evaluation_results_xlsx(evaluation_id: int):
    """One evaluation's results workbook: unit, items and rater-group sheets."""
    document = _evaluation_document(evaluation_id)
    return _download(results_workbook(document, gettext), XLSX_MIMETYPE, *_evaluation_names(document, "xlsx"))


@bp.route("/campaigns/<int:campaign_id>/ballots.csv")
@role_required(Role.ORGANISER)
def campaign_ballots_csv(campaign_id: int):
    """Every answer of every ballot of the campaign, anonymous (organisers only)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return _download(ballot_csv_chunks(campaign_id), CSV_MIMETYPE,
                     f"campaign-{campaign_id}-ballots.csv", gettext("%(campaign)s-测评票.csv", campaign=campaign.name))


@bp.route("/campaigns/<int:campaign_id>/ballots.xlsx")
@role_required(Role.ORGANISER)
def campaign_ballots_xlsx(campaign_id: int):
    """The same anonymous ballots as a workbook: one row per ballot, one sheet per questionnaire."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return _download(stream_xlsx(ballot_sheets(campaign_id)), XLSX_MIMETYPE,
                     f"campaign-{campaign_id}-ballots.xlsx", gettext("%(campaign)s-测评票.xlsx", campaign=campaign.name))
