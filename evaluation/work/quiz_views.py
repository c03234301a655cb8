"""Learning tests (学习成果测试): quiz results per unit for organisers.

Two read-only pages: a campaign's learning tests unit by unit (participants, mean
score, pass rate, with a chart) and one unit's test question by question, hardest
first. Liaisons see only their own subtree; the figures come from
:mod:`evaluation.work.quiz`, which scores the stored ballots every time.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from extensions import db
from models import Campaign, Evaluation, Role

from evaluation.accounts.permissions import ALL_ROLES, can_see_campaign, can_see_unit, role_required, visible_unit_ids
from evaluation.work.quiz import KIND_LABELS, campaign_quiz, evaluation_quiz, is_quiz

bp = Blueprint("quiz", __name__, url_prefix="/admin")


@bp.app_template_filter("quiz_score")
def quiz_score(value) -> str:
    """82.25 → '82.3', 80.0 → '80'; missing or undefined (NaN) → '—'."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if number != number:
        return "—"
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text


@bp.route("/campaigns/<int:campaign_id>/quiz")
@role_required(*ALL_ROLES)
def campaign(campaign_id: int):
    """A campaign's learning tests: one row per unit, a pass-rate chart, the hardest questions."""
    item = db.session.get(Campaign, campaign_id)
    if item is None or not can_see_campaign(current_user, campaign_id):
        abort(404)
    liaison = current_user.role is Role.LIAISON
    view = campaign_quiz(campaign_id, visible_unit_ids(current_user), for_liaison=liaison)
    return render_template("quiz/campaign.html", campaign=item, view=view, KIND_LABELS=KIND_LABELS)


@bp.route("/evaluations/<int:evaluation_id>/quiz")
@role_required(*ALL_ROLES)
def evaluation(evaluation_id: int):
    """One unit's learning test: its figures and the share correct of every question."""
    item = db.session.get(Evaluation, evaluation_id)
    if item is None or not can_see_unit(current_user, item.unit_id) or not is_quiz(item):
        abort(404)
    view = evaluation_quiz(item, for_liaison=current_user.role is Role.LIAISON)
    return render_template("quiz/evaluation.html", evaluation=item, campaign=item.campaign, view=view,
                           KIND_LABELS=KIND_LABELS)
