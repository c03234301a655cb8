"""docs/security.md holds to its word: every test it names exists, and the claims no other test covers.

The threat model names, for each claim, the test that checks it; the first test
here fails when a named test is renamed or removed. The others check what the
document says about logs (no request paths, no SQL parameters) and where codes
come from.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy.exc import IntegrityError

from extensions import db

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"


def named_tests() -> list[tuple[str, str | None]]:
    """(file under tests/, test name or None) for every test reference in docs/security.md.

    A reference is a code span holding ``path.py``, ``path.py::test_name`` or
    ``::test_name`` (same file as the reference before it), several separated by commas.
    """
    found, last = [], None
    for span in re.findall(r"`([^`]+)`", DOC.read_text(encoding="utf-8")):
        for part in (p.strip() for p in span.split(",")):
            match = re.fullmatch(r"((?:[\w/]+/)?test_\w+\.py)?(?:::(test_\w+))?", part)
            if not match or not (match.group(1) or match.group(2)):
                continue
            last = match.group(1) or last
            assert last, f"{part!r} names a test before naming its file"
            found.append((last, match.group(2)))
    return found


def test_every_test_named_in_security_md_exists():
    refs = named_tests()
    assert len(refs) > 60
    missing = []
    for path, name in refs:
        source = ROOT / "tests" / path
        if not source.exists() or (name and not re.search(rf"^def {name}\(", source.read_text(encoding="utf-8"),
                                                          re.M)):
            missing.append(f"{path}::{name}" if name else path)
    assert not missing, missing


def test_access_log_records_no_path_query_referer_or_address(tmp_path, database_url):
    """The rater URL /v/<code> carries the code: the log gunicorn writes holds no path, query, referer or address.

    Reads the access log of a real gunicorn started with gunicorn.conf.py, as the README runs it.
    """
    from conftest import _free_port

    log = tmp_path / "access.log"
    port = _free_port()
    # One worker with two threads: the log format is under test, not the process count, and a light
    # server starts and stops in time on a loaded CI machine.
    env = dict(os.environ, DATABASE_URL=database_url, CEPING_ACCESS_LOG=str(log), CEPING_BIND=f"127.0.0.1:{port}",
               CEPING_BALLOT_KEY="access-log-ballot-key", SECRET_KEY="access-log-secret-key",
               CEPING_WORKERS="1", CEPING_THREADS="2")
    for name in ("TEST_DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                             "--no-control-socket", "app:create_app()"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    code = "K7QX-M3PD-9TWR"
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                requests.get(f"{base}/thanks", timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline and proc.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
        requests.get(f"{base}/v/{code}?again={code}", headers={"Referer": f"{base}/v#{code}"},
                     allow_redirects=False, timeout=10)
        requests.post(f"{base}/v", data={"code": code}, timeout=10)
    finally:
        # SIGTERM: gunicorn's graceful stop, which finishes and logs the requests in hand. A worker that
        # lingers past that (seen once on a loaded CI machine) is killed; the lines are written by then.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    written = log.read_text(encoding="utf-8")
    assert written.count("\n") >= 3 and '"GET" 303' in written and '"POST" 404' in written, written
    for secret in (code, code.replace("-", ""), "/v", "127.0.0.1", "again", "Referer", "python-requests"):
        assert secret not in written, (secret, written)


def test_a_failed_insert_never_shows_its_parameters(app):
    """hide_parameters: an error (and so any log line it becomes) names the statement, not the values.

    The answer's text is not part of the violated key, so neither SQLAlchemy nor the
    database's own error detail may carry it (PostgreSQL's detail does name the values
    of a violated key: docs/security.md §8).
    """
    from models import Answer

    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    secret = "ANSWER-THAT-MUST-NOT-BE-LOGGED"
    with app.app_context():
        db.session.add(Answer(ballot_id="no-such-ballot", item_id=2**31 - 1, seq=0, text=secret))
        with pytest.raises(IntegrityError) as failure:
            db.session.commit()  # both foreign keys point nowhere
        db.session.rollback()
    assert secret not in str(failure.value) and "parameters hidden" in str(failure.value)


def test_codes_come_from_the_operating_systems_csprng(monkeypatch):
    import secrets

    from surveys import codes

    assert codes.secrets is secrets
    monkeypatch.setattr(secrets, "choice", lambda alphabet: alphabet[-1])
    assert codes.generate_code() == codes.ALPHABET[-1] * codes.LENGTH
