"""The local calendar day of the campaign work (deadlines, completion dates, suggestions).

Deadlines are read by people in the organisation's time zone (config ``TIMEZONE``,
default Asia/Shanghai, the zone the audit page uses), so "overdue" and "today"
follow that zone rather than UTC.
"""
from __future__ import annotations

import datetime as dt

from evaluation.accounts.audit import display_zone


def local_today() -> dt.date:
    """Today's date in the display time zone (needs an app context)."""
    return dt.datetime.now(display_zone()).date()
