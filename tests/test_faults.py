"""Faults: kill -9 during voting, the database going away, a read-only or full database.

What must hold every time: a ballot whose submit was acknowledged (303) is
stored; no partial ballot exists; a code is used exactly when its ballot is
stored; tallies equal a recount; the rater sees a clear page, never a trace.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import threading
import time

import pytest
import requests
from conftest import start_server, stop_server
from fuzz_tally import fault_figures  # noqa: F401  (fixture: the kill -9 figures in the summary)
from sqlalchemy import event, text

from app import create_app
from extensions import db

KILL_CYCLES = 5


def _vote(base: str, code: str, data: dict) -> int | None:
    """GET the form (CSRF token), POST the ballot; the status, or None if the server died."""
    try:
        session = requests.Session()
        page = session.post(f"{base}/v", data={"code": code}, timeout=10)
        if page.status_code != 200:
            return page.status_code
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        return session.post(f"{base}/v", data={**(dict(data, csrf_token=token)), "code": code, "ballot": "1"}, allow_redirects=False, timeout=10).status_code
    except requests.RequestException:
        return None


def _check_consistency(app, acknowledged: set[str]) -> dict:
    """Every acknowledged code is used; used codes == sealed + counted ballots (each ballot exactly one of the
    two: never lost, never both); every counted ballot complete; no box row damaged; tallies == recount."""
    from models import BallotCode, CodeStatus
    from surveys.codes import hash_code, normalise_code
    from surveys.tallies import differences

    with app.app_context():
        key = app.config["CODE_KEY"]
        lost = sum(db.session.get(BallotCode, hash_code(normalise_code(code), key)).status is not CodeStatus.USED
                   for code in acknowledged)
        used = db.session.execute(text("SELECT count(*) FROM ballot_code WHERE status = 'used'")).scalar_one()
        counted = db.session.execute(text("SELECT count(*) FROM ballot")).scalar_one()
        sealed = db.session.execute(text("SELECT count(*) FROM ballot_box")).scalar_one()
        damaged = db.session.execute(text("SELECT count(*) FROM ballot_box WHERE damaged")).scalar_one()
        ballots = counted + sealed
        partial = db.session.execute(text(
            "SELECT count(*) FROM ballot b WHERE (SELECT count(*) FROM answer a JOIN item i ON i.id = a.item_id "
            "WHERE a.ballot_id = b.id AND i.kind = 'scale') <> 6")).scalar_one()
        assert lost == 0, f"{lost} acknowledged ballots lost"
        assert used == ballots, "a code was used without its ballot, or a ballot stored without its code"
        assert partial == 0, "a ballot was stored without all its answers"
        assert damaged == 0, "a sealed ballot no longer opens"
        assert differences(db.session) == []
        # A ballot carries no code (secrecy), so a code counted twice shows as more ballots than used codes.
        return {"ballots": ballots, "counted": counted, "sealed": sealed, "acknowledged": len(acknowledged),
                "lost": lost, "double": max(0, ballots - used)}


def test_kill_minus_nine_during_voting_loses_no_acknowledged_ballot(app, campaign, issue, answers_for,
                                                                     database_url, fault_figures):
    evaluation = campaign["evaluation"]
    codes = issue(evaluation, "党员", 300)
    data = answers_for(evaluation, choice=1, text="kill -9 测试")
    acknowledged: set[str] = set()
    lock = threading.Lock()
    queue = list(codes)
    proc, base = start_server(database_url, workers=2)
    port = int(base.rsplit(":", 1)[1])

    stop = threading.Event()

    def worker():
        # Stop at the kill: a worker that kept going would burn the rest of the codes on a dead
        # server in milliseconds and leave the later cycles nothing to vote with.
        while not stop.is_set():
            with lock:
                if not queue:
                    return
                code = queue.pop()
            status = _vote(base, code, data)
            if status == 303:
                with lock:
                    acknowledged.add(code)

    try:
        for cycle in range(KILL_CYCLES):
            stop.clear()
            threads = [threading.Thread(target=worker) for _ in range(6)]
            for t in threads:
                t.start()
            # let ballots flow (a few dozen acknowledged, however loaded the machine; a varying number, so
            # the plug is pulled at different points of a submit), then pull it
            deadline, wanted = time.time() + 30, len(acknowledged) + 20 + 7 * cycle
            while time.time() < deadline and len(acknowledged) < wanted and queue:
                time.sleep(0.2)
            stop.set()
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            for t in threads:
                t.join()
            _check_consistency(app, acknowledged)     # after the crash, before any restart
            proc, base_new = start_server(database_url, workers=2, port=port)
            assert base_new == base
        figures = _check_consistency(app, acknowledged)
        assert figures["acknowledged"] >= KILL_CYCLES * 20, figures  # every cycle had ballots in flight
        assert figures["counted"] > 0 and figures["sealed"] > 0, figures  # kills met both sides of the box
        with app.app_context():  # the close counts what is sealed: nothing lost, nothing twice
            from surveys import box

            box.close([evaluation])
        closed = _check_consistency(app, acknowledged)
        assert (closed["sealed"], closed["counted"]) == (0, figures["ballots"]), closed
        engine = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
        fault_figures(f"{engine}: kill -9 cycles survived", KILL_CYCLES)
        fault_figures(f"{engine}: ballots acknowledged", figures["acknowledged"])
        fault_figures(f"{engine}: acknowledged ballots lost", figures["lost"])
        fault_figures(f"{engine}: codes double-counted", figures["double"])
    finally:
        stop_server(proc)


class _Proxy:
    """A TCP forwarder we can switch off and on: the database "goes away" and comes back."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.listener, self.conns = target, None, []
        self.port = None

    def start(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port or 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        listener = self.listener
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b) -> None:
        try:
            while chunk := a.recv(65536):
                b.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone leaves it listening
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.conns = []


def test_database_unreachable_gives_503_and_recovers_without_restart(app, campaign, issue, answers_for,
                                                                     database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a networked database (PostgreSQL); on SQLite the database is a local file")
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    proxy = _Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    other = create_app({"SQLALCHEMY_DATABASE_URI": proxied})
    client = other.test_client()
    code = issue(campaign["evaluation"], "党员", 1)[0]
    try:
        assert client.post("/v", data={"code": code}, follow_redirects=True).status_code == 200
        proxy.stop()
        down = client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": code, "ballot": "1"})
        assert down.status_code == 503
        assert "数据库暂时无法访问" in down.get_data(as_text=True) or "系统繁忙" in down.get_data(as_text=True)
        assert "Traceback" not in down.get_data(as_text=True)
        proxy.start()                                 # same port: the database is back
        assert client.post("/v", data={"code": code}, follow_redirects=True).status_code == 200
        assert client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": code, "ballot": "1"}).status_code == 303
    finally:
        proxy.stop()
        with other.app_context():
            db.engine.dispose()


def _sqlite_only(database_url: str) -> str:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite file fault (read-only file / full disk); PostgreSQL has its own server-side limits")
    return database_url.removeprefix("sqlite:///")


def _ballot_count(app) -> int:
    with app.app_context():
        return db.session.execute(text("SELECT count(*) FROM ballot")).scalar_one()


def _read_only_url(database_url: str) -> str:
    """The same database opened read-only: a read-only SQLite file, or PostgreSQL read-only transactions."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    sep = "&" if "?" in database_url else "?"
    return f"{database_url}{sep}options=-cdefault_transaction_read_only%3Don"


def test_read_only_database_refuses_ballots_cleanly(app, campaign, issue, answers_for, database_url):
    code = issue(campaign["evaluation"], "党员", 1)[0]
    other = create_app({"SQLALCHEMY_DATABASE_URI": _read_only_url(database_url)})
    client = other.test_client()
    assert client.post("/v", data={"code": code}, follow_redirects=True).status_code == 200
    refused = client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": code, "ballot": "1"})
    assert refused.status_code == 503 and "测评码仍然有效" in refused.get_data(as_text=True)
    with other.app_context():
        db.engine.dispose()
    assert _ballot_count(app) == 0
    assert app.test_client().post("/v", data={**(answers_for(campaign["evaluation"])), "code": code, "ballot": "1"}).status_code == 303


def test_full_disk_refuses_ballots_cleanly(app, campaign, issue, answers_for, database_url):
    path = _sqlite_only(database_url)
    code = issue(campaign["evaluation"], "党员", 1)[0]
    # Earlier tests leave free pages that new rows would reuse; compact the file so
    # that any new ballot must grow it.
    with app.app_context():
        db.engine.dispose()
    import sqlite3

    raw = sqlite3.connect(path)
    raw.execute("VACUUM")
    raw.close()
    other = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with other.app_context():
        @event.listens_for(db.engine, "connect")
        def _no_room(dbapi_connection, _record):
            # SQLite's page cap turns every growth of the file into SQLITE_FULL,
            # exactly what a full disk reports.
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")
    client = other.test_client()
    before = _ballot_count(app)
    text_answer = "很长的意见" * 300   # forces new pages
    codes = [code] + issue(campaign["evaluation"], "党员", 30)
    statuses = [client.post("/v", data={**(answers_for(campaign["evaluation"], text=text_answer)), "code": c, "ballot": "1"}).status_code
                for c in codes]
    assert 503 in statuses and 500 not in statuses
    with other.app_context():
        db.engine.dispose()
    stored = _ballot_count(app) - before
    assert stored == statuses.count(303)
    _check_consistency(app, set())
