"""Shared fixtures: an app on a real database, a client, a CLI runner, a live server.

The database is a SQLite file by default; with ``TEST_DATABASE_URL`` set (CI
sets it to the local PostgreSQL) the very same tests run on PostgreSQL. The
schema is created once per session and emptied after every test.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from app import create_app
from config import TestConfig
from extensions import db
from models import append_only_ddl

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = TestConfig.SECRET_KEY


def _worker_database(url: str) -> str:
    """Under pytest-xdist on PostgreSQL: this worker's own database beside ``url`` (created if missing).

    Every test empties its database afterwards, so two workers cannot share one. The
    name is the configured one plus the worker id (``test_gw0``); the suite empties
    these too, exactly as it empties the configured database.
    """
    from sqlalchemy.engine import make_url

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    mine = base.set(database=name).render_as_string(hide_password=False)
    # Apps the tests create without a URL take TestConfig's: point it at this worker's database too.
    TestConfig.SQLALCHEMY_DATABASE_URI = mine
    os.environ["TEST_DATABASE_URL"] = mine
    return mine


#: The rows the built-in catalog (surveys/catalog) puts in a fresh database, read once per process:
#: every test starts from them. Putting them back is a few milliseconds, where loading the catalog
#: through the ORM for every test took ~74 ms on SQLite (create_app ~95 ms, emptying ~15 ms).
_CATALOG_ROWS: dict[str, list[dict]] = {}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The URL all tests share: PostgreSQL when configured, else a fresh SQLite file; the catalog loaded."""
    url = TestConfig.SQLALCHEMY_DATABASE_URI
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    url = _worker_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from surveys.catalog import load_catalog

        db.drop_all()
        db.create_all()
        load_catalog()
        db.session.remove()
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                rows = [dict(row._mapping) for row in conn.execute(table.select())]
                if rows:
                    _CATALOG_ROWS[table.name] = rows
        db.engine.dispose()
    return url


def _empty_all_tables(url: str, catalog: bool = True) -> None:
    """Empty every table; then (``catalog``) put back the built-in catalog as a fresh database has it."""
    engine = create_engine(url)
    tables = list(reversed(db.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            # audit_log refuses DELETE by trigger; lift it for the wipe, then restore it.
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
            for table in tables:
                conn.execute(table.delete())
            for statement in append_only_ddl("sqlite"):
                conn.exec_driver_sql(statement)
        if catalog:
            for table in db.metadata.sorted_tables:  # parents first
                if table.name in _CATALOG_ROWS:
                    conn.execute(table.insert(), _CATALOG_ROWS[table.name])
            if engine.dialect.name == "postgresql":
                # The rows came back with their ids: move each id sequence past them, as loading did.
                for name in _CATALOG_ROWS:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                                      f"(SELECT max(id) FROM \"{name}\"))"))
    engine.dispose()


@pytest.fixture()
def app(database_url):
    """A fresh app bound to the shared test database (the catalog loaded), reset afterwards."""
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    _empty_all_tables(database_url)


@pytest.fixture()
def client(app):
    """Flask test client."""
    return app.test_client()


@pytest.fixture()
def runner(app):
    """Click runner for ``flask --app app …`` commands."""
    return app.test_cli_runner()


@pytest.fixture()
def csrf_app(database_url):
    """Like ``app`` but with CSRF protection on, as in production."""
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    _empty_all_tables(database_url)


@pytest.fixture()
def campaign(app):
    """A small campaign: one committee, two units, three rater groups, one open satisfaction evaluation.

    Returns a dict of ids: campaign, committee, units, evaluation, groups (name → id).
    """
    from evaluation.services import create_evaluation, get_or_create_groups
    from models import Campaign, Unit, UnitKind

    with app.app_context():
        c = Campaign(name="测试活动")
        committee = Unit(campaign=c, code="C1", name="测试党委", kind=UnitKind.COMMITTEE, members=30)
        u1 = Unit(campaign=c, parent=committee, code="U1", name="第一单位", kind=UnitKind.UNIT, members=20)
        u2 = Unit(campaign=c, parent=committee, code="U2", name="第二单位", kind=UnitKind.UNIT, members=10)
        db.session.add_all([c, committee, u1, u2])
        groups = get_or_create_groups(c, ["党员", "群众代表", "服务对象"])
        db.session.commit()
        evaluation = create_evaluation(u1.id, "satisfaction", open_now=True)
        return {"campaign": c.id, "committee": committee.id, "units": [u1.id, u2.id],
                "evaluation": evaluation.id, "groups": {g.name: g.id for g in groups}}


@pytest.fixture()
def issue(app):
    """Issue plain codes: ``issue(evaluation_id, group, n)`` → list of codes."""
    from evaluation.services import issue_codes

    def _issue(evaluation_id: int, group: str = "党员", n: int = 1) -> list[str]:
        with app.app_context():
            return issue_codes(evaluation_id, group, n)

    return _issue


@pytest.fixture()
def scan_dir(app, tmp_path):
    """A private scan directory (issue 16's scanned sheets) of this test's own."""
    path = tmp_path / "scans"
    app.config["SCAN_DIR"] = str(path)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str, workers: int = 4, extra_env: dict | None = None, port: int | None = None):
    """Start gunicorn on ``port`` (default: a free one) against ``database_url``; return (process, base_url).

    The server's log goes to a temporary file (``process.log``), never to an
    unread pipe that could fill up and stall the workers. It runs in its own
    process group, so a fault test can kill -9 master and workers at once.
    """
    port = port or _free_port()
    # Load tests send hundreds of requests from 127.0.0.1; the abuse limits have
    # their own tests, so they are off here unless a test switches them on.
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY=TEST_SECRET, CEPING_RATELIMIT="0",
               CEPING_BALLOT_KEY=TestConfig.BALLOT_KEY)
    env.update(extra_env or {})
    env.pop("TEST_DATABASE_URL", None)
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "60", "--no-control-socket", "app:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )
    proc.log = log
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited: " + server_log(proc)[-2000:])
        try:
            requests.get(base + "/", timeout=1)
            return proc, base
        except (requests.ConnectionError, requests.Timeout):
            # Refused before gunicorn binds; a read timeout while its workers still boot.
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("gunicorn did not start in 30 s")


def server_log(proc) -> str:
    """What a server started by :func:`start_server` has logged so far."""
    proc.log.seek(0)
    return proc.log.read().decode(errors="replace")


def stop_server(proc) -> None:
    """Quick shutdown (SIGINT: workers stop at once), then make sure the process is gone."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.log.close()


@pytest.fixture()
def live_server(app, database_url):
    """A gunicorn server with 4 worker processes on the test database; yields its base URL."""
    proc, base = start_server(database_url)
    yield base
    stop_server(proc)


@pytest.fixture(scope="module")
def module_live_server(database_url):
    """One gunicorn server (4 workers) for a whole test module; yields ``(base_url, read_log)``.

    Starting gunicorn costs seconds, so a module of live tests shares one. Tests
    still request ``app`` (or fixtures built on it) to fill and empty the database.
    """
    proc, base = start_server(database_url)
    yield base, lambda: server_log(proc)
    stop_server(proc)


# --- helpers shared by the issue-2 suite -------------------------------------------------------


@pytest.fixture()
def fresh_database_url(database_url):
    """An empty database with no tables at all, for migration and first-start tests.

    A new SQLite file, or on PostgreSQL a throwaway schema of the test database
    selected through ``search_path`` (dropped afterwards).
    """
    import uuid

    if not database_url.startswith("postgresql"):
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"ceping-fresh-{uuid.uuid4().hex}.sqlite"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    schema = f"fresh_{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in database_url else "?"
    yield f"{database_url}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture()
def answers_for(app):
    """``answers_for(evaluation_id, choice=0, text=None)`` → form data for a complete ballot.

    Every choice item gets the option at index ``choice`` of its scale; the
    free-text items get ``text`` when given.
    """
    from models import Evaluation, ItemKind

    def _answers(evaluation_id: int, choice: int = 0, text: str | None = None) -> dict[str, str]:
        with app.app_context():
            evaluation = db.session.get(Evaluation, evaluation_id)
            data = {}
            for item in evaluation.questionnaire.items:
                if item.kind is ItemKind.TEXT:
                    if text is not None:
                        data[f"item_{item.id}"] = text
                else:
                    data[f"item_{item.id}"] = str(item.scale.options[choice].id)
            return data

    return _answers


@pytest.fixture()
def count_box(app):
    """``count_box(*evaluation_ids)`` → ballots counted: empty their ballot boxes as closing does.

    Submitting seals a ballot; it reaches ``ballot``/``answer`` and the tallies only
    when counted (surveys/box.py). Tests that read stored ballots count first.
    """
    from surveys import box

    def _count(*evaluation_ids: int) -> int:
        with app.app_context():
            return sum(box.close(evaluation_ids).values())

    return _count


@pytest.fixture()
def count_ballots(app):
    """``count_ballots()`` → ballots stored: sealed in the box plus counted (each ballot is exactly one)."""
    from sqlalchemy import func, select

    from models import Ballot, SealedBallot

    def _count() -> int:
        with app.app_context():
            return sum(db.session.scalar(select(func.count()).select_from(m)) for m in (Ballot, SealedBallot))

    return _count


@pytest.fixture()
def count_rows(app):
    """``count_rows(Model, *where)`` → number of rows, read fresh from the database."""
    from sqlalchemy import func, select

    def _count(model, *where) -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

    return _count


@pytest.fixture()
def code_status(app):
    """``code_status(plain_code)`` → the stored CodeStatus of a code (looked up by its keyed hash)."""
    from models import BallotCode
    from surveys.codes import hash_code, normalise_code

    def _status(plain: str):
        with app.app_context():
            row = db.session.get(BallotCode, hash_code(normalise_code(plain), app.config["CODE_KEY"]))
            return None if row is None else row.status

    return _status


# --- external services (issue 5): PostgreSQL and Redis for the multi-server tests ---------------


def services_required() -> bool:
    """True when missing services must fail the run instead of skipping (CI sets CEPING_SERVICES_REQUIRED=1)."""
    return os.environ.get("CEPING_SERVICES_REQUIRED") == "1"


def _unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (CEPING_SERVICES_REQUIRED=1, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def require_postgres(database_url: str) -> str:
    """Skip (or fail, under CEPING_SERVICES_REQUIRED=1) unless the suite runs on a reachable PostgreSQL."""
    if not database_url.startswith("postgresql"):
        # A SQLite run chose its engine: these tests belong to the PostgreSQL run
        # (the second half of .ci/run), so they skip here even in CI.
        pytest.skip("runs on PostgreSQL only: set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test")
    try:
        engine = create_engine(database_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure to connect means "not available"
        _unavailable(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {error.__class__.__name__}")
    return database_url


def require_redis(url: str | None = None) -> str:
    """The Redis URL for multi-server tests (TEST_REDIS_URL, default db 5 on localhost) once it answers PING.

    Skips (or fails, under CEPING_SERVICES_REQUIRED=1) when Redis is not reachable.
    """
    url = url or os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except Exception as error:  # noqa: BLE001
        _unavailable(f"needs Redis at {url} (set TEST_REDIS_URL): {error.__class__.__name__}")
    return url
