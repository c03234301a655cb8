"""Flask-WTF forms built from a questionnaire, plus the strict checks WTForms leaves out.

WTForms validates the fields it knows and silently ignores the rest; a ballot
must instead refuse anything it did not ask for (unknown items, repeated
single answers), so :func:`unexpected_fields` checks the raw form too.
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.validators import Optional as OptionalValidator
from wtforms.widgets import CheckboxInput, ListWidget

from models import Item, ItemKind, Questionnaire

REQUIRED_MSG = _l("此题为必答题,请作出选择")
FILL_REQUIRED_MSG = _l("此题为必答题,请填写答案")
INVALID_CHOICE_MSG = _l("所选选项无效")
TEXT_TOO_LONG_MSG = _l("内容过长,最多 %(max)d 个字")
CONTROL_CHARS_MSG = _l("含有无法保存的控制字符")
#: C0 control characters other than tab, newline and carriage return (PostgreSQL refuses NUL in text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Longest fill-in answer (填空题) of a learning test; accepted answers are a few words.
FILL_MAX = 200


#: The hidden field that marks a posted questionnaire as a ballot (without it, a POST to /v opens the questionnaire).
BALLOT_MARK = "ballot"
#: Added to the code box by static/js/code-link.js: the browser runs scripts, so the questionnaire can
#: answer the POST itself and static/js/no-repost.js turns its history entry into a GET (one request fewer).
SCRIPTED_MARK = "scripted"
#: Fields of the ballot form that are not answers: its CSRF token, the code it redeems and the mark.
_NOT_ANSWERS = {"csrf_token", "code", BALLOT_MARK}


class CodeEntryForm(FlaskForm):
    """The box on ``/`` and ``/v`` where a rater types (or a slip's link fills in) the code."""

    class Meta:
        # Sending a code only opens its questionnaire (what a link did before codes left the URL);
        # the ballot form that follows carries the token that protects the submission.
        csrf = False

    code = StringField(_l("您的测评码"), validators=[
        InputRequired(_l("请输入测评码")), Length(max=64, message=_l("测评码格式不正确:应为 12 位字母和数字"))])


class MultiCheckboxField(SelectMultipleField):
    """A multiple-choice item rendered as checkboxes (usable without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def field_name(item: Item) -> str:
    """The form field name of an item: stable, numeric, never user text."""
    return f"item_{item.id}"


def _choices(item: Item) -> list[SelectChoice]:
    # SelectChoice, not (value, label) tuples: WTForms 3.3 deprecates tuples and checks every field's
    # choices for them on each request (a warning filter lookup per field), and 3.4 drops them.
    return [SelectChoice(option.id, option.label) for option in item.scale.options] if item.scale else []


def _printable(form, field) -> None:  # noqa: ARG001  (WTForms validator signature)
    """Refuse typed answers with control characters: they would fail to store (a 503 that never clears)."""
    if isinstance(field.data, str) and _CONTROL.search(field.data):
        raise ValidationError(CONTROL_CHARS_MSG)


def _field_for(item: Item, text_max: int):
    """One WTForms field for one questionnaire item."""
    presence = InputRequired(REQUIRED_MSG) if item.required else OptionalValidator()
    label = f"{item.position}. {item.text}"
    if item.kind is ItemKind.TEXT:
        return TextAreaField(label, validators=[presence, Length(max=text_max, message=TEXT_TOO_LONG_MSG),
                                                _printable])
    if item.kind is ItemKind.FILL:  # a one-line answer; the accepted answers never reach the page
        # DataRequired, not InputRequired: an answer of blanks only is no answer.
        filled = DataRequired(FILL_REQUIRED_MSG) if item.required else OptionalValidator()
        return StringField(label, validators=[filled, Length(max=FILL_MAX, message=TEXT_TOO_LONG_MSG), _printable])
    if item.kind is ItemKind.MULTIPLE:
        return MultiCheckboxField(label, validators=[presence], choices=_choices(item), coerce=int,
                                  invalid_choice_message=INVALID_CHOICE_MSG)
    return RadioField(label, validators=[presence], choices=_choices(item), coerce=int,
                      invalid_choice_message=INVALID_CHOICE_MSG)


class _NoTokenMeta:
    """Form options of the rater's ballot form: its view checks the CSRF token itself (``csrf.protect()``)."""

    csrf = False


def ballot_form_class(questionnaire: Questionnaire, text_max: int, csrf: bool = True) -> type[FlaskForm]:
    """A FlaskForm subclass with one field per item, named ``item_<id>``.

    ``csrf=False`` for the rater's form only: ``/v`` runs Flask-WTF's ``csrf.protect()``
    on every ballot before the form is built (it must tell an expired token from a used
    code), so a token field would check the same token a second time and sign a new one
    for nothing. Organiser forms built from a questionnaire (paper entry) keep the field.
    """
    attrs = {field_name(item): _field_for(item, text_max) for item in questionnaire.items}
    if not csrf:
        attrs["Meta"] = _NoTokenMeta
    return type("BallotForm", (FlaskForm,), attrs)


def unexpected_fields(form_data: MultiDict, items: Iterable[Item]) -> Optional[str]:
    """Describe the first field a ballot did not ask for, or a repeated single answer.

    Returns None when the raw form is acceptable.
    """
    by_name = {field_name(item): item for item in items}
    for name in form_data.keys():
        if name in _NOT_ANSWERS:
            continue
        item = by_name.get(name)
        if item is None:
            return _("表单中含有本测评表以外的内容")
        if item.kind is not ItemKind.MULTIPLE and len(form_data.getlist(name)) > 1:
            return _("同一题提交了多个答案")
    return None


def answers_from_form(form: FlaskForm, items: Iterable[Item]) -> list[tuple[int, int, Optional[int], Optional[str]]]:
    """Flatten a validated form into ``(item_id, seq, option_id, text)`` rows to store."""
    rows: list[tuple[int, int, Optional[int], Optional[str]]] = []
    for item in items:
        data = form[field_name(item)].data
        if item.kind in (ItemKind.TEXT, ItemKind.FILL):
            text = (data or "").strip()
            if text:
                rows.append((item.id, 0, None, text))
        elif item.kind is ItemKind.MULTIPLE:
            for seq, option_id in enumerate(sorted(set(data or []))):
                rows.append((item.id, seq, option_id, None))
        elif data is not None:
            rows.append((item.id, 0, data, None))
    return rows
