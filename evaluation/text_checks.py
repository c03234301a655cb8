"""Typed text that cannot be stored: C0 control characters (PostgreSQL refuses NUL in text).

The campaign-work forms refuse such text with a field error (:class:`NoControlChars`);
the services check again (:func:`refuse_control`) so no caller can reach the database
with it and get a 500 instead of a message.
"""
from __future__ import annotations

import re
from typing import Optional

from flask_babel import gettext
from wtforms.validators import ValidationError

from evaluation.services import N_, ServiceError, refusal

#: C0 control characters other than tab, newline and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Translated when raised: in the page's language, or Chinese and English for the CLI.
MESSAGE = N_("含有无法保存的控制字符")


def refuse_control(*values: Optional[str]) -> None:
    """Raise :class:`ServiceError` when any of the texts holds a control character."""
    if any(isinstance(v, str) and CONTROL.search(v) for v in values):
        raise ServiceError(refusal(MESSAGE))


class NoControlChars:
    """WTForms validator: refuse control characters in a text field."""

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and CONTROL.search(field.data):
            raise ValidationError(gettext(MESSAGE))
