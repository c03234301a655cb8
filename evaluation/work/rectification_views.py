"""Rectification (整改落实, 四明确一承诺): per-unit items, the campaign list, the make-up link.

Organisers and the unit's liaison (their subtree) add, edit and delete items;
viewers read. A make-up unit's page shows its decision and the second round's result
beside the items that answer it, closing the loop.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_date, gettext as _
from flask_login import current_user

from extensions import db
from models import RectificationItem, Role

from evaluation.work import rectification
from evaluation.work.views import bp, campaign_or_404, scope, unit_or_404
from evaluation.results.dashboards import makeup_rounds
from evaluation.days import local_today
from evaluation.accounts.permissions import ALL_ROLES, can_see_unit, role_required
from evaluation.services import ServiceError
from evaluation.work.forms import RectificationForm

EDITORS = (Role.ORGANISER, Role.LIAISON)


def _form(unit, item=None) -> RectificationForm:
    """The item form with the unit's make-up decisions as link choices (default: the newest)."""
    makeups = rectification.unit_makeups(unit.id)
    form = RectificationForm(obj=item)  # a POST fills it from request.form
    form.makeup_id.choices = [(0, _("无"))] + [
        (m.id, _("补课决定 #%(id)s(%(day)s)", id=m.id, day=format_date(m.decided_at.date()))) for m in makeups]
    if item is None and makeups and not form.is_submitted():
        form.makeup_id.data = makeups[0].id
    elif form.makeup_id.data is None:  # no link stored, or the field was not posted (no make-ups)
        form.makeup_id.data = 0
    return form


def _values(form: RectificationForm) -> dict:
    return {field: getattr(form, field).data for field in rectification.FIELDS}


def _unit_page(unit, form, status: int = 200):
    makeups = rectification.unit_makeups(unit.id)
    followups = [m.followup_id for m in makeups if m.followup_id]
    return render_template(
        "work/rectification.html", unit=unit, campaign=unit.campaign, items=rectification.unit_items(unit.id),
        form=form, today=local_today(), is_overdue=rectification.is_overdue, makeups=makeups,
        rounds={r["decision"].id: r for r in makeup_rounds(followups)} if followups else {},
        progress=rectification.makeup_progress([m.id for m in makeups]),
        can_edit=current_user.role in EDITORS), status


@bp.route("/work/units/<int:unit_id>/rectification")
@role_required(*ALL_ROLES)
def rectification_unit(unit_id: int):
    """A unit's items with overdue ones highlighted, and the form for a new item."""
    unit = unit_or_404(unit_id)
    return _unit_page(unit, _form(unit))


@bp.route("/work/units/<int:unit_id>/rectification", methods=["POST"])
@role_required(*EDITORS)
def rectification_create(unit_id: int):
    """Add an item to the unit's rectification plan."""
    unit = unit_or_404(unit_id)
    form = _form(unit)
    if not form.validate_on_submit():
        return _unit_page(unit, form, 400)
    try:
        rectification.save(unit, _values(form), current_user)
    except ServiceError as error:
        form.project.errors.append(str(error))
        return _unit_page(unit, form, 400)
    flash(_("已添加整改项目"), "info")
    return redirect(url_for("work.rectification_unit", unit_id=unit.id))


def _item_or_404(item_id: int) -> RectificationItem:
    item = db.session.get(RectificationItem, item_id)
    if item is None or not can_see_unit(current_user, item.unit_id):
        abort(404)
    return item


@bp.route("/rectification/<int:item_id>")
@role_required(*EDITORS)
def rectification_edit(item_id: int):
    """The edit form of one item."""
    item = _item_or_404(item_id)
    return render_template("work/rectification_edit.html", item=item, unit=item.unit,
                           form=_form(item.unit, item))


@bp.route("/rectification/<int:item_id>", methods=["POST"])
@role_required(*EDITORS)
def rectification_update(item_id: int):
    """Save changes to an item (status done fills in today's date unless one is given)."""
    item = _item_or_404(item_id)
    form = _form(item.unit, item)
    if form.validate_on_submit():
        try:
            rectification.save(item.unit, _values(form), current_user, item)
        except ServiceError as error:
            form.project.errors.append(str(error))
        else:
            flash(_("已保存"), "info")
            return redirect(url_for("work.rectification_unit", unit_id=item.unit_id))
    return render_template("work/rectification_edit.html", item=item, unit=item.unit, form=form), 400


@bp.route("/rectification/<int:item_id>/delete", methods=["POST"])
@role_required(*EDITORS)
def rectification_delete(item_id: int):
    """Delete an item (entered twice or by mistake)."""
    item = _item_or_404(item_id)
    unit_id = item.unit_id
    rectification.delete(item, current_user)
    flash(_("已删除"), "info")
    return redirect(url_for("work.rectification_unit", unit_id=unit_id))


@bp.route("/campaigns/<int:campaign_id>/rectification")
@role_required(*ALL_ROLES)
def rectification_campaign(campaign_id: int):
    """Per unit: items in total, done, overdue and per category."""
    campaign = campaign_or_404(campaign_id)
    return render_template("work/rectification_campaign.html", campaign=campaign,
                           rows=rectification.campaign_rows(campaign_id, scope()))
