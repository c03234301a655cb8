"""Downloads for organisers: results as CSV and XLSX, raw anonymous ballots as CSV.

The results files are flattened from the same documents the JSON API serves
(:mod:`evaluation.results`, :mod:`analysis.tables`), so a figure is the same wherever it
is read. The raw ballots are streamed straight from the database in batches
(``yield_per``: a server-side cursor on PostgreSQL), so a campaign of any size is
exported with flat memory. Ballot rows carry the day of submission only, never a code.
Every text cell is neutralised against spreadsheet formula injection.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote

import pandas as pd
from flask import Blueprint, Response, abort, request, stream_with_context
from sqlalchemy import select

from analysis.exports import csv_chunks
from analysis.tables import results_csv_chunks, results_workbook
from extensions import db
from models import Answer, Ballot, Campaign, Evaluation, Item, Option, RaterGroup, Role, Unit

from .permissions import role_required
from .results import ResultsNotFound, campaign_document, evaluation_document

bp = Blueprint("exports", __name__, url_prefix="/admin")

CSV_MIMETYPE = "text/csv"  # Flask adds "; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BALLOT_COLUMNS = ["ballot_id", "evaluation_id", "unit", "group", "submitted_on", "item_position",
                  "item", "option", "text"]
#: Rows fetched from the database per round trip when streaming ballots.
BALLOT_BATCH = 2000
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def ballot_rows_query(campaign_id: int):
    """One row per stored answer of the campaign's ballots, in the order of BALLOT_COLUMNS.

    No code, no time of day (ballots hold neither); ordered by evaluation and random
    ballot id, which reveals nothing about the order of arrival.
    """
    return (
        select(Ballot.id, Ballot.evaluation_id, Unit.name, RaterGroup.name, Ballot.submitted_on,
               Item.position, Item.text, Option.label, Answer.text)
        .select_from(Answer)
        .join(Ballot, Ballot.id == Answer.ballot_id)
        .join(Evaluation, Evaluation.id == Ballot.evaluation_id)
        .join(Unit, Unit.id == Evaluation.unit_id)
        .join(RaterGroup, RaterGroup.id == Ballot.rater_group_id)
        .join(Item, Item.id == Answer.item_id)
        .outerjoin(Option, Option.id == Answer.option_id)
        .where(Evaluation.campaign_id == campaign_id)
        .order_by(Ballot.evaluation_id, Ballot.id, Item.position, Answer.seq)
    )


def ballot_csv_chunks(campaign_id: int, batch: int = BALLOT_BATCH) -> Iterator[str]:
    """The raw ballots CSV as text chunks: BOM and header, then one chunk per ``batch`` rows.

    Rows are fetched ``batch`` at a time (never all ballots in memory) and go through
    :func:`analysis.exports.csv_chunks`, so quoting, CRLF and neutralising match the
    results CSV.
    """
    yield next(csv_chunks(pd.DataFrame(columns=BALLOT_COLUMNS)))  # BOM + header
    result = db.session.execute(ballot_rows_query(campaign_id).execution_options(yield_per=batch))
    for rows in result.partitions():
        chunks = csv_chunks(pd.DataFrame([tuple(r) for r in rows], columns=BALLOT_COLUMNS),
                            chunk_rows=batch)
        next(chunks)  # the header, already sent
        yield from chunks


def content_disposition(ascii_name: str, display_name: str) -> str:
    """``attachment`` with an ASCII filename and the display name as RFC 5987 ``filename*``."""
    safe_ascii = _UNSAFE_FILENAME.sub("_", ascii_name.encode("ascii", "replace").decode("ascii"))
    display = _UNSAFE_FILENAME.sub("_", display_name)
    return f"attachment; filename=\"{safe_ascii}\"; filename*=UTF-8''{quote(display, safe='')}"


def _download(body: bytes | Iterable[str], mimetype: str, ascii_name: str, display_name: str) -> Response:
    """A download response; text chunks are streamed (UTF-8) inside the request context."""
    if not isinstance(body, bytes):
        chunks = body
        body = stream_with_context(chunk.encode("utf-8") for chunk in chunks)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(ascii_name, display_name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _campaign_document(campaign_id: int) -> dict:
    """The campaign document for ``?questionnaire=KEY`` (default: most used), or 404."""
    try:
        return campaign_document(campaign_id, request.args.get("questionnaire") or None)
    except ResultsNotFound:
        abort(404)


def _evaluation_document(evaluation_id: int) -> dict:
    """The evaluation document, or 404."""
    try:
        return evaluation_document(evaluation_id)
    except ResultsNotFound:
        abort(404)


def _campaign_names(document: dict, suffix: str) -> tuple[str, str]:
    """(ASCII filename, display filename) for a campaign results file."""
    key = document["questionnaire"] or "none"
    return (f"campaign-{document['campaign_id']}-{key}-results.{suffix}",
            f"{document['campaign']}-{key}-测评结果.{suffix}")


def _evaluation_names(document: dict, suffix: str) -> tuple[str, str]:
    """(ASCII filename, display filename) for an evaluation results file."""
    unit = document["units"][0]["unit"] if document["units"] else ""
    return (f"evaluation-{document['evaluation_id']}-results.{suffix}",
            f"{unit}-测评{document['evaluation_id']}-结果.{suffix}")


@bp.route("/campaigns/<int:campaign_id>/results.csv")
@role_required(Role.ORGANISER, Role.VIEWER)
def campaign_results_csv(campaign_id: int):
    """Campaign results, one row per unit × item (``?questionnaire=KEY``)."""
    document = _campaign_document(campaign_id)
    return _download(results_csv_chunks(document), CSV_MIMETYPE, *_campaign_names(document, "csv"))


@bp.route("/campaigns/<int:campaign_id>/results.xlsx")
@role_required(Role.ORGANISER, Role.VIEWER)
def campaign_results_xlsx(campaign_id: int):
    """Campaign results workbook: units, items and committees sheets."""
    document = _campaign_document(campaign_id)
    return _download(results_workbook(document), XLSX_MIMETYPE, *_campaign_names(document, "xlsx"))


@bp.route("/evaluations/<int:evaluation_id>/results.csv")
@role_required(Role.ORGANISER, Role.VIEWER)
def evaluation_results_csv(evaluation_id: int):
    """One evaluation's results, one row per item."""
    document = _evaluation_document(evaluation_id)
    return _download(results_csv_chunks(document), CSV_MIMETYPE, *_evaluation_names(document, "csv"))


@bp.route("/evaluations/<int:evaluation_id>/results.xlsx")
@role_required(Role.ORGANISER, Role.VIEWER)
def evaluation_results_xlsx(evaluation_id: int):
    """One evaluation's results workbook: unit, items and rater-group sheets."""
    document = _evaluation_document(evaluation_id)
    return _download(results_workbook(document), XLSX_MIMETYPE, *_evaluation_names(document, "xlsx"))


@bp.route("/campaigns/<int:campaign_id>/ballots.csv")
@role_required(Role.ORGANISER)
def campaign_ballots_csv(campaign_id: int):
    """Every answer of every ballot of the campaign, anonymous (organisers only)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return _download(ballot_csv_chunks(campaign_id), CSV_MIMETYPE,
                     f"campaign-{campaign_id}-ballots.csv", f"{campaign.name}-测评票.csv")
