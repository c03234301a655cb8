"""Frozen questionnaires as immutable snapshots, read once per process.

A questionnaire is frozen once an evaluation using it opens, and a frozen one
never changes again: every edit is refused (evaluation/questionnaires/services.py) and a
change becomes a new version with a new id; its scales are its own
(questionnaire_edits refuses to edit a shared one). So its items, scales and
options — and the ballot form class and the unfilled questionnaire's HTML built
from them — can be made once per process and reused for every ballot. Nothing
in here is anything another server could need, so app servers stay stateless;
the store lives on the app (``app.extensions``), so a new app — a test's fresh
database — starts empty. A questionnaire that is not frozen (a draft being
previewed) is read afresh every time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from extensions import db
from models import Item, ItemKind, Questionnaire, Scale


@dataclass(frozen=True)
class OptionView:
    """One option of a scale: what the form needs (id and label)."""

    id: int
    label: str


@dataclass(frozen=True)
class ScaleView:
    """A scale's options in their order."""

    id: int
    options: tuple[OptionView, ...]


@dataclass(frozen=True)
class ItemView:
    """One item with the attributes the form, its checks and the template read from an ``Item``."""

    id: int
    position: int
    kind: ItemKind
    text: str
    required: bool
    scale: Optional[ScaleView]


@dataclass(frozen=True)
class QuestionnaireView:
    """A questionnaire's title, intro and items in order."""

    id: int
    title: str
    intro: str
    frozen: bool
    items: tuple[ItemView, ...]
    quiz: bool = False        # a learning test: "提交答卷", and the taker sees their score
    pass_mark: float = 80.0


def _store() -> dict:
    return current_app.extensions.setdefault("ceping_frozen", {})


def _load(questionnaire_id: int) -> QuestionnaireView:
    """Read a questionnaire with its items, scales and options (three queries, once)."""
    q = db.session.get(Questionnaire, questionnaire_id, options=[
        selectinload(Questionnaire.items).selectinload(Item.scale).selectinload(Scale.options)])
    items = tuple(
        ItemView(item.id, item.position, item.kind, item.text, item.required,
                 ScaleView(item.scale.id, tuple(OptionView(o.id, o.label) for o in item.scale.options))
                 if item.scale is not None else None)
        for item in q.items)
    return QuestionnaireView(q.id, q.title, q.intro or "", bool(q.frozen), items, q.kind == "quiz",
                             float(q.pass_mark if q.pass_mark is not None else 80.0))


def questionnaire(questionnaire_id: int) -> QuestionnaireView:
    """The questionnaire's snapshot: from this process's store when frozen, else read now."""
    view = _store().get(("q", questionnaire_id))
    if view is None:
        view = _load(questionnaire_id)
        if view.frozen:
            _store()[("q", questionnaire_id)] = view
    return view


def form_class(view: QuestionnaireView, text_max: int) -> type:
    """The ballot form class of a questionnaire, built once per frozen questionnaire.

    A WTForms class holds only unbound field definitions; every request binds
    its own instance, so sharing the class shares no answers. The form has no
    CSRF field: ``/v`` checks the ballot's token itself (surveys/routes.py).
    """
    from .forms import ballot_form_class

    if not view.frozen:
        return ballot_form_class(view, text_max, csrf=False)
    key = ("form", view.id, text_max)
    cls = _store().get(key)
    if cls is None:
        cls = _store()[key] = ballot_form_class(view, text_max, csrf=False)
    return cls


def items_html(view: QuestionnaireView, form_class: type, field_name) -> Optional[Markup]:
    """The unfilled items of a frozen questionnaire, rendered once per language; None otherwise.

    For a questionnaire opened with no answers and no errors (a code posted to ``/v``): the
    fragment is then the same for every rater of the questionnaire, so the form's fields are
    bound (``form_class``) and rendered only the first time. The CSRF token and anything about
    the unit or rater group are outside this fragment.
    """
    if not view.frozen:
        return None
    key = ("html", view.id, str(get_locale()))
    html = _store().get(key)
    if html is None:
        html = _store()[key] = Markup(render_template("surveys/_items.html", form=form_class(formdata=None),
                                                      items=view.items, field_name=field_name))
    return html
