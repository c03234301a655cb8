"""Units (单位) and rater groups (测评主体): import, edit, move, deactivate, weights.

Organisers only. Views parse the request and call :mod:`evaluation.campaigns.units`,
:mod:`evaluation.campaigns.importing` and :mod:`evaluation.campaigns.groups`; a refused change
comes back as a :class:`ServiceError` shown on the page.
"""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from extensions import csrf, db
from ids import db_id
from models import Campaign, RaterGroup, Role, Unit, UnitKind

from evaluation.campaigns import import_store
from evaluation.campaigns.groups import add_group, group_rows, update_group
from evaluation.accounts.permissions import role_required
from evaluation.services import ServiceError, campaigns
from evaluation.campaigns.confirm import ask, confirmed
from evaluation.campaigns.units import (KIND_LABELS, create_campaign, deactivation_count, edit_unit, move_unit,
                                        parent_choices, set_active)
from evaluation.campaigns.forms import CampaignForm, GroupForm, ImportForm, MoveForm, UnitForm
from evaluation.campaigns.importing import UnitSheetError, apply_import, check_rows, parse_upload
from evaluation.campaigns.unit_list import TREE, UNIT_LIST, export_table, unit_filters, unit_page, unit_rows, unit_totals
from evaluation.list_exports import download
from evaluation.listing import read_args

bp = Blueprint("units", __name__, url_prefix="/admin")

IMPORT_KIND = "units"


@bp.context_processor
def _labels() -> dict:
    return {"KIND_LABELS": KIND_LABELS}


def _chosen_campaign() -> Optional[Campaign]:
    """The campaign of ``?campaign=ID`` (404 if unknown), else the newest, else None."""
    campaign_id = request.args.get("campaign", type=db_id)
    if campaign_id is None and request.args.get("campaign", "").strip().isdigit():
        abort(404)  # a number no campaign can have (0, or past the id column)
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            abort(404)
        return campaign
    newest = campaigns()
    return newest[0] if newest else None


def _unit_or_404(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    return unit


def _list_page(campaign: Optional[Campaign], import_form=None, campaign_form=None, status: int = 200):
    filters = unit_filters(request.args)
    page, tree = unit_page(campaign.id, filters, read_args(UNIT_LIST)) if campaign else (None, {})
    return render_template(
        "units/list.html", campaign=campaign, campaigns=campaigns(), page=page, filters=filters, tree=tree, TREE=TREE,
        totals=unit_totals(campaign.id) if campaign else None,
        import_form=import_form or ImportForm(), campaign_form=campaign_form or CampaignForm(formdata=None),
    ), status


@bp.route("/units")
@role_required(Role.ORGANISER)
def units():
    """The unit tree of a campaign (``?campaign=ID``, default the newest), the import form."""
    return _list_page(_chosen_campaign())


@bp.route("/units/export.<fmt>")
@role_required(Role.ORGANISER)
def units_export(fmt: str):
    """The units list as CSV or XLSX, with the page's search, filters and order (all pages)."""
    campaign = _chosen_campaign()
    if campaign is None:
        abort(404)
    rows = unit_rows(campaign.id, unit_filters(request.args), read_args(UNIT_LIST))
    header, cells = export_table(rows)
    return download(fmt, _("单位"), header, cells, f"campaign-{campaign.id}-units",
                    _("%(campaign)s-单位", campaign=campaign.name), f"campaign:{campaign.id}")


@bp.route("/units/campaigns", methods=["POST"])
@role_required(Role.ORGANISER)
def new_campaign():
    """Create a campaign (name, dates) and go to its units page."""
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            campaign = create_campaign(form.name.data, form.starts_on.data, form.ends_on.data)
        except ServiceError as error:
            form.name.errors.append(str(error))
        else:
            flash(_("已建立活动“%(name)s”", name=campaign.name), "info")
            return redirect(url_for("units.units", campaign=campaign.id))
    return _list_page(_chosen_campaign(), campaign_form=form, status=400)


@bp.route("/units/import", methods=["POST"])
@csrf.exempt  # checked by ImportForm itself, after the larger upload limit below is in place
@role_required(Role.ORGANISER)
def import_upload():
    """Read an uploaded sheet, keep its rows server-side and show the preview."""
    # The app-wide 64 KiB limit would refuse a workbook; only this route allows UPLOAD_MAX.
    request.max_content_length = current_app.config["UPLOAD_MAX"]
    campaign = _chosen_campaign()
    if campaign is None:
        abort(404)
    form = ImportForm()
    if not form.validate_on_submit():
        return _list_page(campaign, import_form=form, status=400)
    upload = form.file.data
    try:
        rows = parse_upload(upload.read())
    except UnitSheetError as error:
        form.file.errors.append(str(error))
        return _list_page(campaign, import_form=form, status=400)
    token = import_store.save(IMPORT_KIND, current_user.id, {
        "campaign_id": campaign.id, "filename": (upload.filename or "")[:100], "rows": rows})
    return redirect(url_for("units.import_preview", token=token))


def _pending(token: str) -> dict:
    payload = import_store.load(IMPORT_KIND, current_user.id, token)
    if payload is None:
        abort(404)
    return payload


@bp.route("/units/import/<token>")
@role_required(Role.ORGANISER)
def import_preview(token: str):
    """Every row of the upload with its errors; the import button only when there are none."""
    payload = _pending(token)
    campaign = db.session.get(Campaign, payload["campaign_id"])
    if campaign is None:
        abort(404)
    preview = check_rows(campaign.id, payload["rows"])
    return render_template("units/preview.html", campaign=campaign, preview=preview, token=token,
                           filename=payload["filename"])


@bp.route("/units/import/<token>", methods=["POST"])
@role_required(Role.ORGANISER)
def import_confirm(token: str):
    """Import every new row in one transaction (checked again first), or nothing."""
    payload = _pending(token)
    try:
        summary = apply_import(payload["campaign_id"], payload["rows"], payload["filename"])
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("units.import_preview", token=token))
    import_store.discard(token)
    flash(_("已导入 %(created)s 个单位,%(unchanged)s 个已存在未变", created=summary.created,
            unchanged=summary.unchanged), "info")
    return redirect(url_for("units.units", campaign=payload["campaign_id"]))


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def edit(unit_id: int):
    """Edit a unit's name, kind and members; move it; deactivate or reactivate it."""
    unit = _unit_or_404(unit_id)
    form = UnitForm(obj=None if request.method == "POST" else unit)
    if request.method == "GET":
        form.kind.data = unit.kind.value
    if form.validate_on_submit():
        try:
            edit_unit(unit.id, form.name.data, UnitKind(form.kind.data), form.members.data)
        except ServiceError as error:
            form.kind.errors.append(str(error))
        else:
            flash(_("已保存"), "info")
            return redirect(url_for("units.units", campaign=unit.campaign_id))
    move_form = MoveForm(formdata=None, parent=unit.parent_id or 0)
    move_form.parent.choices = [(0, _("(无上级,位于顶层)"))] + parent_choices(unit)
    return render_template("units/edit.html", unit=unit, form=form, move_form=move_form), \
        (400 if form.errors else 200)


@bp.route("/units/<int:unit_id>/move", methods=["POST"])
@role_required(Role.ORGANISER)
def move(unit_id: int):
    """Hang a unit under another parent (0 or empty: the top)."""
    unit = _unit_or_404(unit_id)
    parent_id = request.form.get("parent", type=db_id)
    if parent_id is None and request.form.get("parent", "").strip() not in ("", "0"):
        # A forged parent must not read as "the top" and move the unit there.
        flash(_("上级单位不存在"), "error")
        return redirect(url_for("units.edit", unit_id=unit.id))
    try:
        move_unit(unit.id, parent_id)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("units.edit", unit_id=unit.id))
    flash(_("已移动"), "info")
    return redirect(url_for("units.units", campaign=unit.campaign_id))


@bp.route("/units/<int:unit_id>/active", methods=["POST"])
@role_required(Role.ORGANISER)
def active(unit_id: int):
    """Deactivate a unit with its subtree (``active=0``) or reactivate it (``active=1``).

    Deactivating asks first, on its own page, how many units it will change; it acts only on a
    confirmation of that same count (a unit added or changed meanwhile makes the page ask again).
    """
    unit = _unit_or_404(unit_id)
    wanted = request.form.get("active") == "1"
    n = 0 if wanted else deactivation_count(unit.id)
    if n and not confirmed(n):
        return _ask_deactivate(unit, n)
    try:
        changed = set_active(unit.id, wanted)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(ngettext("已启用 %(num)s 个单位", "已启用 %(num)s 个单位", changed) if wanted
              else ngettext("已停用 %(num)s 个单位", "已停用 %(num)s 个单位", changed), "info")
    return redirect(url_for("units.units", campaign=unit.campaign_id))


def _ask_deactivate(unit: Unit, n: int):
    """The confirmation page for deactivating ``unit`` and the ``n - 1`` active units below it."""
    if n > 1:
        question = _("停用%(unit)s及其 %(below)s 个下级单位(共 %(n)s 个)?已有测评和测评票不会删除。",
                     unit=unit.name, below=n - 1, n=n)
    else:
        question = _("停用%(unit)s?已有测评和测评票不会删除。", unit=unit.name)
    return ask(question, ngettext("停用 %(num)s 个单位", "停用 %(num)s 个单位", n),
               url_for("units.units", campaign=unit.campaign_id), n)


@bp.route("/groups")
@role_required(Role.ORGANISER)
def groups():
    """The rater groups of a campaign with their weights, an add form and one edit form per group."""
    campaign = _chosen_campaign()
    return render_template("units/groups.html", campaign=campaign, campaigns=campaigns(),
                           rows=group_rows(campaign.id) if campaign else [], form=GroupForm(formdata=None))


@bp.route("/groups", methods=["POST"])
@role_required(Role.ORGANISER)
def group_add():
    """Add a rater group to ``?campaign=ID``."""
    campaign = _chosen_campaign()
    if campaign is None:
        abort(404)
    form = GroupForm()
    if form.validate_on_submit():
        try:
            add_group(campaign.id, form.name.data, form.weight.data)
        except ServiceError as error:
            flash(str(error), "error")
        else:
            flash(_("已添加测评主体"), "info")
    else:
        flash("; ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("units.groups", campaign=campaign.id))


@bp.route("/groups/<int:group_id>", methods=["POST"])
@role_required(Role.ORGANISER)
def group_update(group_id: int):
    """Rename a rater group and set or clear its weight."""
    group = db.session.get(RaterGroup, group_id)
    if group is None:
        abort(404)
    form = GroupForm()
    if form.validate_on_submit():
        try:
            update_group(group.id, form.name.data, form.weight.data)
        except ServiceError as error:
            flash(str(error), "error")
        else:
            flash(_("已保存"), "info")
    else:
        flash("; ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("units.groups", campaign=group.campaign_id))
