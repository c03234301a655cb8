"""The review screens: unsure items (crops and guesses only), a code for an unreadable QR, a missing page.

Registered on the sheets blueprint. The marks screen never shows the code or
the rest of the sheet; the code screen shows only the code's corner of the
page and no answer. Crops are served with ``no-store``.
"""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import ItemKind, Role
from surveys import structure

from evaluation.accounts.permissions import role_required
from evaluation.services import ServiceError
from . import queue, review
from .forms import CodeForm
from .routes import _batch_or_404, bp

OUTCOMES = {
    "stored": _l("这张表已计入"),
    "review": _l("测评码已确认;这张表还有选项待核对,已放回队列"),
    "partial": _l("测评码已确认;这张表还有其余页未读到"),
    "used": _l("拒收:此测评码已使用"),
    "void": _l("拒收:此测评码已作废"),
    "closed": _l("拒收:测评未开启或已结束"),
    "other_evaluation": _l("拒收:不是本测评的测评表"),
    "busy": _l("系统繁忙,未保存任何内容,请稍后重试"),
    "discarded": _l("已放弃这张表,其测评码仍未使用,可重新扫描"),
}


def _record(batch, token: str) -> dict:
    try:
        return review.view(batch, token)
    except queue.BatchMissing:
        abort(404)


def _items(shown: dict) -> list[dict]:
    """The unsure items with their options and the reader's guess, from the questionnaire (not the sheet)."""
    view = structure.questionnaire(shown["questionnaire_id"])
    items = []
    for item in view.items:
        if item.id in shown["items"]:
            items.append({"id": item.id, "text": item.text, "multiple": item.kind is ItemKind.MULTIPLE,
                          "options": item.scale.options, "guess": shown["items"][item.id]})
    return items


def _decided(items: list[dict]) -> dict[int, list[int]]:
    """The operator's answers from the form ("blank" for none); ServiceError for anything not of its item."""
    decided = {}
    for item in items:
        values = request.form.getlist(f"item_{item['id']}")
        if not values:
            raise ServiceError(_("请对每一题作出判断(没有填涂的选“未作答”)"))
        if values == ["blank"]:
            decided[item["id"]] = []
            continue
        valid = {str(o.id) for o in item["options"]}
        if not set(values) <= valid or (not item["multiple"] and len(values) > 1):
            raise ServiceError(_("选项无效:单选题只能选一项"))
        decided[item["id"]] = sorted({int(v) for v in values})
    return decided


@bp.route("/sheets/<batch_id>/review/<token>", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def review_sheet(batch_id: str, token: str):
    """One pending sheet: decide its unsure items, type its code, or discard it."""
    _batch_or_404(batch_id)
    with queue.locked(batch_id) as batch:
        shown = _record(batch, token)
        form = CodeForm() if shown["kind"] == "code" else None
        items = _items(shown) if shown["kind"] == "marks" else []
        error = None
        if request.method == "POST":
            try:
                if request.form.get("discard"):
                    review.discard(batch, token, current_user)
                    outcome = "discarded"
                elif shown["kind"] == "code":
                    outcome = review.enter_code(batch, token, form.code.data or "", current_user) \
                        if form.validate_on_submit() else None
                elif shown["kind"] == "marks":
                    outcome = review.decide_marks(batch, token, _decided(items), current_user)
                else:
                    outcome = None
            except ServiceError as problem:
                error, outcome = str(problem), None
            if outcome:
                flash(str(OUTCOMES[outcome]), "info")
                queue.close_if_done(batch)
                return redirect(url_for(".next_review", batch_id=batch_id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("sheets/review.html", batch_id=batch_id, shown=shown, items=items, form=form,
                           error=error), status


@bp.route("/sheets/<batch_id>/review/<token>/<name>.png")
@role_required(Role.ORGANISER)
def crop(batch_id: str, token: str, name: str):
    """One crop of a pending sheet: an unsure item, or the code's corner (never the whole page)."""
    batch = _batch_or_404(batch_id)
    if name == "page":
        abort(404)  # the straightened page is for the reader only
    try:
        data = queue.crop(batch, token, name)
    except queue.BatchMissing:
        abort(404)
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response
