"""The public suggestion form (征求意见 / 我为科学发展献一策): a category and a bounded text.

No name, contact or account is asked for: the form is anonymous by design.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from evaluation.suggestions import CATEGORIES, TEXT_MAX
from evaluation.text_checks import NoControlChars


class SuggestionForm(FlaskForm):
    """One suggestion to a unit (CSRF-protected like every form)."""

    category = SelectField("类别 / Category", choices=[("", "请选择 / Choose…"), *CATEGORIES.items()],
                           validators=[InputRequired("请选择类别 / Choose a category.")])
    text = TextAreaField(f"意见和建议(最多 {TEXT_MAX} 字)/ Your suggestion (at most {TEXT_MAX} characters)",
                         validators=[InputRequired("请填写意见或建议 / Write your suggestion."), NoControlChars(),
                                     Length(max=TEXT_MAX, message=f"最多 {TEXT_MAX} 字 / At most {TEXT_MAX} "
                                                                  "characters.")])

    def validate_category(self, field) -> None:
        """Only the listed categories (the empty prompt is not one)."""
        if field.data not in CATEGORIES:
            raise ValidationError("请选择类别 / Choose a category.")
