"""Forms of the scanned-sheets pages: print sheets, upload scans, type a code (decisions are built per sheet)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from evaluation.services import MAX_CODES_PER_BATCH


class PrintForm(FlaskForm):
    """Issue codes of one rater group as printed answer sheets."""

    group = SelectField(_l("测评主体"), validators=[InputRequired()])
    count = IntegerField(_l("张数"), validators=[InputRequired(_l("请输入张数")),
                                              NumberRange(1, MAX_CODES_PER_BATCH)])
    paper = SelectField(_l("纸张"), choices=[("A4", "A4"), ("A5", "A5")], default="A4")


class UploadForm(FlaskForm):
    """Scanned sheets: PDF, TIFF, JPEG or PNG files, several at once."""

    files = MultipleFileField(_l("扫描文件(PDF、TIFF、JPEG 或 PNG,可多选)"))

    def validate_files(self, field) -> None:
        """At least one file chosen."""
        if not [f for f in field.data or [] if getattr(f, "filename", "")]:
            from wtforms.validators import ValidationError

            raise ValidationError(_l("请选择扫描文件"))


class CodeForm(FlaskForm):
    """The code printed under an unreadable QR, typed by the operator."""

    code = StringField(_l("测评码(见二维码下方)"), validators=[InputRequired(_l("请输入测评码")), Length(max=64)])
