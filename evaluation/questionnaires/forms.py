"""Forms of the questionnaire editor (Flask-WTF; CSRF on every one of them).

The forms check shape and length; the rules that look at the questionnaire as
a whole (option counts, polarities, frozen) live in the service modules.
"""
from __future__ import annotations

import math

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import (
    BooleanField, FieldList, FloatField, Form, FormField, HiddenField, IntegerField, SelectField, StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from models import ItemKind, Polarity

from evaluation.questionnaires.checks import ACCEPTED_COUNT, ACCEPTED_MAX, MAX_OPTIONS, is_quiz, kinds_for
from evaluation.questionnaires.edits import NEW_SCALE, ItemSpec
from evaluation.questionnaires.services import INTRO_MAX, LABEL_MAX, SCALE_NAME_MAX, TEXT_MAX, TITLE_MAX

KIND_LABELS = {
    ItemKind.SCALE: _l("评价题(计入满意率)"),
    ItemKind.SINGLE: _l("单选题"),
    ItemKind.MULTIPLE: _l("多选题"),
    ItemKind.TEXT: _l("文字题"),
    ItemKind.FILL: _l("填空题"),
}
POLARITY_LABELS = {
    Polarity.POSITIVE: _l("肯定"),
    Polarity.NEGATIVE: _l("否定"),
    Polarity.UNKNOWN: _l("不计"),
}
REQUIRED = _l("此项必填。")
TOO_LONG = _l("最多 %(max)d 个字。")


class ScoreField(FloatField):
    """A float field whose parse error is translated like the rest of the page."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_("分值须为数字,或留空。")) from None


class CopyForm(FlaskForm):
    """Copy a questionnaire to a new key (version 1)."""

    # Optional: a key is made from the source's when left blank or typed in Chinese (services.copy_key).
    key = StringField(_l("新键名(可留空)"), validators=[Optional(), Length(max=60, message=TOO_LONG)],
                      description=_l("2–60 个小写字母、数字、_ 或 -;留空或填中文时自动生成,如 satisfaction-copy"))
    title = StringField(_l("标题"), validators=[Optional(), Length(max=TITLE_MAX, message=TOO_LONG)])


class MetaForm(FlaskForm):
    """Title and introduction."""

    title = StringField(_l("标题"), validators=[InputRequired(REQUIRED), Length(max=TITLE_MAX, message=TOO_LONG)])
    intro = TextAreaField(_l("说明(测评人在题目上方看到)"),
                          validators=[Optional(), Length(max=INTRO_MAX, message=TOO_LONG)])
    pass_mark = ScoreField(_l("及格分(满分 100)"), validators=[Optional()])


class ItemForm(FlaskForm):
    """One item: text, kind, required, which scale (choice kinds) and, in a quiz, points and answers."""

    text = TextAreaField(_l("题目"), validators=[InputRequired(REQUIRED), Length(max=TEXT_MAX, message=TOO_LONG)])
    kind = SelectField(_l("题型"), validators=[InputRequired(REQUIRED)])
    required = BooleanField(_l("必答"))
    scale = SelectField(_l("评价等次"), validators=[Optional()],
                        description=_l("文字题、填空题不用评价等次"))
    points = ScoreField(_l("分值(测试题)"), validators=[Optional()])
    accepted = TextAreaField(_l("参考答案(填空题,每行一个)"),
                             validators=[Optional(), Length(max=ACCEPTED_COUNT * (ACCEPTED_MAX + 2), message=TOO_LONG)])

    def configure(self, questionnaire, scales) -> None:
        """Offer this questionnaire's item kinds and scales (and a new scale); anything else is invalid.

        A survey has no points or answers: its page does not show those fields, so
        they are dropped rather than validated (a forged value would be refused
        with no field on the page to say why).
        """
        if not is_quiz(questionnaire):
            del self.points
            del self.accepted
        self.kind.choices = [(k.value, KIND_LABELS[k]) for k in kinds_for(questionnaire)]
        self.scale.choices = [(NEW_SCALE, _("新建评价等次"))] + [
            (str(scale.id), f"{scale.name}:{' / '.join(o.label for o in scale.options)}") for scale, _ in scales
        ]

    def spec(self) -> ItemSpec:
        """The validated form as an :class:`ItemSpec` for the service."""
        return ItemSpec(text=self.text.data, kind=ItemKind(self.kind.data), required=self.required.data,
                        scale=self.scale.data, points=self.points.data if "points" in self else None,
                        accepted=(self.accepted.data or "") if "accepted" in self else "")


class ActionForm(FlaskForm):
    """Buttons that carry ``action`` (``up:<id>``, ``down:<id>``, ``delete:<id>``, ``add``, ``save``)."""

    action = HiddenField(validators=[InputRequired(REQUIRED), Length(max=40)])


class OptionRow(Form):
    """One option of a scale (a sub-form: the outer form carries the CSRF token)."""

    class Meta:
        """WTForms' own messages in the page's language, as in the Flask-WTF forms."""

        def get_translations(self, form):
            return wtforms_translations

    id = IntegerField(validators=[InputRequired(REQUIRED)])
    label = StringField(_l("选项"), validators=[InputRequired(REQUIRED), Length(max=LABEL_MAX, message=TOO_LONG)])
    score = ScoreField(_l("分值"), validators=[Optional()])
    polarity = SelectField(_l("倾向"), choices=[(p.value, label) for p, label in POLARITY_LABELS.items()],
                           validators=[InputRequired(REQUIRED)])
    correct = BooleanField(_l("正确答案(测试题)"))

    def validate_score(self, field) -> None:
        """Scores are plain finite numbers (a float field would accept 'nan' and 'inf')."""
        if field.data is not None and (not math.isfinite(field.data) or abs(field.data) > 1e6):
            raise ValidationError(_("分值须为有限的数字。"))


class ScaleForm(FlaskForm):
    """All options of one scale, saved together (so polarities can be swapped in one go)."""

    name = StringField(_l("评价等次名称"),
                       validators=[InputRequired(REQUIRED), Length(max=SCALE_NAME_MAX, message=TOO_LONG)])
    options = FieldList(FormField(OptionRow), max_entries=MAX_OPTIONS)
    action = StringField(validators=[Optional(), Length(max=40)])

    def rows(self) -> list[dict]:
        """The submitted options as plain dicts for :func:`questionnaire_edits.update_scale`."""
        return [{"id": entry.form.id.data, "label": entry.form.label.data, "score": entry.form.score.data,
                 "polarity": entry.form.polarity.data, "correct": entry.form.correct.data} for entry in self.options]
