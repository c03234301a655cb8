"""Organiser sessions that end when they should.

A session cookie names its account as ``"<id>:<generation>"`` (``User.get_id``);
sign-out, a password change, disabling the account and an organiser's reset bump
the generation, so every older cookie stops loading its user. A session also
ends after ``SESSION_IDLE`` seconds without a request and ``SESSION_MAX_AGE``
seconds after sign-in, whatever the cookie's own expiry says.

Flask-Login's "strong" session protection hashes the client address with the
user agent; its own helper reads a raw ``X-Forwarded-For`` header, which any
client can write. Here the address is ``request.remote_addr`` only: ProxyFix
(``CEPING_PROXY_COUNT``) sets it from exactly the trusted proxies' entries.
"""
from __future__ import annotations

import hashlib
import time
from typing import Optional

from flask import Flask, current_app, request, session

from extensions import db

# Session keys of our own (Flask-Login keeps ``_user_id`` and ``_id``).
SIGNED_IN_AT, SEEN_AT = "_signed_in_at", "_seen_at"


def load_user(user_id: str):
    """The account a session names, or None when its generation is old or the id is malformed."""
    from models import User

    number, _, generation = (user_id or "").partition(":")
    if not (number.isdigit() and generation.isdigit()) or len(number) > 12 or len(generation) > 12:
        return None
    user = db.session.get(User, int(number))
    if user is None or user.session_generation != int(generation):
        return None
    return user


def session_identifier() -> Optional[str]:
    """Flask-Login's session fingerprint, from the trusted client address and the user agent.

    Only a signed-in session has one to protect. Flask-Login checks any non-empty
    session, so without this a rater's session (its CSRF token, its open code),
    which never holds one, "failed" the check on every request: the cookie was
    re-signed and an expired ``remember_token`` cookie sent with each response.
    """
    if "_user_id" not in session:  # login_user sets it before asking for the fingerprint
        return session.get("_id")
    agent = request.headers.get("User-Agent", "")
    return hashlib.sha512(f"{request.remote_addr}|{agent}".encode("utf-8", "replace")).hexdigest()


def mark_signed_in() -> None:
    """Start the idle and absolute clocks of a new session (called right after ``login_user``)."""
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def expire_old_sessions() -> None:
    """Before each request: forget a signed-in session past its idle or absolute limit."""
    if "_user_id" not in session:
        return
    now = int(time.time())
    signed_in, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    idle, max_age = current_app.config["SESSION_IDLE"], current_app.config["SESSION_MAX_AGE"]
    if not isinstance(signed_in, int) or not isinstance(seen, int) or now - seen > idle or now - signed_in > max_age:
        session.clear()  # a session without our clocks predates them: it ends too
        return
    if now - seen >= 60:  # rewriting the cookie on every request buys nothing
        session[SEEN_AT] = now


def init_app(app: Flask) -> None:
    """Wire the loader, the fingerprint and the clocks into Flask-Login and the app."""
    from extensions import login_manager

    app.config.setdefault("SESSION_IDLE", 8 * 3600)
    app.config.setdefault("SESSION_MAX_AGE", 24 * 3600)
    login_manager.user_loader(load_user)
    login_manager._session_identifier_generator = session_identifier  # private: no public setting exists
    app.before_request(expire_old_sessions)
