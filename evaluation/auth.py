"""Organiser sign-in and sign-out with Flask-Login."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from extensions import db
from models import User

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    """Username and password; both bounded so a huge field cannot cost a hash."""

    username = StringField("用户名 / Username", validators=[InputRequired("请输入用户名 / Enter your username."),
                                                            Length(max=80)])
    password = PasswordField("密码 / Password", validators=[InputRequired("请输入密码 / Enter your password."),
                                                           Length(max=200)])


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
def login():
    """Sign-in page for organisers, liaisons and viewers."""
    if current_user.is_authenticated:
        return redirect(url_for("evaluation.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data.strip(), form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("用户名或密码错误 / Wrong username or password.")
    return render_template("evaluation/login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, so a link on another site cannot sign you out)."""
    logout_user()
    return redirect(url_for("auth.login"))
