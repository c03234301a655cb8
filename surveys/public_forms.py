"""The public suggestion form (征求意见 / 我为科学发展献一策): a category and a bounded text.

No name, contact or account is asked for: the form is anonymous by design.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from evaluation.work.suggestions import CATEGORIES, TEXT_MAX
from evaluation.text_checks import NoControlChars


class SuggestionForm(FlaskForm):
    """One suggestion to a unit (CSRF-protected like every form)."""

    category = SelectField(_l("类别"), choices=[("", _l("请选择")), *CATEGORIES.items()],
                           validators=[InputRequired(_l("请选择类别"))])
    text = TextAreaField(_l("意见和建议(最多 %(max)s 字)", max=TEXT_MAX),
                         validators=[InputRequired(_l("请填写意见或建议")), NoControlChars(),
                                     Length(max=TEXT_MAX, message=_l("最多 %(max)s 字", max=TEXT_MAX))])

    def validate_category(self, field) -> None:
        """Only the listed categories (the empty prompt is not one)."""
        if field.data not in CATEGORIES:
            raise ValidationError(_l("请选择类别"))
