"""Ceping application factory: ``flask --app app run`` or ``gunicorn 'app:create_app()'``.

The factory is a sequence of small named steps (configure, extensions,
blueprints, error handlers, commands, response headers) so each can be read
and tested on its own.
"""
from __future__ import annotations

import os
from typing import Any, Optional

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import DEFAULT_SECRET, Config, TestConfig
from extensions import csrf, db, login_manager, migrate


def create_app(test_config: Optional[dict[str, Any]] = None) -> Flask:
    """Build and return a configured Ceping app.

    ``test_config`` (a mapping) switches to :class:`TestConfig` and overrides
    its values, the way the flaskr tutorial does.
    """
    app = Flask(__name__, instance_relative_config=True)
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_headers(app)
    return app


def configure(app: Flask, test_config: Optional[dict[str, Any]]) -> None:
    """Load settings, default the database to a SQLite file in ``instance/``."""
    app.config.from_object(TestConfig if test_config is not None else Config)
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "ceping.sqlite")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite serialises writers; let a writer wait instead of failing at once.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 30})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if os.environ.get("CEPING_ENV") == "production" and app.config["SECRET_KEY"] == DEFAULT_SECRET:
        raise RuntimeError("SECRET_KEY must be set in production (CEPING_ENV=production).")
    app.config["CODE_KEY"] = app.config.get("CODE_KEY") or app.config["SECRET_KEY"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    """WAL lets raters read while a ballot is written; foreign keys keep rows honest."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions from ``extensions.py`` to this app."""
    import models  # noqa: F401  (registers the tables on db.metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录 / Please sign in."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from models import User

        if not user_id.isdigit():
            return None
        return db.session.get(User, int(user_id))


def register_blueprints(app: Flask) -> None:
    """Mount the rater side (surveys) and the organiser side (evaluation)."""
    from evaluation import bp as evaluation_bp
    from evaluation.auth import bp as auth_bp
    from surveys import bp as surveys_bp

    app.register_blueprint(surveys_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(evaluation_bp)


def register_errorhandlers(app: Flask) -> None:
    """Friendly pages in Chinese and English for every error; never a stack trace."""
    from errors import register

    register(app)


def register_commands(app: Flask) -> None:
    """CLI groups for scripting: demo, evaluations, codes, users."""
    from evaluation.cli import register

    register(app)


def register_headers(app: Flask) -> None:
    """Security headers on every response (see docs/security.md)."""

    @app.after_request
    def set_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # A code in /v/<code> must never leak to another site through Referer.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
