"""Forms of the campaign-work pages: report rounds and verdicts, rectification, stages, look-backs.

They check shapes (lengths, dates, choices); the rules (rounds, scoping, make-up
links) live in the service modules the views call after validation.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FieldList, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from . import lookback, rectification, reports
from .text_checks import NoControlChars


class ReportForm(FlaskForm):
    """The text of a report round (the review evaluation is created with it)."""

    text = TextAreaField("分析检查报告全文 / Report text", validators=[
        InputRequired("请填写报告内容 / Enter the report text."), NoControlChars(),
        Length(max=reports.TEXT_MAX, message=f"最多 {reports.TEXT_MAX} 字 / At most {reports.TEXT_MAX} characters.")])
    open_now = BooleanField("立即开启评议测评 / Open the review evaluation now", default=True)


class VerdictForm(FlaskForm):
    """The four conditions of 四不通过 (ticked = met) and a note to the unit."""

    scope = BooleanField("征求意见范围广 / opinions sought widely enough")
    problems = BooleanField("查找突出问题准 / pressing problems found accurately")
    thinking = BooleanField("科学发展思路清 / development thinking clear")
    measures = BooleanField("科学发展举措实 / measures concrete and feasible")
    note = TextAreaField("评定意见(退回时写明修改要求)/ Note (what to revise when returned)",
                         validators=[NoControlChars(), Length(max=2000)])


class RectificationForm(FlaskForm):
    """四明确一承诺: project, goal and deadline, measures, responsibility, commitment."""

    project = StringField("整改项目 / Project", validators=[InputRequired("请填写整改项目 / Enter the project."),
                                                         NoControlChars(), Length(max=rectification.LIMITS["project"])])
    goal = TextAreaField("整改目标 / Goal", validators=[NoControlChars(), Length(max=rectification.LIMITS["goal"])])
    deadline = DateField("完成时限 / Deadline", validators=[Optional()])
    measures = TextAreaField("具体措施 / Measures",
                             validators=[NoControlChars(), Length(max=rectification.LIMITS["measures"])])
    responsible = StringField("责任人 / Responsible",
                              validators=[NoControlChars(), Length(max=rectification.LIMITS["responsible"])])
    commitment = TextAreaField("公开承诺 / Public commitment",
                               validators=[NoControlChars(), Length(max=rectification.LIMITS["commitment"])])
    category = SelectField("类别 / Category", choices=list(rectification.CATEGORIES.items()))
    status = SelectField("状态 / Status", choices=list(rectification.STATUSES.items()))
    done_on = DateField("完成日期(已完成时)/ Done on", validators=[Optional()])
    makeup_id = SelectField("对应补课决定 / Make-up decision", coerce=int, default=0)

    def validate_done_on(self, field) -> None:
        """A completion date belongs to a done item only."""
        if field.data and self.status.data != "done":
            raise ValidationError("未完成的项目不填完成日期 / Only a done item has a completion date.")


class StageForm(FlaskForm):
    """A stage's name and dates."""

    name = StringField("阶段名称 / Name", validators=[InputRequired(), NoControlChars(), Length(max=100)])
    starts_on = DateField("开始 / Starts", validators=[Optional()])
    ends_on = DateField("结束 / Ends", validators=[Optional()])

    def validate_ends_on(self, field) -> None:
        """The end may not come before the start."""
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("结束日期早于开始日期 / The end date is before the start date.")


class StepForm(FlaskForm):
    """Mark a step done (date and note) or take the mark back."""

    done_on = DateField("完成日期 / Done on", validators=[Optional()])
    note = StringField("说明 / Note", validators=[NoControlChars(), Length(max=1000)])
    undo = BooleanField("撤销 / Undo")


class _LookBackAnswer(FlaskForm):
    """One question of a checklist (sub-form: no CSRF token of its own)."""

    class Meta:
        csrf = False

    # Checked by evaluation.lookback.save (an unanswered question is allowed while drafting).
    answer = RadioField(choices=list(lookback.ANSWERS.items()), validate_choice=False)
    note = StringField("说明 / Note", validators=[NoControlChars(), Length(max=lookback.NOTE_MAX)])


class LookBackForm(FlaskForm):
    """A look-back checklist: one answer and note per question."""

    answers = FieldList(FormField(_LookBackAnswer), min_entries=3, max_entries=3)
