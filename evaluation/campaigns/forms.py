"""Forms of the units and rater-group pages (labels and messages translatable, Chinese by default).

The forms check shapes (lengths, numbers, required fields); the rules about the
tree and the campaign live in :mod:`evaluation.campaigns.units` and friends, which the
views call after validation.
"""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from models import UnitKind

from evaluation.campaigns.units import KIND_LABELS, MEMBERS_MAX, NAME_MAX

KIND_CHOICES = [(k.value, KIND_LABELS[k]) for k in UnitKind]


class CampaignForm(FlaskForm):
    """A new campaign: name and optional dates."""

    name = StringField(_l("活动名称"), validators=[InputRequired(_l("请输入名称")), Length(max=200)])
    starts_on = DateField(_l("开始日期"), validators=[Optional()])
    ends_on = DateField(_l("结束日期"), validators=[Optional()])

    def validate_ends_on(self, field) -> None:
        """The end may not come before the start."""
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_("结束日期早于开始日期"))


class ImportForm(FlaskForm):
    """The unit sheet to preview (CSV or XLSX)."""

    file = FileField(_l("单位表(CSV 或 XLSX)"), validators=[FileRequired(_l("请选择文件"))])


class UnitForm(FlaskForm):
    """Name, kind and member count of one unit."""

    name = StringField(_l("名称"), validators=[InputRequired(_l("请输入名称")), Length(max=NAME_MAX)])
    kind = SelectField(_l("类型"), choices=KIND_CHOICES)
    members = IntegerField(_l("人数"), validators=[
        InputRequired(_l("请输入人数")),
        NumberRange(min=0, max=MEMBERS_MAX, message=_l("人数须为非负整数"))])


class MoveForm(FlaskForm):
    """The new parent of a unit (0: the top of the tree)."""

    parent = SelectField(_l("新的上级单位"), coerce=int)


class GroupForm(FlaskForm):
    """A rater group's name and optional weight (checked by evaluation.campaigns.groups.parse_weight)."""

    name = StringField(_l("名称"), validators=[InputRequired(_l("请输入名称")), Length(max=60)])
    weight = StringField(_l("权重(可留空)"), validators=[Length(max=30)])
