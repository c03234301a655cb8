"""Forms of the evaluation-management pages: bulk create, open/close and rules, issuing codes.

Every label and message is translatable (Chinese by default); number fields say what they
expected instead of WTForms' defaults. Choices are filled in by the
view from the campaign (groups, committees, questionnaires).
"""
from __future__ import annotations

import secrets

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateTimeLocalField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

#: What ``<input type="datetime-local">`` sends (seconds only when the browser adds them).
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


INVALID_CHOICE = _l("所选项无效,请重新选择")


class ChoiceField(SelectField):
    """SelectField whose invalid-choice message is translatable."""

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(INVALID_CHOICE) from None


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as checkboxes (works without JavaScript), with translatable errors."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(INVALID_CHOICE) from None

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(INVALID_CHOICE) from None


class WholeNumberField(IntegerField):
    """IntegerField with a translatable message for input that is not a whole number."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("请输入整数")) from None


class PercentField(StringField):
    """A rate typed as ``0.6``, ``60`` or ``60%``; ``data`` is the fraction (0.6) or None when blank."""

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip().rstrip("%\uff05").strip()
        if not raw:
            self.data = None
            return
        try:
            value = float(raw)
        except ValueError:
            self.data = None
            raise ValueError(_("请输入百分比,例如 60 或 0.6")) from None
        self.data = value / 100 if value > 1 else value

    def _value(self):
        return "" if self.data is None else f"{self.data * 100:g}"


class LocalDateTimeField(DateTimeLocalField):
    """A wall-clock date and time (``datetime-local``) with a translatable error."""

    def __init__(self, label, **kwargs):
        super().__init__(label, format=DATETIME_FORMATS, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("时间格式应为 年-月-日 时:分")) from None


def _rule_fields(required: bool):
    presence = InputRequired(_l("请填写")) if required else Optional()
    threshold = PercentField(_l("满意率阈值(%)"), validators=[presence], default=0.60 if required else None)
    min_ballots = WholeNumberField(_l("最低有效票数"), default=8 if required else None,
                                   validators=[presence, NumberRange(1, 100000, _l("须为 1 到 100000"))])
    return threshold, min_ballots


class BulkCreateForm(FlaskForm):
    """测评批量建立: one questionnaire for all units or one committee's units."""

    questionnaire = ChoiceField(_l("测评表"), validators=[InputRequired(_l("请选择测评表"))])
    scope = ChoiceField(_l("范围"), default="all")
    groups = CheckboxesField(_l("测评主体"), coerce=int, validators=[InputRequired(_l("请至少选择一个测评主体"))])
    opens_at = LocalDateTimeField(_l("开始时间(可选,当地时间)"), validators=[Optional()])
    closes_at = LocalDateTimeField(_l("结束时间(可选)"), validators=[Optional()])
    threshold, min_ballots = _rule_fields(required=True)
    paper_double_entry = BooleanField(_l("纸质票双人录入"))
    open_now = BooleanField(_l("立即开启"))

    def validate_closes_at(self, field) -> None:
        """The window must close after it opens."""
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_("结束时间须晚于开始时间"))


class ApplyForm(FlaskForm):
    """Open, close or change the rules of the ticked evaluations, or of all of one questionnaire."""

    ids = CheckboxesField(coerce=int, validate_choice=False)
    target = ChoiceField(_l("应用于"), default="selected", validate_choice=False)
    action = ChoiceField(choices=[("open", "open"), ("close", "close"), ("rules", "rules")],
                         validators=[InputRequired()])
    threshold, min_ballots = _rule_fields(required=False)
    paper_double_entry = ChoiceField(_l("纸质票双人录入"), default="",
                                     choices=[("", _l("不变")), ("on", _l("开")), ("off", _l("关"))])


def new_nonce() -> str:
    """A one-time token for an issuing form: a reload of the slip page must not issue a second set."""
    return secrets.token_urlsafe(16)


class CodesForm(FlaskForm):
    """Issue N codes for each chosen rater group of one evaluation.

    The submit buttons are named ``output`` (``slips`` or ``csv``): the view
    answers with the printable slips or with the CSV alone.
    """

    groups = CheckboxesField(_l("测评主体"), coerce=int, validators=[InputRequired(_l("请至少选择一个测评主体"))])
    # No default: the organiser types the number (and then confirms the total), so no click issues a set by itself.
    count = WholeNumberField(_l("每个测评主体的数量"),
                             validators=[InputRequired(_l("请填写数量")), NumberRange(1, 5000, _l("须为 1 到 5000"))])
    nonce = HiddenField()


class BulkCodesForm(CodesForm):
    """Issue N codes per unit × group for one questionnaire's evaluations (all units or a committee)."""

    questionnaire = ChoiceField(_l("测评表"))
    scope = ChoiceField(_l("范围"), default="all")
