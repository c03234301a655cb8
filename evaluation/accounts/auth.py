"""Organiser sign-in and sign-out with Flask-Login."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from extensions import db, limiter
from models import User

from evaluation.accounts.audit import record
from evaluation.text_checks import NoControlChars

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    """``LOGIN_LIMIT`` (e.g. "10 per 5 minutes"), read per request so tests and deployments can set it."""
    return current_app.config["LOGIN_LIMIT"]


def _submitted_username() -> str:
    """The limiter key of an attempt on one account: the name as submitted (bounded)."""
    return "login-user:" + (request.form.get("username") or "").strip()[:80]


def _failed(response) -> bool:
    """Only failed attempts count towards the limits; signing in (a redirect) costs nothing."""
    return response.status_code != 302


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
    """The active user with these credentials, or None."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=get_remote_address, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, key_func=_submitted_username, methods=["POST"], deduct_when=_failed)
def login():
    """Sign-in page for organisers, liaisons and viewers.

    Failed attempts are limited per address and per submitted username
    (``LOGIN_LIMIT``); past the limit the answer is a 429 page. Sign-ins and
    failed sign-ins go to the audit log (the password never does).
    """
    if current_user.is_authenticated:
        return redirect(url_for("evaluation.home"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = authenticate(username, form.password.data)
        if user is not None:
            login_user(user)
            record("sign_in", f"账号 {user.username}", ip=request.remote_addr)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        record("sign_in_failed", f"账号 {username[:80]}", ip=request.remote_addr)
        db.session.commit()
        form.password.errors.append(_("用户名或密码错误"))
    return render_template("evaluation/login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, so a link on another site cannot sign you out)."""
    record("sign_out", f"账号 {current_user.username}")
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))
