"""Pages for scanned answer sheets: print, upload, progress (resumable), and the review queue.

Views stay thin: :mod:`.issuing`, :mod:`.queue`, :mod:`.processing` and
:mod:`.review` do the work. Only organisers use them. No page shows a code,
and the review screens show only crops: of the unsure items, or of the code's
corner when the QR could not be read.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from extensions import csrf
from models import Role

from evaluation.campaigns.evaluation_views import evaluation_or_404
from evaluation.accounts.permissions import role_required
from evaluation.services import ServiceError
from . import processing, queue, review
from .forms import PrintForm, UploadForm

bp = Blueprint("sheets", __name__, url_prefix="/admin")
PAGES_PER_STEP = 3  # one step stays well under a second, so the page shows steady progress


def _print_form(evaluation) -> PrintForm:
    form = PrintForm()
    form.group.choices = [(g.name, g.name) for g in evaluation.rater_groups]
    return form


@bp.route("/evaluations/<int:evaluation_id>/sheets", methods=["GET"])
@role_required(Role.ORGANISER)
def sheets(evaluation_id: int):
    """Print sheets for the evaluation, upload scans of them, and see its batches."""
    evaluation = evaluation_or_404(evaluation_id)
    return _page(evaluation, _print_form(evaluation), UploadForm())


def _page(evaluation, print_form, upload_form, status: int = 200):
    # Batches read from the command line without --evaluation may hold any evaluation's sheets: listed too.
    mine = [b for b in queue.batches() if b.evaluation_id in (evaluation.id, None)]
    return render_template("sheets/index.html", evaluation=evaluation, print_form=print_form,
                           upload_form=upload_form, batches=mine, summary=processing.summary), status


@bp.route("/evaluations/<int:evaluation_id>/sheets/print", methods=["POST"])
@role_required(Role.ORGANISER)
def print_sheets(evaluation_id: int):
    """Issue codes and answer with the PDF of their sheets (the codes exist only in it)."""
    from .issuing import print_sheets as issue_and_print

    evaluation = evaluation_or_404(evaluation_id)
    form = _print_form(evaluation)
    if not form.validate_on_submit():
        return _page(evaluation, form, UploadForm(), 400)
    try:
        printed = issue_and_print(evaluation.id, form.group.data, form.count.data, form.paper.data,
                                  user_id=current_user.id)
    except ServiceError as error:
        form.form_errors.append(str(error))
        return _page(evaluation, form, UploadForm(), 400)
    response = Response(printed.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=sheets-{evaluation.id}.pdf"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/evaluations/<int:evaluation_id>/sheets/upload", methods=["POST"])
@csrf.exempt  # checked by UploadForm itself, once the larger upload limit is in place
@role_required(Role.ORGANISER)
def upload(evaluation_id: int):
    """Keep the uploaded scans in a new private batch and go to its progress page."""
    request.max_content_length = current_app.config["SCAN_UPLOAD_MAX"]
    # Werkzeug also refuses a multipart chunk left in its buffer beyond max_form_memory_size, which the
    # app-wide 64 KiB equals: a binary file then fails at random. Fields here are tiny; 1 MiB is ample.
    request.max_form_memory_size = 1024 * 1024
    evaluation = evaluation_or_404(evaluation_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(evaluation, _print_form(evaluation), form, 400)
    batch = queue.create(evaluation.id)
    with queue.locked(batch.id) as batch:
        for upload_file in form.files.data:
            queue.add_file(batch, upload_file.filename or "", upload_file.read())
    return redirect(url_for(".batch", batch_id=batch.id), code=303)


def _batch_or_404(batch_id: str):
    try:
        batch = queue.load(batch_id)
    except queue.BatchMissing:
        abort(404)
    if batch.evaluation_id is not None:
        evaluation_or_404(batch.evaluation_id)
    return batch


def _progress(batch) -> dict:
    done = sum(f["pages"] for f in batch.files[:batch.cursor[0]]) + (batch.cursor[1] if not batch.finished else 0)
    return {"done": min(done, batch.total_pages), "total": batch.total_pages, "finished": batch.finished,
            "pending": len(batch.pending()), "counts": batch.counts, "summary": processing.summary(batch.counts)}


@bp.route("/sheets/<batch_id>")
@role_required(Role.ORGANISER)
def batch(batch_id: str):
    """A batch's progress and summary; reading goes on from here (and resumes when the page is opened again)."""
    found = _batch_or_404(batch_id)
    return render_template("sheets/batch.html", batch=found, progress=_progress(found))


@bp.route("/sheets/<batch_id>/step", methods=["POST"])
@role_required(Role.ORGANISER)
def step(batch_id: str):
    """Read the next few pages; JSON progress for the page's script, a redirect without it."""
    _batch_or_404(batch_id)
    with queue.locked(batch_id) as current:
        processing.step(current, PAGES_PER_STEP)
        processing.audit_finished(current)
        progress = _progress(current)
        gone = queue.close_if_done(current)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(progress | {"gone": gone})
    if gone:
        flash(progress["summary"], "info")
        return redirect(url_for(".sheets", evaluation_id=current.evaluation_id), code=303)
    return redirect(url_for(".batch", batch_id=batch_id), code=303)


@bp.route("/sheets/<batch_id>/review")
@role_required(Role.ORGANISER)
def next_review(batch_id: str):
    """The next sheet to review, picked at random."""
    found = _batch_or_404(batch_id)
    token = review.next_token(found)
    if token is None:
        return redirect(url_for(".batch", batch_id=batch_id), code=303)
    return redirect(url_for(".review_sheet", batch_id=batch_id, token=token), code=303)
