"""Questionnaires: copy from the catalog, edit items and options, preview, versions.

Organisers only. Views parse the request and hand over to
:mod:`evaluation.questionnaires.services` and :mod:`evaluation.questionnaires.edits`;
a frozen questionnaire answers every edit with 409 and the offer of a new
version, an id from another questionnaire with 404, a refused change with 400
and the reason. Nothing is changed by a refused request.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm

from extensions import db
from models import Questionnaire, Role
from surveys.forms import ballot_form_class, field_name

from evaluation.questionnaires import edits, services as service
from evaluation.accounts.permissions import role_required
from evaluation.campaigns.confirm import ask, confirmed
from evaluation.questionnaires.checks import accepted_lines, is_quiz, kinds_for
from evaluation.questionnaires.forms import KIND_LABELS, POLARITY_LABELS, ActionForm, CopyForm, ItemForm, MetaForm, ScaleForm
from evaluation.services import ServiceError

bp = Blueprint("questionnaires", __name__, url_prefix="/admin")
organiser_only = role_required(Role.ORGANISER)
SAVED = _l("已保存")
#: Characters of a question's text quoted on its delete confirmation.
QUESTION_SHOWN = 60


@bp.context_processor
def _labels():
    """Translated labels of item kinds and polarities for this blueprint's templates."""
    return {"KIND_LABELS": KIND_LABELS, "POLARITY_LABELS": POLARITY_LABELS, "accepted_lines": accepted_lines}


@bp.errorhandler(service.FrozenError)
def _frozen(error: service.FrozenError):
    """Every edit of a frozen version lands here: explain, and offer a new version."""
    return _show_page(service.get(error.questionnaire_id), problem=str(error), status=409)


@bp.errorhandler(edits.NotInQuestionnaire)
def _not_here(error: edits.NotInQuestionnaire):
    """An item, scale or option id from another questionnaire (or none): 404 with the reason."""
    return render_template("errors/error.html", code=404, title=_("页面不存在"), message=str(error)), 404


def _load(questionnaire_id: int, edit: bool = False) -> Questionnaire:
    """The questionnaire or 404; for an edit, locked and checked not to be frozen."""
    questionnaire = service.get(questionnaire_id, for_update=edit and request.method == "POST")
    if questionnaire is None:
        abort(404)
    if edit:
        service.ensure_editable(questionnaire)
    return questionnaire


def _show_page(questionnaire: Questionnaire, problem: str | None = None, status: int = 200,
               meta_form: MetaForm | None = None):
    """The questionnaire page (editor or read-only), optionally with a refusal and its status."""
    frozen = service.is_frozen(questionnaire)
    return render_template(
        "questionnaires/show.html", q=questionnaire, frozen=frozen, problem=problem, quiz=is_quiz(questionnaire),
        meta_form=meta_form or MetaForm(formdata=None, obj=questionnaire), action_form=ActionForm(formdata=None),
        scales=service.scales_of(questionnaire), evaluations=service.evaluation_count(questionnaire),
        draft=service.later_draft(questionnaire) if frozen else None,
    ), status


@bp.route("/questionnaires")
@organiser_only
def index():
    """Every questionnaire and version, with its use."""
    return render_template("questionnaires/list.html", rows=service.questionnaire_rows())


@bp.route("/questionnaires/catalog", methods=["POST"])
@organiser_only
def load_builtin():
    """Load the built-in questionnaires the database lacks (what ``flask --app app init-db`` also does)."""
    if not FlaskForm().validate_on_submit():  # the CSRF token only
        abort(400)
    from surveys.catalog import load_catalog

    from evaluation.accounts import audit

    added = load_catalog()
    if added:
        audit.record("questionnaires_loaded", count=len(added))
        db.session.commit()
    flash(_("已载入 %(n)s 个内置测评表", n=len(added)), "success")
    return redirect(url_for(".index"), code=303)


@bp.route("/questionnaires/<int:questionnaire_id>")
@organiser_only
def show(questionnaire_id: int):
    """One version: editor when editable, read-only (with "new version") when frozen."""
    return _show_page(_load(questionnaire_id))


@bp.route("/questionnaires/<int:questionnaire_id>/copy", methods=["GET", "POST"])
@organiser_only
def copy(questionnaire_id: int):
    """Copy to a new key, version 1, with private copies of its scales."""
    source = _load(questionnaire_id)
    form = CopyForm()
    if form.validate_on_submit():
        try:
            created = service.copy_questionnaire(source, form.key.data, form.title.data)
        except ServiceError as error:
            form.key.errors.append(str(error))
        else:
            flash(_("已复制为 %(key)s 第 1 版", key=created.key), "success")
            return redirect(url_for(".show", questionnaire_id=created.id))
    return render_template("questionnaires/copy.html", q=source, form=form), (400 if form.errors else 200)


@bp.route("/questionnaires/<int:questionnaire_id>/new-version", methods=["POST"])
@organiser_only
def new_version(questionnaire_id: int):
    """Copy a frozen version to the same key, version + 1; existing evaluations keep theirs."""
    source = _load(questionnaire_id)
    try:
        created = service.new_version(source)
    except ServiceError as error:
        return _show_page(source, problem=str(error), status=400)
    flash(_("已建立第 %(n)s 版,新建的测评将使用它。", n=created.version), "success")
    return redirect(url_for(".show", questionnaire_id=created.id))


@bp.route("/questionnaires/<int:questionnaire_id>/meta", methods=["POST"])
@organiser_only
def meta(questionnaire_id: int):
    """Save the title and introduction."""
    questionnaire = _load(questionnaire_id, edit=True)
    form = MetaForm()
    if not form.validate():
        return _show_page(questionnaire, problem=_first_error(form), status=400, meta_form=form)
    try:
        service.update_meta(questionnaire, form.title.data, form.intro.data, form.pass_mark.data)
    except ServiceError as error:
        return _show_page(questionnaire, problem=str(error), status=400, meta_form=form)
    flash(str(SAVED), "success")
    return redirect(url_for(".show", questionnaire_id=questionnaire_id))


@bp.route("/questionnaires/<int:questionnaire_id>/items", methods=["POST"])
@organiser_only
def item_action(questionnaire_id: int):
    """Move an item up or down, or delete it (the button's ``action``).

    Deleting asks first on its own page, naming the question's position and text, and acts only
    on a confirmation of that position (a question moved meanwhile makes the page ask again).
    """
    questionnaire = _load(questionnaire_id, edit=True)
    form = ActionForm()
    if not form.validate():
        return _show_page(questionnaire, problem=_first_error(form), status=400)
    try:
        doomed = edits.item_to_delete(questionnaire, form.action.data)
        if doomed is not None and len(questionnaire.items) > 1 and not confirmed(doomed.position):
            return _ask_delete(questionnaire, doomed)
        verb = edits.item_action(questionnaire, form.action.data)
    except edits.NotInQuestionnaire:
        raise
    except ServiceError as error:
        return _show_page(questionnaire, problem=str(error), status=400)
    flash(_("已删除题目") if verb == "delete" else _("已调整顺序"), "success")
    return redirect(url_for(".show", questionnaire_id=questionnaire_id))


def _ask_delete(questionnaire: Questionnaire, item):
    """The confirmation page for deleting ``item``: its position and (the start of) its text."""
    text = item.text if len(item.text) <= QUESTION_SHOWN else item.text[:QUESTION_SHOWN] + "……"
    return ask(_("删除第 %(n)s 题“%(text)s”?删除后不能恢复。", n=item.position, text=text),
               _("删除第 %(n)s 题", n=item.position), url_for(".show", questionnaire_id=questionnaire.id),
               item.position, changed_note=_("题目顺序已变化,请按下面的新题号重新确认。"))


@bp.route("/questionnaires/<int:questionnaire_id>/items/new", methods=["GET", "POST"])
@bp.route("/questionnaires/<int:questionnaire_id>/items/<int:item_id>", methods=["GET", "POST"])
@organiser_only
def item(questionnaire_id: int, item_id: int | None = None):
    """Add an item, or edit one: text, kind, required, scale and, in a learning test, points and answers."""
    questionnaire = _load(questionnaire_id, edit=True)
    existing = edits.item_of(questionnaire, item_id) if item_id is not None else None
    scales = service.scales_of(questionnaire)
    if request.method == "POST":
        form = ItemForm()
    elif existing is not None:
        form = ItemForm(formdata=None, data={
            "text": existing.text, "kind": existing.kind.value, "required": existing.required,
            "scale": str(existing.scale_id or edits.NEW_SCALE), "points": existing.points,
            "accepted": accepted_lines(existing)})
    else:
        form = ItemForm(formdata=None, data={"kind": kinds_for(questionnaire)[0].value, "required": True,
                                             "scale": str(scales[0][0].id) if scales else edits.NEW_SCALE})
    form.configure(questionnaire, scales)
    if form.validate_on_submit():
        try:
            if existing is None:
                edits.add_item(questionnaire, form.spec())
            else:
                edits.edit_item(questionnaire, existing, form.spec())
        except ServiceError as error:
            form.form_errors.append(str(error))
        else:
            flash(str(SAVED), "success")
            return redirect(url_for(".show", questionnaire_id=questionnaire_id))
    return render_template("questionnaires/item.html", q=questionnaire, item=existing, form=form,
                           quiz=is_quiz(questionnaire)), (400 if form.errors else 200)


@bp.route("/questionnaires/<int:questionnaire_id>/scales/<int:scale_id>", methods=["GET", "POST"])
@organiser_only
def scale(questionnaire_id: int, scale_id: int):
    """Edit one scale's options (label, score, polarity; add, remove, reorder), for all items using it."""
    questionnaire = _load(questionnaire_id, edit=True)
    found, items = edits.scale_of(questionnaire, scale_id)
    if request.method == "GET":
        form = ScaleForm(formdata=None, data={"name": found.name, "options": [
            {"id": o.id, "label": o.label, "score": o.score, "polarity": o.polarity.value, "correct": o.correct}
            for o in found.options]})
        return render_template("questionnaires/scale.html", q=questionnaire, scale=found, items=items, form=form,
                               quiz=is_quiz(questionnaire))
    form = ScaleForm()
    problem = None
    if not form.validate():
        problem = _first_error(form)
    else:
        try:
            edits.update_scale(questionnaire, found, form.name.data, form.rows(), form.action.data or "save")
        except ServiceError as error:
            problem = str(error)
        else:
            flash(str(SAVED), "success")
            return redirect(url_for(".scale", questionnaire_id=questionnaire_id, scale_id=scale_id))
    return render_template("questionnaires/scale.html", q=questionnaire, scale=found, items=items, form=form,
                           quiz=is_quiz(questionnaire), problem=problem), 400


@bp.route("/questionnaires/<int:questionnaire_id>/preview")
@organiser_only
def preview(questionnaire_id: int):
    """The questionnaire exactly as a rater sees it (the rater's template), but it cannot be submitted."""
    questionnaire = _load(questionnaire_id)
    form = ballot_form_class(questionnaire, current_app.config["TEXT_ANSWER_MAX"])(formdata=None)
    return render_template("surveys/ballot.html", preview=True, questionnaire=questionnaire, form=form,
                           items=list(questionnaire.items), field_name=field_name, evaluation=None, group=None,
                           code=None, back=url_for(".show", questionnaire_id=questionnaire_id))


def _first_error(form) -> str:
    """One readable message from a form that failed validation (nested lists included)."""
    def walk(errors):
        if isinstance(errors, dict):
            for value in errors.values():
                yield from walk(value)
        elif isinstance(errors, (list, tuple)):
            for value in errors:
                yield from walk(value)
        elif errors:
            yield str(errors)

    return next(walk(form.errors), _("提交的内容无效。"))
