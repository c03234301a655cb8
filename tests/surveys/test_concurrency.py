"""One code, one ballot — under concurrent submits from several gunicorn worker processes.

The live server runs the production Config (CSRF on) with 4 workers on the
suite's database (a SQLite file, or PostgreSQL with TEST_DATABASE_URL). Each
rater thread has its own ``requests.Session``: it opens the form, takes its
CSRF token, and then posts.

No 503 is allowed: on SQLite a writer waits for the lock (busy_timeout 30 s)
and on PostgreSQL the losing UPDATEs wait on the row lock, so every request
gets a definite answer (stored, or already used).
"""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from extensions import db
from models import Answer, Ballot, BallotCode, CodeStatus, SealedBallot

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _open_form(base: str, code: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.post(f"{base}/v", data={"code": code}, timeout=30)
    assert page.status_code == 200, page.status_code
    return session, TOKEN.search(page.text).group(1)


def _post(session: requests.Session, base: str, code: str, data: dict, token: str) -> requests.Response:
    return session.post(f"{base}/v", data={**({**data, "csrf_token": token}), "code": code, "ballot": "1"}, allow_redirects=False, timeout=60)


def test_forty_simultaneous_submits_of_one_code_store_one_ballot(module_live_server, campaign, issue, answers_for,
                                                                   count_rows, code_status, count_box):
    live_server, server_log = module_live_server
    code = issue(campaign["evaluation"])[0]
    data = answers_for(campaign["evaluation"], text="同时提交")
    n = 40
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def rater(i: int) -> None:
        try:
            session, token = _open_form(live_server, code)
        except BaseException as error:  # noqa: BLE001 - reported below, and the barrier must not hang
            barrier.abort()
            results[i] = error
            return
        barrier.wait(timeout=60)
        response = _post(session, live_server, code, data, token)
        results[i] = (response.status_code, response.headers.get("Location"), response.text)

    threads = [threading.Thread(target=rater, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(isinstance(r, tuple) for r in results), [r for r in results if not isinstance(r, tuple)][:3]

    statuses = sorted(r[0] for r in results)
    stored = [r for r in results if r[0] == 303]
    assert len(stored) == 1, (statuses, server_log()[-3000:])
    assert stored[0][1].endswith("/thanks")
    assert statuses.count(409) == n - 1, (statuses, server_log()[-3000:])
    for status, _, body in results:
        if status == 409:
            assert "测评码已使用" in body
    assert count_rows(SealedBallot) == 1 and count_rows(Ballot) == 0  # sealed; counted at close
    assert code_status(code) is CodeStatus.USED
    assert count_box(campaign["evaluation"]) == 1
    assert count_rows(Ballot) == 1 and count_rows(SealedBallot) == 0


def test_two_hundred_codes_submitted_concurrently(module_live_server, app, campaign, issue, answers_for, count_rows,
                                                  count_box):
    live_server, server_log = module_live_server
    codes = issue(campaign["evaluation"], "群众代表", 200)
    data = answers_for(campaign["evaluation"], choice=1)

    def rater(code: str) -> tuple[str, int]:
        session = requests.Session()
        page = session.post(f"{live_server}/v", data={"code": code}, timeout=30)
        if page.status_code != 200:
            return "GET", page.status_code
        token = TOKEN.search(page.text).group(1)
        return "POST", _post(session, live_server, code, data, token).status_code

    with ThreadPoolExecutor(max_workers=25) as pool:
        outcomes = list(pool.map(rater, codes))

    assert outcomes == [("POST", 303)] * 200, (sorted(set(outcomes)), server_log()[-3000:])
    # Counted in batches by the requests themselves, concurrently: k = 8 stay sealed, the rest are counted.
    sealed, counted = count_rows(SealedBallot), count_rows(Ballot)
    assert sealed + counted == 200 and 8 <= sealed < 16, (sealed, counted)
    with app.app_context():
        from surveys.tallies import differences

        assert differences(db.session) == []  # tallies equal a recount of what was counted
    assert count_box(campaign["evaluation"]) == sealed
    assert count_rows(Ballot) == 200 and count_rows(SealedBallot) == 0
    assert count_rows(Ballot, Ballot.rater_group_id == campaign["groups"]["群众代表"]) == 200
    assert count_rows(BallotCode, BallotCode.status == CodeStatus.USED) == 200
    assert count_rows(BallotCode, BallotCode.status == CodeStatus.UNUSED) == 0
    assert count_rows(Answer) == 200 * 6  # six rated items each, no half-stored ballot
