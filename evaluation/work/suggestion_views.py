"""Suggestion moderation (征求意见): the list per campaign and unit, approve/reject, CSV export.

Liaisons see and moderate the suggestions of their own subtree only; a suggestion of
another unit is answered 404, as if it did not exist.
"""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from extensions import db
from ids import db_id
from models import Role, Suggestion, Unit

from evaluation.work import suggestions
from evaluation.work.views import bp, campaign_or_404, scope
from evaluation.accounts.audit import record
from evaluation.listing import read_args
from evaluation.results.exports import content_disposition
from evaluation.accounts.permissions import ALL_ROLES, can_see_unit, role_required
from evaluation.services import ServiceError


def _filters() -> dict:
    """The list's filters from the query string (bad values mean "all")."""
    status = request.args.get("status")
    category = request.args.get("category")
    return {"unit_id": request.args.get("unit", type=db_id),
            "status": status if status in suggestions.STATUSES else None,
            "category": category if category in suggestions.CATEGORIES else None}


@bp.route("/campaigns/<int:campaign_id>/suggestions")
@role_required(*ALL_ROLES)
def suggestions_list(campaign_id: int):
    """Suggestions of the campaign (the user's units), newest day first, searched and paged, with moderation buttons."""
    campaign = campaign_or_404(campaign_id)
    filters = _filters()
    page = suggestions.listing(campaign_id, scope(), read_args(suggestions.SUGGESTION_LIST), **filters)
    # The chosen unit is named on the page only when the reader may see it.
    unit = db.session.get(Unit, filters["unit_id"]) \
        if filters["unit_id"] and can_see_unit(current_user, filters["unit_id"]) else None
    return render_template("work/suggestions.html", campaign=campaign, page=page, filters=filters, unit=unit,
                           counts=suggestions.status_counts(campaign_id, scope(), filters["unit_id"]))


@bp.route("/suggestions/<int:suggestion_id>/moderate", methods=["POST"])
@role_required(Role.ORGANISER, Role.LIAISON)
def suggestion_moderate(suggestion_id: int):
    """Approve or reject one suggestion (or put it back to pending)."""
    item = db.session.get(Suggestion, suggestion_id)
    if item is None or not can_see_unit(current_user, item.unit_id):
        abort(404)
    try:
        suggestions.moderate(item, request.form.get("status", ""), current_user)
    except ServiceError as error:
        flash(str(error), "error")
    # Back to the list as it was filtered ("status" in the form is the new status).
    back = {k: request.form.get(f)[:200] for k, f in (("unit", "unit"), ("status", "status_filter"),
                                                      ("category", "category"), ("q", "q"), ("sort", "sort"),
                                                      ("dir", "dir"), ("page", "page")) if request.form.get(f)}
    return redirect(url_for("work.suggestions_list", campaign_id=item.campaign_id, **back))


@bp.route("/campaigns/<int:campaign_id>/suggestions.csv")
@role_required(*ALL_ROLES)
def suggestions_csv(campaign_id: int):
    """The filtered suggestions as CSV (UTF-8 with BOM, formula cells neutralised), streamed."""
    campaign = campaign_or_404(campaign_id)
    filters = _filters()
    record("export", f"campaign:{campaign_id}", current_user, what="suggestions.csv", **filters)
    db.session.commit()
    chunks = suggestions.export_chunks(campaign_id, scope(), read_args(suggestions.SUGGESTION_LIST), **filters)
    response = Response(stream_with_context(chunk.encode("utf-8") for chunk in chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = content_disposition(
        f"campaign-{campaign_id}-suggestions.csv", _("%(campaign)s-征求意见.csv", campaign=campaign.name))
    response.headers["Cache-Control"] = "no-store"
    return response
