"""Forms of the campaign-work pages: report rounds and verdicts, rectification, stages, look-backs.

They check shapes (lengths, dates, choices); the rules (rounds, scoping, make-up
links) live in the service modules the views call after validation.
"""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FieldList, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from evaluation.work import lookback, rectification, reports
from evaluation.text_checks import NoControlChars


def _at_most(field: str) -> Length:
    """The length limit of a rectification field, with its message in the reader's language."""
    limit = rectification.LIMITS[field]
    return Length(max=limit, message=_l("最多 %(n)s 字", n=limit))


class ReportForm(FlaskForm):
    """The text of a report round (the review evaluation is created with it)."""

    text = TextAreaField(_l("分析检查报告全文"), validators=[
        InputRequired(_l("请填写报告内容")), NoControlChars(),
        Length(max=reports.TEXT_MAX, message=_l("报告最多 %(n)s 字", n=reports.TEXT_MAX))])
    open_now = BooleanField(_l("立即开启评议测评"), default=True)


class VerdictForm(FlaskForm):
    """The four conditions of 四不通过 (ticked = met) and a note to the unit."""

    scope = BooleanField(reports.CONDITIONS[0].label)
    problems = BooleanField(reports.CONDITIONS[1].label)
    thinking = BooleanField(reports.CONDITIONS[2].label)
    measures = BooleanField(reports.CONDITIONS[3].label)
    note = TextAreaField(_l("评定意见(退回时写明修改要求)"),
                         validators=[NoControlChars(), Length(max=2000, message=_l("最多 %(n)s 字", n=2000))])


class RectificationForm(FlaskForm):
    """四明确一承诺: project, goal and deadline, measures, responsibility, commitment."""

    project = StringField(rectification.FIELD_LABELS["project"], validators=[
        InputRequired(_l("请填写整改项目")), NoControlChars(), _at_most("project")])
    goal = TextAreaField(rectification.FIELD_LABELS["goal"], validators=[NoControlChars(), _at_most("goal")])
    deadline = DateField(_l("完成时限"), validators=[Optional()])
    measures = TextAreaField(rectification.FIELD_LABELS["measures"],
                             validators=[NoControlChars(), _at_most("measures")])
    responsible = StringField(rectification.FIELD_LABELS["responsible"],
                              validators=[NoControlChars(), _at_most("responsible")])
    commitment = TextAreaField(rectification.FIELD_LABELS["commitment"],
                               validators=[NoControlChars(), _at_most("commitment")])
    category = SelectField(_l("类别"), choices=list(rectification.CATEGORIES.items()))
    status = SelectField(_l("状态"), choices=list(rectification.STATUSES.items()))
    done_on = DateField(_l("完成日期(已完成时)"), validators=[Optional()])
    makeup_id = SelectField(_l("对应补课决定"), coerce=int, default=0)

    def validate_done_on(self, field) -> None:
        """A completion date belongs to a done item only."""
        if field.data and self.status.data != "done":
            raise ValidationError(_("未完成的项目不填完成日期"))


class StageForm(FlaskForm):
    """A stage's name and dates."""

    name = StringField(_l("阶段名称"), validators=[InputRequired(_l("请填写阶段名称")), NoControlChars(),
                                                  Length(max=100, message=_l("最多 %(n)s 字", n=100))])
    starts_on = DateField(_l("开始日期"), validators=[Optional()])
    ends_on = DateField(_l("结束日期"), validators=[Optional()])

    def validate_ends_on(self, field) -> None:
        """The end may not come before the start."""
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_("结束日期早于开始日期"))


class StepForm(FlaskForm):
    """Mark a step done (date and note) or take the mark back."""

    done_on = DateField(_l("完成日期"), validators=[Optional()])
    note = StringField(_l("说明"), validators=[NoControlChars(), Length(max=1000, message=_l("最多 %(n)s 字", n=1000))])
    undo = BooleanField(_l("撤销"))


class _LookBackAnswer(FlaskForm):
    """One question of a checklist (sub-form: no CSRF token of its own)."""

    class Meta:
        csrf = False

    # Checked by evaluation.work.lookback.save (an unanswered question is allowed while drafting).
    answer = RadioField(choices=list(lookback.ANSWERS.items()), validate_choice=False)
    note = StringField(_l("说明"), validators=[NoControlChars(), Length(max=lookback.NOTE_MAX, message=_l(
        "最多 %(n)s 字", n=lookback.NOTE_MAX))])


class LookBackForm(FlaskForm):
    """A look-back checklist: one answer and note per question."""

    answers = FieldList(FormField(_LookBackAnswer), min_entries=3, max_entries=3)
