"""Ceping application factory: ``flask --app app run`` or ``gunicorn 'app:create_app()'``.

The factory is a sequence of small named steps (configure, extensions,
blueprints, error handlers, commands, response headers) so each can be read
and tested on its own.
"""
from __future__ import annotations

import os
from typing import Any, Optional

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import Config, TestConfig
from extensions import cache, csrf, db, limiter, login_manager, migrate


def create_app(test_config: Optional[dict[str, Any]] = None) -> Flask:
    """Build and return a configured Ceping app.

    ``test_config`` (a mapping) switches to :class:`TestConfig` and overrides
    its values, the way the flaskr tutorial does.
    """
    app = Flask(__name__, instance_relative_config=True)
    # No <int:…> of a URL may reach a query with an id the database cannot hold.
    from ids import refuse_ids_past_the_column

    app.url_value_preprocessor(refuse_ids_past_the_column)
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_headers(app)
    register_assets(app)
    register_input_guard(app)
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
        # A file cannot drop a connection the way a server can: pinging it costs a statement per request.
        options["pool_pre_ping"] = False
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    from keys import configure_keys

    configure_keys(app)
    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        # Behind N trusted proxies/load balancers: take the client address from
        # X-Forwarded-For so per-address limits count raters, not the balancer.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def _private_sqlite_file(uri: str) -> None:
    """Create the SQLite database file readable by its owner only (0600), or narrow an existing one.

    SQLite gives its -wal and -shm files the database file's mode, so those
    (which hold recent pages) are private too.
    """
    if not uri.startswith("sqlite:///") or uri == "sqlite:///:memory:":
        return
    path = uri[len("sqlite:///"):].split("?", 1)[0]
    if not path or path == ":memory:":
        return
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix) and os.stat(path + suffix).st_mode & 0o077:
                os.chmod(path + suffix, 0o600)
    except OSError:
        pass  # a read-only location: the engine reports it when it connects


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    """WAL lets raters read while a ballot is written; foreign keys keep rows honest."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Deleted content (counted box rows, rewritten ballots at close) is overwritten with zeros,
        # and a checkpointed WAL is cut back to nothing: neither file keeps old page images.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA journal_size_limit=0")
        cursor.close()


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions from ``extensions.py`` to this app."""
    import models  # noqa: F401  (registers the tables on db.metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    from surveys import guard

    guard.init_app(app)
    import i18n

    i18n.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    from flask_babel import gettext

    from errors import N_

    login_manager.login_message = N_("请先登录。")  # translated when flashed (localize_callback)
    login_manager.localize_callback = gettext
    login_manager.session_protection = "strong"
    from evaluation.accounts import sessions

    sessions.init_app(app)  # generation-checked loader, trusted address only, idle and absolute limits
    from evaluation.accounts import throttle

    throttle.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Mount the rater side (surveys), the organiser side (evaluation and its admin areas) and the API."""
    from evaluation import bp as evaluation_bp
    from evaluation.accounts import views as admin_accounts
    from evaluation.accounts.auth import bp as auth_bp
    from evaluation.campaigns import evaluation_views as admin_evaluations, views as admin_units
    from evaluation.questionnaires import views as admin_questionnaires
    from evaluation.results.api import bp as api_bp
    from evaluation.results.exports import bp as exports_bp
    from evaluation.sheets import review_routes  # noqa: F401  (its views join the sheets blueprint)
    from evaluation.sheets.routes import bp as sheets_bp
    from evaluation.work import quiz_views as admin_quiz, views as admin_work
    from surveys import bp as surveys_bp, public

    # Views that register on another module's blueprint are imported here, so no module imports its
    # views back: results pages on evaluation_bp, codes and paper ballots on admin_evaluations.bp,
    # the campaign-work areas on admin_work.bp.
    from evaluation.codes import paper_views, views as code_views  # noqa: F401
    from evaluation.results import views as results_views  # noqa: F401
    from evaluation.work import rectification_views, report_views, stage_views, suggestion_views  # noqa: F401

    for blueprint in (surveys_bp, public.bp, auth_bp, evaluation_bp, exports_bp, admin_units.bp, admin_accounts.bp,
                      admin_evaluations.bp, admin_questionnaires.bp, admin_quiz.bp, admin_work.bp, api_bp, sheets_bp):
        app.register_blueprint(blueprint)
    from evaluation import sheets
    from evaluation.results import settling

    settling.init_app(app)
    sheets.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    """Friendly pages in the chosen language for every error; never a stack trace."""
    from errors import register

    register(app)


def register_commands(app: Flask) -> None:
    """CLI groups for scripting (demo, evaluations, codes, users, results) and maintenance."""
    from evaluation import maintenance
    from evaluation.cli import register

    register(app)
    maintenance.register(app)


def register_input_guard(app: Flask) -> None:
    """Refuse NUL characters in any query or form value with a 400.

    No field of ours can legitimately hold one, and PostgreSQL cannot store
    one: refusing it at the door keeps that from surfacing as a 500 deep inside.
    """
    @app.before_request
    def refuse_nul():
        # Bodies above the app-wide limit are left to the few views that allow
        # bigger uploads (they raise request.max_content_length before parsing).
        small = (request.content_length or 0) <= (app.config.get("MAX_CONTENT_LENGTH") or 0)
        for values in (request.args, request.form) if small else (request.args,):
            if any("\x00" in key or "\x00" in value for key, value in values.items(multi=True)):
                from errors import N_, render_error

                return render_error(400, N_("提交的内容含有控制字符(NUL),未被接受,没有保存任何内容。"))


def register_assets(app: Flask) -> None:
    """Versioned static URLs cached long, the vendored plotly.js, and compression where safe (assets.py)."""
    import assets

    assets.init_app(app)


# Organiser pages and downloads, the API, sign-in, and the rater's questionnaire (it carries the code).
_PRIVATE_PATHS = ("/admin", "/api/", "/login", "/logout", "/v")


def register_headers(app: Flask) -> None:
    """Security headers on every response (see docs/security.md)."""

    @app.after_request
    def set_headers(response):
        # plotly.js adds <style> elements for its charts, so organiser pages allow
        # inline *styles*; scripts are never inline anywhere.
        styles = "'self' 'unsafe-inline'" if request.path.startswith("/admin") else "'self'"
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; img-src 'self' data:; style-src {styles}; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # A code in /v/<code> must never leak to another site through Referer.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith(_PRIVATE_PATHS) and "no-store" not in response.headers.get("Cache-Control", ""):
            # Results, comments, codes and downloads: no browser or proxy may keep a copy.
            response.headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):
            # Secure cookies mean the site is served over TLS: browsers must never try plain HTTP.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
