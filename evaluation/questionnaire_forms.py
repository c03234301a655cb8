"""Forms of the questionnaire editor (Flask-WTF; CSRF on every one of them).

The forms check shape and length; the rules that look at the questionnaire as
a whole (option counts, polarities, frozen) live in the service modules.
"""
from __future__ import annotations

import math

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, FieldList, FloatField, Form, FormField, HiddenField, IntegerField, SelectField, StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from models import ItemKind, Polarity

from .questionnaire_checks import ACCEPTED_COUNT, ACCEPTED_MAX, MAX_OPTIONS, kinds_for
from .questionnaire_edits import NEW_SCALE, ItemSpec
from .questionnaires import INTRO_MAX, LABEL_MAX, SCALE_NAME_MAX, TEXT_MAX, TITLE_MAX

KIND_LABELS = {
    ItemKind.SCALE: "评价题(计入满意率) / Rated indicator",
    ItemKind.SINGLE: "单选题 / Single choice",
    ItemKind.MULTIPLE: "多选题 / Multiple choice",
    ItemKind.TEXT: "文字题 / Free text",
    ItemKind.FILL: "填空题 / Fill-in",
}
POLARITY_LABELS = {
    Polarity.POSITIVE: "肯定 / positive",
    Polarity.NEGATIVE: "否定 / negative",
    Polarity.UNKNOWN: "不计 / unknown",
}
REQUIRED = "此项必填。 / This field is required."
TOO_LONG = "最多 %(max)d 个字。 / At most %(max)d characters."


class ScoreField(FloatField):
    """A float field whose parse error is in Chinese and English like the rest of the page."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("分值须为数字,或留空。 / The score must be a number, or empty.") from None


class CopyForm(FlaskForm):
    """Copy a questionnaire to a new key (version 1)."""

    key = StringField("新键名 / New key", validators=[InputRequired(REQUIRED), Length(max=60, message=TOO_LONG)],
                      description="2–60 个小写字母、数字、_ 或 - / 2–60 of a–z, 0–9, _ and -")
    title = StringField("标题 / Title", validators=[Optional(), Length(max=TITLE_MAX, message=TOO_LONG)])


class MetaForm(FlaskForm):
    """Title and introduction."""

    title = StringField("标题 / Title", validators=[InputRequired(REQUIRED), Length(max=TITLE_MAX, message=TOO_LONG)])
    intro = TextAreaField("说明(测评人在题目上方看到) / Introduction",
                          validators=[Optional(), Length(max=INTRO_MAX, message=TOO_LONG)])
    pass_mark = ScoreField("及格分(满分 100) / Pass mark (of 100)", validators=[Optional()])


class ItemForm(FlaskForm):
    """One item: text, kind, required, which scale (choice kinds) and, in a quiz, points and answers."""

    text = TextAreaField("题目 / Text", validators=[InputRequired(REQUIRED), Length(max=TEXT_MAX, message=TOO_LONG)])
    kind = SelectField("题型 / Kind", validators=[InputRequired(REQUIRED)])
    required = BooleanField("必答 / Required")
    scale = SelectField("评价等次 / Options from scale", validators=[Optional()],
                        description="文字题、填空题不用评价等次 / Free-text and fill-in items use none")
    points = ScoreField("分值(测试题) / Points", validators=[Optional()])
    accepted = TextAreaField("参考答案(填空题,每行一个) / Accepted answers, one per line",
                             validators=[Optional(), Length(max=ACCEPTED_COUNT * (ACCEPTED_MAX + 2), message=TOO_LONG)])

    def configure(self, questionnaire, scales) -> None:
        """Offer this questionnaire's item kinds and scales (and a new scale); anything else is invalid."""
        self.kind.choices = [(k.value, KIND_LABELS[k]) for k in kinds_for(questionnaire)]
        self.scale.choices = [(NEW_SCALE, "新建评价等次 / New scale")] + [
            (str(scale.id), f"{scale.name}:{' / '.join(o.label for o in scale.options)}") for scale, _ in scales
        ]

    def spec(self) -> ItemSpec:
        """The validated form as an :class:`ItemSpec` for the service."""
        return ItemSpec(text=self.text.data, kind=ItemKind(self.kind.data), required=self.required.data,
                        scale=self.scale.data, points=self.points.data, accepted=self.accepted.data or "")


class ActionForm(FlaskForm):
    """Buttons that carry ``action`` (``up:<id>``, ``down:<id>``, ``delete:<id>``, ``add``, ``save``)."""

    action = HiddenField(validators=[InputRequired(REQUIRED), Length(max=40)])


class OptionRow(Form):
    """One option of a scale (a sub-form: the outer form carries the CSRF token)."""

    id = IntegerField(validators=[InputRequired(REQUIRED)])
    label = StringField("选项 / Label", validators=[InputRequired(REQUIRED), Length(max=LABEL_MAX, message=TOO_LONG)])
    score = ScoreField("分值 / Score", validators=[Optional()])
    polarity = SelectField("倾向 / Polarity", choices=[(p.value, label) for p, label in POLARITY_LABELS.items()],
                           validators=[InputRequired(REQUIRED)])
    correct = BooleanField("正确答案(测试题) / Correct answer")

    def validate_score(self, field) -> None:
        """Scores are plain finite numbers (a float field would accept 'nan' and 'inf')."""
        if field.data is not None and (not math.isfinite(field.data) or abs(field.data) > 1e6):
            raise ValidationError("分值须为有限的数字。 / A score must be a finite number.")


class ScaleForm(FlaskForm):
    """All options of one scale, saved together (so polarities can be swapped in one go)."""

    name = StringField("评价等次名称 / Scale name",
                       validators=[InputRequired(REQUIRED), Length(max=SCALE_NAME_MAX, message=TOO_LONG)])
    options = FieldList(FormField(OptionRow), max_entries=MAX_OPTIONS)
    action = StringField(validators=[Optional(), Length(max=40)])

    def rows(self) -> list[dict]:
        """The submitted options as plain dicts for :func:`questionnaire_edits.update_scale`."""
        return [{"id": entry.form.id.data, "label": entry.form.label.data, "score": entry.form.score.data,
                 "polarity": entry.form.polarity.data, "correct": entry.form.correct.data} for entry in self.options]
