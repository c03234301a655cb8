"""Organiser pages: campaigns and their evaluations. Views stay thin; queries live in services."""
from __future__ import annotations

from flask import abort, render_template
from flask_login import login_required

from extensions import db
from models import Campaign

from . import bp
from .services import campaigns, evaluation_rows


@bp.route("/")
@login_required
def home():
    """The list of campaigns."""
    return render_template("evaluation/home.html", campaigns=campaigns())


@bp.route("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int):
    """One campaign: its evaluations with status, codes issued and ballots received."""
    item = db.session.get(Campaign, campaign_id)
    if item is None:
        abort(404)
    rows = evaluation_rows(campaign_id)
    totals = {"ballots": sum(r["ballots"] for r in rows), "codes": sum(r["codes"] for r in rows)}
    return render_template("evaluation/campaign.html", campaign=item, rows=rows, totals=totals)
