"""Accounts, password change and the audit log page.

Organisers create and (de)activate liaison, viewer and organiser accounts and
read the audit log; every signed-in account may change its own password.
The work is done by :mod:`evaluation.accounts.services` and :mod:`evaluation.accounts.audit`.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from extensions import db
from models import Role, User

from evaluation.accounts.services import (
    ROLE_LABELS, USER_LIST, change_password, create_account, reset_password, set_user_active, unit_choices,
    user_query,
)
from evaluation.accounts.forms import AuditFilterForm, PasswordForm, ResetPasswordForm, UserForm
from evaluation.accounts.audit import ACTIONS, display_zone, usernames
from evaluation.accounts.audit_list import AUDIT_LIST, action_label, audit_query, export_table as audit_table, target_label
from evaluation.list_exports import download
from evaluation.listing import all_rows, page_of, read_args
from evaluation.accounts.permissions import ALL_ROLES, role_required
from evaluation.services import ServiceError
from evaluation.accounts.sessions import mark_signed_in
from evaluation.campaigns.confirm import ask, confirmed

bp = Blueprint("accounts", __name__, url_prefix="/admin")


def local_time(value: dt.datetime) -> str:
    """An audit time in the display zone, to the second (SQLite hands back naive UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(display_zone()).strftime("%Y-%m-%d %H:%M:%S")


@bp.context_processor
def _labels() -> dict:
    return {"ROLE_LABELS": ROLE_LABELS, "ACTIONS": ACTIONS, "local_time": local_time, "target_label": target_label,
            "action_label": action_label}


def _user_form(formdata=True) -> UserForm:
    form = UserForm() if formdata else UserForm(formdata=None)
    form.unit.choices = [(0, _("(无)"))] + unit_choices()
    return form


def _users_page(form, status: int = 200):
    """The accounts list (searched, sorted, paged per the URL) with the new-account form."""
    filters = {"role": request.args.get("role"), "state": request.args.get("state")}
    page = page_of(USER_LIST, user_query(**filters), read_args(USER_LIST), entities=True)
    return render_template("accounts/users.html", page=page, filters=filters, form=form), status


@bp.route("/users")
@role_required(Role.ORGANISER)
def users():
    """Every account with its role, unit and state, and the form for a new one."""
    return _users_page(_user_form(formdata=False))


@bp.route("/users", methods=["POST"])
@role_required(Role.ORGANISER)
def create():
    """Create a liaison, viewer or organiser account."""
    form = _user_form()
    if form.validate_on_submit():
        try:
            user = create_account(form.username.data, form.password.data, form.role.data, form.unit.data or None)
        except ServiceError as error:
            form.username.errors.append(str(error))
        else:
            flash(_("已建立账号 %(name)s(%(role)s)", name=user.username, role=ROLE_LABELS[user.role]), "info")
            return redirect(url_for("accounts.users"))
    return _users_page(form, 400)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@role_required(Role.ORGANISER)
def active(user_id: int):
    """Deactivate (``active=0``) or reactivate (``active=1``) an account.

    Deactivating another active account asks first, naming it, and acts on a confirmation of
    that name only (one's own account is refused by the service without asking).
    """
    target = db.session.get(User, user_id)
    if target is None:
        abort(404)
    wanted = request.form.get("active") == "1"
    if not wanted and target.active and target.id != current_user.id and not confirmed(target.username):
        return ask(_("停用账号 %(name)s?该账号将立即无法登录,已登录的会话也随即结束。", name=target.username),
                   _("停用账号 %(name)s", name=target.username), url_for("accounts.users"), target.username,
                   changed_note=_("确认的不是这个账号,请重新确认。"))
    try:
        user = set_user_active(user_id, wanted, current_user)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(_("账号 %(name)s 已启用", name=user.username) if user.active
              else _("账号 %(name)s 已停用", name=user.username), "info")
    return redirect(url_for("accounts.users"))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def reset(user_id: int):
    """Set another account's password (a forgotten one); that account's sessions all end."""
    user = db.session.get(User, user_id)
    if user is None or user.id == current_user.id:
        abort(404)  # one's own password is changed on the password page, with the old one
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset_password(user.username, form.new.data)
        except ServiceError as error:
            form.new.errors.append(str(error))
        else:
            flash(_("已重设账号 %(name)s 的密码,其所有登录已失效", name=user.username), "info")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/reset.html", form=form, user=user), (400 if form.errors else 200)


@bp.route("/password", methods=["GET", "POST"])
@role_required(*ALL_ROLES)
def password():
    """Change one's own password (the current one is required)."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.old.data, form.new.data)
        except ServiceError as error:
            form.old.errors.append(str(error))
        else:
            login_user(current_user._get_current_object())  # this browser stays signed in
            mark_signed_in()
            flash(_("密码已修改"), "info")
            return redirect(url_for("evaluation.home"))
    return render_template("accounts/password.html", form=form), (400 if form.errors else 200)


def _audit_filters():
    """The audit page's filter form and its select (a bad date shows its error and is left out)."""
    form = AuditFilterForm(request.args)
    form.validate()
    action = form.action.data if form.action.data in ACTIONS else None
    query = audit_query(action, (form.user.data or "").strip()[:80] or None,
                        None if form.since.errors else form.since.data, None if form.until.errors else form.until.data)
    return form, query


@bp.route("/audit")
@role_required(Role.ORGANISER)
def audit():
    """The audit log, newest first, filtered by action, user and days, searched; 50 entries a page."""
    form, query = _audit_filters()
    return render_template("accounts/audit.html", form=form, zone=display_zone(), names=usernames(),
                           page=page_of(AUDIT_LIST, query, read_args(AUDIT_LIST), entities=True))


@bp.route("/audit.<fmt>")
@role_required(Role.ORGANISER)
def audit_export(fmt: str):
    """The audit entries the page's filters and search select, as CSV or XLSX (every page)."""
    _form, query = _audit_filters()
    header, cells = audit_table(all_rows(AUDIT_LIST, query, read_args(AUDIT_LIST), entities=True), local_time)
    return download(fmt, _("操作日志"), header, cells, "audit-log", _("操作日志"), "audit")
