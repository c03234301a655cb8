"""Accounts as plain service functions: create, (de)activate, change or reset a password.

Each change is recorded in the audit log in the same transaction as the change
itself, so an account never exists without its ``user_create`` entry. Account
creation itself is :func:`evaluation.services.create_user` (shared with the CLI).
"""
from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql import Select

from extensions import db
from models import Campaign, Role, Unit, User

from evaluation.accounts.audit import record
from evaluation.listing import ListSpec
from evaluation.services import N_, ServiceError, create_user, refusal
from evaluation.text_checks import refuse_control

PASSWORD_MIN, PASSWORD_MAX = 8, 200
ROLE_LABELS = {Role.ORGANISER: _l("组织者"), Role.LIAISON: _l("联络员"), Role.VIEWER: _l("查看者")}
# Organisers first, then liaisons and viewers: spelled out, as an enum sorts by name on SQLite.
_ROLE_ORDER = case((User.role == Role.ORGANISER, 0), (User.role == Role.LIAISON, 1), else_=2)
#: The accounts list: by role, then name; searched in the name and the liaison's unit.
USER_LIST = ListSpec(sorts={"role": _ROLE_ORDER, "username": User.username, "unit": Unit.code, "active": User.active},
                     searched=(User.username, Unit.code, Unit.name), default_sort="role",
                     tiebreak=(User.username, User.id))
ROLES = {role.value: role for role in Role}


def create_account(username: str, password: str, role: str, unit_id: Optional[int] = None) -> User:
    """Create an account and its ``user_create`` audit entry (committed together).

    A liaison needs a unit; other roles are stored without one. The signed-in
    organiser is the actor; from the CLI the actor is recorded as 'cli'.
    """
    if role != Role.LIAISON.value:
        unit_id = None
    refuse_control(username)
    record("user_create", f"账号 {(username or '').strip()[:80]}", role=role, unit_id=unit_id)
    try:
        return create_user(username, password, role, unit_id)  # commits the entry with the account
    except Exception:
        db.session.rollback()
        raise


def user_query(role: Optional[str] = None, state: Optional[str] = None) -> Select:
    """Accounts with their unit loaded, narrowed by role and by state (``active``/``inactive``)."""
    query = select(User).outerjoin(Unit, Unit.id == User.unit_id).options(contains_eager(User.unit))
    if role in ROLES:
        query = query.where(User.role == ROLES[role])
    if state in ("active", "inactive"):
        query = query.where(User.active.is_(state == "active"))
    return query


def unit_choices() -> list[tuple[int, str]]:
    """(id, label) of every active unit, campaign by campaign, for the liaison's unit."""
    rows = db.session.execute(
        select(Unit.id, Campaign.name, Unit.code, Unit.name).join(Campaign, Campaign.id == Unit.campaign_id)
        .where(Unit.active.is_(True)).order_by(Campaign.id.desc(), Unit.code)).all()
    return [(r[0], f"{r[1]} · {r[2]} {r[3]}") for r in rows]


def set_user_active(user_id: int, active: bool, actor: User) -> User:
    """Deactivate or reactivate an account; nobody can deactivate their own.

    A deactivated account can neither sign in nor use its API tokens.
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise ServiceError(refusal(N_("账号 %(id)s 不存在"), id=user_id))
    if user.id == actor.id and not active:
        raise ServiceError(refusal(N_("不能停用自己的账号")))
    if user.active != active:
        user.active = active
        user.end_sessions()  # a disabled account's open sessions end now, not at their expiry
        record("user_edit", f"账号 {user.username}", op="reactivate" if active else "deactivate")
    db.session.commit()
    return user


def change_password(user: User, old: str, new: str) -> None:
    """Set a new password after checking the old one; the new one needs 8 to 200 characters."""
    if not user.check_password(old or ""):
        raise ServiceError(refusal(N_("原密码不正确")))
    if not PASSWORD_MIN <= len(new or "") <= PASSWORD_MAX:
        raise ServiceError(refusal(N_("新密码须为 %(min)s 到 %(max)s 个字符"), min=PASSWORD_MIN, max=PASSWORD_MAX))
    if new == old:
        raise ServiceError(refusal(N_("新密码不能与原密码相同")))
    user.set_password(new)
    user.end_sessions()  # every other browser signed in as this account is signed out
    record("password_change", f"账号 {user.username}")
    db.session.commit()


def reset_password(username: str, new: str) -> User:
    """An organiser (or the CLI) sets another account's password, audited; its sessions all end."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()[:80]))
    if user is None:
        raise ServiceError(refusal(N_("账号 %(name)s 不存在"), name=(username or "").strip()[:80]))
    if not PASSWORD_MIN <= len(new or "") <= PASSWORD_MAX:
        raise ServiceError(refusal(N_("新密码须为 %(min)s 到 %(max)s 个字符"), min=PASSWORD_MIN, max=PASSWORD_MAX))
    user.set_password(new)
    user.end_sessions()
    record("password_reset", f"账号 {user.username}")
    db.session.commit()
    return user
