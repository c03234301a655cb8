"""The audit log: every organiser action appended with who and when.

Callers pass what was done and to which object; never pass anything about a
rater (codes, answers, ballot ids). Entries are added to the caller's session
so they commit — or roll back — together with the action they describe.
"""
from __future__ import annotations

import json
from typing import Any, Optional

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
}


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
    entry = AuditLog(action=action, target=target[:200], user_id=getattr(user, "id", None),
                     username=getattr(user, "username", "cli"),
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
