"""The audit log page as a list that scales, and its entries' targets in the reader's language.

Filters (action, user, days) narrow the select, the search box reads the target, the user name
and the details, and the shared helper (:mod:`evaluation.listing`) sorts and pages it; the
download holds the same entries. Targets are stored as written when the action happened, some
with a Chinese word ("账号 alice", "活动 3 …") and some as ``kind:id`` ("campaign:3");
:func:`target_label` shows both in the reader's language, leaving the stored row as it is (the
log is append-only).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.sql import Select

from models import AuditLog

from evaluation.accounts.audit import ACTIONS, display_zone
from evaluation.listing import ListSpec

AUDIT_LIST = ListSpec(sorts={"at": AuditLog.id, "user": AuditLog.username, "action": AuditLog.action},
                      searched=(AuditLog.target, AuditLog.username, AuditLog.detail),
                      default_sort="at", default_desc=True, tiebreak=(AuditLog.id.desc(),))
#: Words targets begin with, as stored: the Chinese ones written by the services, and the ``kind:`` ones.
TARGET_WORDS = {
    "活动": _l("活动"), "单位": _l("单位"), "测评主体": _l("测评主体"),
    "campaign": _l("活动"), "unit": _l("单位"), "evaluation": _l("测评"), "batch": _l("批次"),
    "suggestion": _l("意见"), "stage": _l("阶段"), "questionnaire": _l("测评表"), "sheets": _l("扫描测评表"),
}
_KIND_ID = re.compile(r"^([a-z_]+):(\S+)$")


def target_label(target: str) -> str:
    """A stored target with its kind words in the reader's language ("账号 alice" → "Account alice")."""
    if (target or "").startswith("账号 "):
        # Its own message: the word alone is the accounts page's title ("Accounts").
        return _("账号 %(name)s", name=target[3:])
    words = []
    for word in (target or "").split(" "):
        match = _KIND_ID.match(word)
        if match and match.group(1) in TARGET_WORDS:
            words.append(f"{TARGET_WORDS[match.group(1)]} {match.group(2)}")
        else:
            words.append(str(TARGET_WORDS[word]) if word in TARGET_WORDS else word)
    return " ".join(words)


def action_label(action: str) -> str:
    """An action key in the reader's language (the key itself if it has no label)."""
    return str(ACTIONS.get(action, action))


def audit_query(action: Optional[str] = None, username: Optional[str] = None, since: Optional[dt.date] = None,
                until: Optional[dt.date] = None) -> Select:
    """Entries filtered by action, user name and a range of days (both ends included, local days).

    Days are read in :func:`display_zone` and compared in UTC, the way ``at`` is stored.
    """
    zone = display_zone()
    query = select(AuditLog)
    if action:
        query = query.where(AuditLog.action == action)
    if username:
        query = query.where(AuditLog.username == username)
    if since:
        start = dt.datetime.combine(since, dt.time(), zone).astimezone(dt.timezone.utc)
        query = query.where(AuditLog.at >= start)
    if until:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
        query = query.where(AuditLog.at < end)
    return query


def export_table(entries, local_time) -> tuple[list[str], list[list]]:
    """Header and cells of the audit download, labels in the reader's language."""
    header = [_("操作时间"), _("用户"), _("操作"), _("对象"), _("详情")]
    return header, [[local_time(e.at), e.username or "", action_label(e.action), target_label(e.target), e.detail]
                    for e in entries]
