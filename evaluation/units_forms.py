"""Forms of the units and rater-group pages (labels in Chinese, then English).

The forms check shapes (lengths, numbers, required fields); the rules about the
tree and the campaign live in :mod:`evaluation.units` and friends, which the
views call after validation.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from models import UnitKind

from .units import KIND_LABELS, MEMBERS_MAX, NAME_MAX

KIND_CHOICES = [(k.value, f"{KIND_LABELS[k]} / {k.value}") for k in UnitKind]


class CampaignForm(FlaskForm):
    """A new campaign: name and optional dates."""

    name = StringField("活动名称 / Campaign name", validators=[InputRequired("请输入名称 / Enter a name."),
                                                           Length(max=200)])
    starts_on = DateField("开始日期 / Starts on", validators=[Optional()])
    ends_on = DateField("结束日期 / Ends on", validators=[Optional()])

    def validate_ends_on(self, field) -> None:
        """The end may not come before the start."""
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("结束日期早于开始日期 / The end date is before the start date.")


class ImportForm(FlaskForm):
    """The unit sheet to preview (CSV or XLSX)."""

    file = FileField("单位表(CSV 或 XLSX)/ Unit sheet (CSV or XLSX)",
                     validators=[FileRequired("请选择文件 / Choose a file.")])


class UnitForm(FlaskForm):
    """Name, kind and member count of one unit."""

    name = StringField("名称 / Name", validators=[InputRequired("请输入名称 / Enter a name."), Length(max=NAME_MAX)])
    kind = SelectField("类型 / Kind", choices=KIND_CHOICES)
    members = IntegerField("人数 / Members", validators=[
        InputRequired("请输入人数 / Enter the number of members."),
        NumberRange(min=0, max=MEMBERS_MAX, message="人数须为非负整数 / Members must be 0 or more.")])


class MoveForm(FlaskForm):
    """The new parent of a unit (0: the top of the tree)."""

    parent = SelectField("新的上级单位 / New parent", coerce=int)


class GroupForm(FlaskForm):
    """A rater group's name and optional weight (checked by evaluation.groups.parse_weight)."""

    name = StringField("名称 / Name", validators=[InputRequired("请输入名称 / Enter a name."), Length(max=60)])
    weight = StringField("权重(可留空)/ Weight (optional)", validators=[Length(max=30)])
