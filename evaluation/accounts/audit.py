"""The audit log: every organiser action appended with who and when.

Callers pass what was done and to which object; never pass anything about a
rater (codes, answers, ballot ids). Entries are added to the caller's session
so they commit — or roll back — together with the action they describe.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from extensions import db
from models import AuditLog, bump_data_version

# Actions and their labels for the audit page; rows store the key, the label is translated when shown.
ACTIONS = {
    "sign_in": _l("登录"),
    "sign_in_failed": _l("登录失败"),
    "sign_out": _l("退出"),
    "password_change": _l("修改密码"),
    "password_reset": _l("重设密码"),
    "user_create": _l("建立账号"),
    "user_edit": _l("修改账号"),
    "campaign_create": _l("建立活动"),
    "token_create": _l("建立 API 令牌"),
    "units_import": _l("导入单位"),
    "unit_edit": _l("修改单位"),
    "groups_edit": _l("修改测评主体"),
    "questionnaire_edit": _l("修改测评表"),
    "evaluations_create": _l("建立测评"),
    "evaluation_open": _l("开启测评"),
    "evaluation_close": _l("结束测评"),
    "threshold_change": _l("修改阈值"),
    "codes_issue": _l("发放测评码"),
    "codes_void": _l("作废测评码"),
    "paper_entry": _l("录入纸质票"),
    "paper_reconcile": _l("核对纸质票"),
    "sheets_read": _l("读取扫描测评表"),
    "sheets_review": _l("复核扫描测评表"),
    "makeup_decide": _l("决定补课"),
    "export": _l("导出"),
    "suggestion_moderate": _l("审核意见建议"),
    "report_submit": _l("提交分析检查报告"),
    "report_verdict": _l("评定分析检查报告"),
    "rectification_save": _l("保存整改项目"),
    "rectification_delete": _l("删除整改项目"),
    "stages_create": _l("建立阶段与环节"),
    "stage_edit": _l("修改阶段"),
    "step_done": _l("环节完成"),
    "step_undone": _l("撤销环节完成"),
    "lookback_save": _l("保存回头看"),
    "tallies_rebuild": _l("按测评票重建计票"),
    "box_settle": _l("开箱计票"),
    "backup": _l("备份数据库"),
}


#: Actions that change nothing a campaign's figures show; every other action is an organiser
#: decision that moves the data version of every campaign (an entry does not always name its
#: campaign, and decisions are rare next to page views). A new action moves it unless listed here.
ACCOUNT_ACTIONS = frozenset({"sign_in", "sign_in_failed", "sign_out", "password_change", "user_create",
                             "user_edit", "token_create", "export"})


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
    if action not in ACCOUNT_ACTIONS:
        bump_data_version(db.session)
    return entry


def entries(action: Optional[str] = None, username: Optional[str] = None, limit: int = 500) -> list[AuditLog]:
    """Newest entries first, optionally filtered by action and user name."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action == action)
    if username:
        query = query.where(AuditLog.username == username)
    return list(db.session.scalars(query))


def display_zone() -> dt.tzinfo:
    """The time zone audit times are shown and filtered in (config ``TIMEZONE``, default Asia/Shanghai)."""
    name = current_app.config.get("TIMEZONE") or "Asia/Shanghai"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def usernames() -> list[str]:
    """Every name that appears in the log (for the filter), sorted."""
    return sorted(n for n in db.session.scalars(select(AuditLog.username).distinct()) if n)
