"""Public pages that need no code: suggestion forms and rectification commitments per unit.

``/s/<unit_id>`` is the 征求意见 form (我为科学发展献一策), open to anyone, CSRF-protected
and rate limited per address; a suggestion keeps its day only — no address, no time.
``/c/<unit_id>`` lists the unit's public rectification commitments (四明确一承诺), read
only. Unknown or inactive units get the 404 page. The analysis report under review
is shown to raters on the ballot page through :func:`ballot_report`.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for

from evaluation.work import rectification, reports, suggestions
from evaluation.days import local_today
from evaluation.services import ServiceError
from extensions import limiter

from .public_forms import SuggestionForm

bp = Blueprint("public", __name__)

#: Suggestions one address may send (config ``SUGGESTION_LIMIT`` overrides).
DEFAULT_LIMIT = "5 per hour"


def suggestion_limit() -> str:
    """Flask-Limiter limit string for posting suggestions, per address."""
    return current_app.config.get("SUGGESTION_LIMIT") or DEFAULT_LIMIT


def _unit_or_404(unit_id: int):
    unit = suggestions.public_unit(unit_id)
    if unit is None:
        abort(404)
    return unit


@bp.route("/s/<int:unit_id>", methods=["GET", "POST"])
@limiter.limit(suggestion_limit, methods=["POST"])
def suggest(unit_id: int):
    """The suggestion form of a unit (GET) or store one suggestion (POST)."""
    unit = _unit_or_404(unit_id)
    form = SuggestionForm()
    if form.validate_on_submit():
        try:
            suggestions.submit(unit, form.category.data, form.text.data)
        except ServiceError as error:
            form.text.errors.append(str(error))
        else:
            return redirect(url_for("public.suggest_thanks", unit_id=unit.id))
    status = 400 if form.errors else 200
    return render_template("public/suggest.html", unit=unit, form=form, text_max=suggestions.TEXT_MAX), status


@bp.route("/s/<int:unit_id>/thanks")
def suggest_thanks(unit_id: int):
    """Shown after a suggestion is stored; nothing about the sender is kept."""
    return render_template("public/suggest_thanks.html", unit=_unit_or_404(unit_id))


@bp.route("/c/<int:unit_id>")
def commitments(unit_id: int):
    """The unit's rectification items and public commitments, overdue ones highlighted."""
    unit = _unit_or_404(unit_id)
    return render_template("public/commitments.html", unit=unit, items=rectification.unit_items(unit.id),
                           today=local_today(), is_overdue=rectification.is_overdue,
                           categories=rectification.CATEGORIES, statuses=rectification.STATUSES)


@bp.app_template_global()
def ballot_report(evaluation):
    """The analysis report a review evaluation is about (for the ballot page), or None."""
    if evaluation is None or getattr(evaluation, "id", None) is None:
        return None
    if getattr(evaluation, "has_report", True) is False:  # the rater flow's lookup already knows
        return None
    return reports.for_evaluation(evaluation.id)
