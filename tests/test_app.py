"""The application factory, configuration from the environment, security headers and migrations."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import OperationalError

from app import create_app
from config import DEFAULT_SECRET, _normalise_database_url
from extensions import db

ROOT = Path(__file__).resolve().parent.parent


# --- configuration ------------------------------------------------------------------------------


_CASES_SCRIPT = """
import importlib, json, os, sys
import config, app as app_module
results = []
for env in json.loads(sys.argv[1]):
    for name in ("DATABASE_URL", "SECRET_KEY", "CEPING_ENV", "CEPING_CODE_KEY", "CEPING_BALLOT_KEY"):
        os.environ.pop(name, None)
    os.environ.update(env)
    importlib.reload(config)
    importlib.reload(app_module)
    try:
        a = app_module.create_app()
    except Exception as error:
        results.append({"error": f"{type(error).__name__}: {error}"})
        continue
    results.append({k: a.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "CODE_KEY", "BALLOT_KEY",
                                             "TESTING", "WTF_CSRF_ENABLED", "MAX_CONTENT_LENGTH")})
print(json.dumps(results, default=str))
"""


def _configs_from_env(*envs: dict) -> list[dict]:
    """Build the production app (``create_app()``, no test config) once per environment, in a fresh interpreter."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY", "CEPING_ENV", "CEPING_CODE_KEY",
                          "CEPING_BALLOT_KEY")}
    out = subprocess.run([sys.executable, "-c", _CASES_SCRIPT, json.dumps(list(envs))], cwd=ROOT, env=clean,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_configuration_from_the_environment():
    unused = "sqlite:////tmp/ceping-unused.sqlite"  # never connected to: create_app does not touch the database
    production = {"CEPING_ENV": "production", "DATABASE_URL": unused}
    keys = {"SECRET_KEY": "from-env", "CEPING_CODE_KEY": "code-key", "CEPING_BALLOT_KEY": "ballot-key"}
    pg, default_secret, no_code_key, no_ballot_key, same_keys, real = _configs_from_env(
        {"DATABASE_URL": "postgresql://ceping:pw@db.example:5432/ceping", "SECRET_KEY": "s"},
        production,
        {**production, "SECRET_KEY": "from-env", "CEPING_BALLOT_KEY": "ballot-key"},
        {**production, "SECRET_KEY": "from-env", "CEPING_CODE_KEY": "code-key"},
        {**production, **keys, "CEPING_BALLOT_KEY": "from-env"},
        {**production, **keys},
    )
    assert pg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://ceping:pw@db.example:5432/ceping"
    assert pg["TESTING"] is False
    assert pg["WTF_CSRF_ENABLED"] is not False  # production keeps CSRF on
    assert pg["MAX_CONTENT_LENGTH"] == 64 * 1024
    assert default_secret == {"error": "RuntimeError: SECRET_KEY must be set in production (CEPING_ENV=production)."}
    assert no_code_key == {"error": "RuntimeError: CEPING_CODE_KEY must be set in production (CEPING_ENV=production)."}
    assert no_ballot_key == {
        "error": "RuntimeError: CEPING_BALLOT_KEY must be set in production (CEPING_ENV=production)."}
    assert same_keys == {"error": "RuntimeError: SECRET_KEY, CEPING_CODE_KEY and CEPING_BALLOT_KEY must all differ "
                                  "in production."}
    assert (real["SECRET_KEY"], real["CODE_KEY"], real["BALLOT_KEY"]) == ("from-env", "code-key", "ballot-key")


def test_without_keys_the_run_generates_private_ones_in_the_instance_folder(tmp_path):
    """The README's run sets no key: it must never serve with one printed in this repository."""
    from keys import DEFAULT_SECRET, configure_keys
    from flask import Flask

    apps = []
    for _ in range(2):
        app = Flask(__name__, instance_path=str(tmp_path / "instance"))
        app.config.update(SECRET_KEY=None, CODE_KEY=None, BALLOT_KEY=None)
        configure_keys(app)
        apps.append(app.config)
    first, second = apps
    assert first["SECRET_KEY"] not in (None, DEFAULT_SECRET) and len(first["SECRET_KEY"]) >= 40
    assert first["BALLOT_KEY"] != first["SECRET_KEY"] and len(first["BALLOT_KEY"]) >= 40
    assert (second["SECRET_KEY"], second["BALLOT_KEY"]) == (first["SECRET_KEY"], first["BALLOT_KEY"])  # read back
    for name in ("secret_key", "ballot_key"):
        assert (tmp_path / "instance" / name).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("given, expected", [
    ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
])
def test_database_url_normalisation(given, expected):
    assert _normalise_database_url(given) == expected


def test_default_database_is_a_sqlite_file_in_the_instance_folder():
    app = create_app({"SQLALCHEMY_DATABASE_URI": None})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri == "sqlite:///" + os.path.join(app.instance_path, "ceping.sqlite")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["timeout"] >= 5  # writers wait, not fail


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.setenv("CEPING_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": DEFAULT_SECRET, "CODE_KEY": "c", "BALLOT_KEY": "b"})
    real = create_app({"SECRET_KEY": "a-real-secret", "CODE_KEY": "c", "BALLOT_KEY": "b"}).config
    assert real["SECRET_KEY"] == "a-real-secret"


def test_test_config_and_overrides():
    app = create_app({"TEXT_ANSWER_MAX": 10})
    assert app.config["TESTING"] is True and app.config["TEXT_ANSWER_MAX"] == 10
    assert app.config["CODE_KEY"] == app.config["SECRET_KEY"]  # defaults to the secret
    assert create_app({"CODE_KEY": "separate"}).config["CODE_KEY"] == "separate"


def test_factory_registers_blueprints_and_commands():
    app = create_app({})
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert {"/", "/v", "/v/<code>", "/thanks", "/login", "/logout", "/admin/", "/admin/campaigns/<int:campaign_id>"} <= rules
    assert {"demo", "init-db", "evaluations", "codes", "users", "db"} <= set(app.cli.list_commands(None))


def test_sqlite_connections_use_wal_and_foreign_keys(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


# --- error pages --------------------------------------------------------------------------------


def test_not_found_and_method_not_allowed_are_friendly(client):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    wrong = client.get("/logout")
    assert wrong.status_code == 405 and "不支持此操作" in wrong.get_data(as_text=True)


def test_unexpected_error_is_a_friendly_500_and_database_trouble_a_503(app):
    def boom():
        raise ZeroDivisionError("secret detail")

    def db_down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    app.add_url_rule("/boom", view_func=boom)
    app.add_url_rule("/db-down", view_func=db_down)
    client = app.test_client()
    crash = client.get("/boom")
    body = crash.get_data(as_text=True)
    assert crash.status_code == 500 and "系统错误" in body
    assert "secret detail" not in body and "Traceback" not in body
    down = client.get("/db-down")
    assert down.status_code == 503 and "数据库暂时无法访问" in down.get_data(as_text=True)
    assert "connection refused" not in down.get_data(as_text=True)


# --- security headers ---------------------------------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _rater_pages(client, campaign, issue) -> dict:
    code = issue(campaign["evaluation"])[0]
    return {
        "home": client.get("/"),
        "ballot": client.post("/v", data={"code": code}, follow_redirects=True),
        "thanks": client.get("/thanks"),
        "code box": client.get("/v"),
        "unknown code": client.post("/v", data={"code": "K7QX-M3PD-9TWR"}, follow_redirects=True),
        "404": client.get("/nope"),
        "login": client.get("/login"),
    }


def test_security_headers_on_rater_pages(client, campaign, issue):
    for name, response in _rater_pages(client, campaign, issue).items():
        csp = _csp(response)
        script = csp.get("script-src", csp.get("default-src"))
        assert script is not None, name
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, name
        assert csp["frame-ancestors"] == ["'none'"], name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Referrer-Policy"] == "no-referrer", name


def test_rater_pages_need_no_inline_script_or_style(client, campaign, issue):
    """The CSP forbids inline code, so the pages must not rely on any (and work without JavaScript)."""
    import re

    for name, response in _rater_pages(client, campaign, issue).items():
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), name
        assert not re.search(r"\son[a-z]+\s*=", html), name
        assert " style=" not in html and "<style" not in html, name
        assert 'name="viewport"' in html, name  # mobile-first


# --- migrations ---------------------------------------------------------------------------------


def _upgrade_and_compare(url: str) -> tuple[set[str], list, str | None]:
    """Run ``flask db upgrade`` on ``url``; return tables, autogenerate diff and the stamped revision."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, (result.output, result.exception)
    with app.app_context():
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            revision = context.get_current_revision()
        db.engine.dispose()
    return tables, diff, revision


def _head() -> str:
    app = create_app({})
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config(str(ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads  # one line of history
    return heads[0]


def test_upgrade_on_an_empty_sqlite_file_matches_the_models(tmp_path):
    tables, diff, revision = _upgrade_and_compare(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert diff == []
    assert revision == _head()
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    with engine.connect() as conn:
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ballot'")).scalar()
    engine.dispose()
    assert "WITHOUT ROWID" in ddl.upper()  # the migration keeps the secrecy of the models


def test_downgrade_to_base_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["db", "downgrade", "base"]):
        assert runner.invoke(args=args).exit_code == 0, args
    with app.app_context():
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()


def test_upgrade_on_postgresql_matches_the_models(database_url, fresh_database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set TEST_DATABASE_URL (CI does)")
    tables, diff, revision = _upgrade_and_compare(fresh_database_url)
    assert set(db.metadata.tables) <= tables and "alembic_version" in tables
    assert diff == []
    assert revision == _head()
