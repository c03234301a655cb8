"""The audit log: every organiser action appended with who and when.

Callers pass what was done and to which object; never pass anything about a
rater (codes, answers, ballot ids). Entries are added to the caller's session
so they commit — or roll back — together with the action they describe.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_request_context
from flask_login import current_user
from sqlalchemy import select

from extensions import db
from models import AuditLog

# Actions and their labels for the audit page (Chinese / English).
ACTIONS = {
    "sign_in": "登录 / sign-in",
    "sign_in_failed": "登录失败 / failed sign-in",
    "sign_out": "退出 / sign-out",
    "password_change": "修改密码 / password change",
    "user_create": "建立账号 / account created",
    "user_edit": "修改账号 / account changed",
    "campaign_create": "建立活动 / campaign created",
    "token_create": "建立 API 令牌 / API token created",
    "units_import": "导入单位 / units imported",
    "unit_edit": "修改单位 / unit edited",
    "groups_edit": "修改测评主体 / rater groups edited",
    "questionnaire_edit": "修改测评表 / questionnaire edited",
    "evaluations_create": "建立测评 / evaluations created",
    "evaluation_open": "开启测评 / evaluation opened",
    "evaluation_close": "结束测评 / evaluation closed",
    "threshold_change": "修改阈值 / threshold changed",
    "codes_issue": "发放测评码 / codes issued",
    "codes_void": "作废测评码 / codes voided",
    "paper_entry": "录入纸质票 / paper ballot keyed in",
    "paper_reconcile": "核对纸质票 / paper ballot reconciled",
    "makeup_decide": "决定补课 / make-up decided",
    "export": "导出 / export",
    "suggestion_moderate": "审核意见建议 / suggestion moderated",
    "report_submit": "提交分析检查报告 / analysis report submitted",
    "report_verdict": "评定分析检查报告 / report verdict recorded",
    "rectification_save": "保存整改项目 / rectification item saved",
    "rectification_delete": "删除整改项目 / rectification item deleted",
    "stages_create": "建立阶段与环节 / stages and steps created",
    "stage_edit": "修改阶段 / stage edited",
    "step_done": "环节完成 / step marked done",
    "step_undone": "撤销环节完成 / step completion withdrawn",
    "lookback_save": "保存回头看 / look-back checklist saved",
}


def _printable(text: str) -> str:
    """Control characters replaced by U+FFFD: a target may quote what a stranger typed (a failed
    sign-in's username), and PostgreSQL refuses NUL in text."""
    return "".join("\ufffd" if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)


def record(action: str, target: str = "", user=None, **detail: Any) -> AuditLog:
    """Append one entry to the session (committed with the caller's transaction).

    ``user`` defaults to the signed-in user; CLI actions pass None and are
    recorded as 'cli'.
    """
    if user is None:
        try:
            user = current_user if current_user and current_user.is_authenticated else None
        except Exception:  # noqa: BLE001 - outside a request there is no current_user
            user = None
    # Nobody signed in: a web request (a failed sign-in) has no actor; outside a request it is the CLI.
    nobody = "" if has_request_context() else "cli"
    entry = AuditLog(action=action, target=_printable(target)[:200], user_id=getattr(user, "id", None),
                     username=getattr(user, "username", nobody),
                     detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "")
    db.session.add(entry)
    return entry


def entries(action: Optional[str] = None, username: Optional[str] = None, limit: int = 500) -> list[AuditLog]:
    """Newest entries first, optionally filtered by action and user name."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action == action)
    if username:
        query = query.where(AuditLog.username == username)
    return list(db.session.scalars(query))


@dataclass
class Page:
    """One page of audit entries, newest first."""

    entries: list[AuditLog]
    page: int
    has_next: bool


def display_zone() -> dt.tzinfo:
    """The time zone audit times are shown and filtered in (config ``TIMEZONE``, default Asia/Shanghai)."""
    name = current_app.config.get("TIMEZONE") or "Asia/Shanghai"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def search(action: Optional[str] = None, username: Optional[str] = None, since: Optional[dt.date] = None,
           until: Optional[dt.date] = None, page: int = 1, per_page: int = 100) -> Page:
    """Entries filtered by action, user name and a range of days (both ends included, local days).

    Days are read in :func:`display_zone` and compared in UTC, the way ``at`` is stored.
    """
    zone, page = display_zone(), max(1, page)
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
    rows = list(db.session.scalars(query.order_by(AuditLog.id.desc()).offset((page - 1) * per_page)
                                   .limit(per_page + 1)))
    return Page(rows[:per_page], page, len(rows) > per_page)


def usernames() -> list[str]:
    """Every name that appears in the log (for the filter), sorted."""
    return sorted(n for n in db.session.scalars(select(AuditLog.username).distinct()) if n)
