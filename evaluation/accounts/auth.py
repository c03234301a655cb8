"""Organiser sign-in and sign-out with Flask-Login.

Signing out ends every session of the account (its generation is bumped,
:mod:`evaluation.accounts.sessions`), not just this browser's cookie.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from extensions import db
from models import User

from evaluation.accounts import throttle
from evaluation.accounts.audit import record
from evaluation.accounts.sessions import mark_signed_in
from evaluation.text_checks import NoControlChars

bp = Blueprint("auth", __name__)
# An unknown or disabled account's attempt is checked against this hash, so it costs what a
# known account's does and the answer's timing does not tell which usernames exist.
_DUMMY_HASH = generate_password_hash("ceping: no such account")


class LoginForm(FlaskForm):
    """Username and password; both bounded so a huge field cannot cost a hash."""

    username = StringField(_l("用户名"), validators=[InputRequired(_l("请输入用户名")), Length(max=80), NoControlChars()])
    password = PasswordField(_l("密码"), validators=[InputRequired(_l("请输入密码")), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("evaluation.home")


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None; every answer costs one password hash."""
    user = db.session.scalar(select(User).where(User.username == username))
    matches = check_password_hash(user.password_hash if user is not None else _DUMMY_HASH, password)
    if user is None or not matches or not user.active:
        return None
    return user


def _wait_page(form: LoginForm, seconds: int):
    minutes = max(1, -(-seconds // 60))
    notice = _("登录失败次数过多,请在 %(minutes)s 分钟后再试。", minutes=minutes)
    response = current_app.make_response((render_template("evaluation/login.html", form=form, notice=notice), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in page for organisers, liaisons and viewers.

    Failed attempts make their (username, address) pair and their address wait
    longer and longer (:mod:`evaluation.accounts.throttle`); a waiting attempt gets a
    429 page that says how long. Sign-ins go to the audit log; failures are
    counted per address and hour (the password is never kept).
    """
    if current_user.is_authenticated:
        return redirect(url_for("evaluation.home"))
    form = LoginForm()
    address = request.remote_addr or "unknown"
    if request.method == "POST":
        wait = throttle.wait_seconds(request.form.get("username") or "", address)
        if wait:
            return _wait_page(form, wait)
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = authenticate(username, form.password.data)
        if user is not None:
            throttle.record_success(username, address)
            login_user(user)
            mark_signed_in()
            record("sign_in", f"账号 {user.username}", ip=address)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        throttle.record_failure(username, address)
        form.password.errors.append(_("用户名或密码错误"))
    return render_template("evaluation/login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, so a link on another site cannot sign you out)."""
    user = current_user._get_current_object()  # the row itself, to bump it
    record("sign_out", f"账号 {user.username}")
    user.end_sessions()  # a copy of this cookie, wherever it went, is refused from now on
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))
