"""Two app servers, one PostgreSQL, one Redis: the multi-server setup of docs/deploy.md (issue 5, point 2).

Two gunicorn processes (2 sync workers each) listen on different ports and share
the suite's PostgreSQL database and a Redis database for the limit counters,
with the production configuration: CSRF on, limits on, one trusted proxy
(``X-Forwarded-For`` names the client, as behind a load balancer). Raters often
open the form on one server and post it to the other, as a balancer without
sticky sessions would send them.

Needs PostgreSQL (``TEST_DATABASE_URL``) and Redis (``TEST_REDIS_URL``, default
``redis://127.0.0.1:6379/5``); without them the module is skipped, or fails
when ``CEPING_SERVICES_REQUIRED=1`` (CI).
"""
from __future__ import annotations

import random
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import require_postgres, require_redis, server_log, start_server, stop_server
from extensions import db
from models import Answer, Ballot, BallotCode, CodeStatus, Evaluation, ItemKind, Tally
from surveys.codes import generate_code

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# A guesser's budget of wrong codes, shared by both servers through Redis.
WRONG_CODE_BUDGET = 10


class Servers(list):
    """The base URLs of the running servers, plus the tail of their logs for failure messages."""

    procs: list

    def logs(self) -> str:
        return "\n".join(server_log(proc)[-1500:] for proc in self.procs)


@pytest.fixture(scope="module")
def servers(database_url):
    """Two gunicorn servers (2 workers each) on the same PostgreSQL and Redis; yields their base URLs."""
    require_postgres(database_url)
    redis_url = require_redis()
    env = {
        "REDIS_URL": redis_url,
        "CEPING_RATELIMIT": "1",
        "CEPING_PROXY_COUNT": "1",
        "CEPING_CODE_FAILURES_PER_ADDRESS": f"{WRONG_CODE_BUDGET} per hour",
        # Each run's guesser uses a fresh address, so counters left by earlier runs never
        # interfere; the site-wide budget is raised so only the per-address one applies here.
        "CEPING_CODE_FAILURES_GLOBAL": "1000000 per hour",
        # The load tests send everything from 127.0.0.1: lift the plain request rate limit.
        "CEPING_CODE_REQUESTS_PER_ADDRESS": "1000000 per hour",
    }
    procs = []
    try:
        # Both start at once: booting gunicorn and importing the app takes seconds.
        with ThreadPoolExecutor(max_workers=2) as pool:
            starting = [pool.submit(start_server, database_url, 2, env) for _ in range(2)]
            for future in starting:
                try:
                    procs.append(future.result())
                except Exception:  # noqa: BLE001 - the finally below stops the other one
                    pass
        if len(procs) < 2:
            raise RuntimeError("a gunicorn server did not start")
        running = Servers(base for _, base in procs)
        running.procs = [proc for proc, _ in procs]
        yield running
    finally:
        for proc, _ in procs:
            stop_server(proc)


@pytest.fixture()
def campaign20(app):
    """A campaign of 20 units, each with an open satisfaction evaluation for 3 rater groups."""
    from evaluation.services import create_evaluation, get_or_create_groups
    from models import Campaign, Unit, UnitKind

    with app.app_context():
        c = Campaign(name="两台服务器")
        committee = Unit(campaign=c, code="C", name="党委", kind=UnitKind.COMMITTEE, members=0)
        units = [Unit(campaign=c, parent=committee, code=f"U{i}", name=f"单位{i}", kind=UnitKind.UNIT, members=50)
                 for i in range(20)]
        db.session.add_all([c, committee, *units])
        get_or_create_groups(c, ["党员", "群众代表", "服务对象"])
        db.session.commit()
        ids = [create_evaluation(u.id, "satisfaction", open_now=True).id for u in units]
        return ids


def _scale_items(app, evaluation_id: int) -> list[tuple[int, list[int]]]:
    """(item id, option ids) of the scale items of an evaluation's questionnaire."""
    with app.app_context():
        evaluation = db.session.get(Evaluation, evaluation_id)
        return [(item.id, [o.id for o in item.scale.options])
                for item in evaluation.questionnaire.items if item.kind is ItemKind.SCALE]


def _open_form(base: str, code: str, headers: dict | None = None) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.post(f"{base}/v", data={"code": code}, headers=headers, timeout=60)
    assert page.status_code == 200, (page.status_code, page.text[:300])
    return session, TOKEN.search(page.text).group(1)


def test_one_code_submitted_100_times_over_two_servers_stores_one_ballot(servers, app, campaign20, issue,
                                                                          answers_for, count_rows, code_status, count_ballots,
                                                                          count_box):
    evaluation_id = campaign20[0]
    code = issue(evaluation_id, "党员", 1)[0]
    data = answers_for(evaluation_id, text="两台服务器同时提交")
    n = 100
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def rater(i: int) -> None:
        base = servers[i % 2]
        try:
            session, token = _open_form(base, code)
        except BaseException as error:  # noqa: BLE001 - reported below; the barrier must not hang
            barrier.abort()
            results[i] = error
            return
        try:
            barrier.wait(timeout=120)
            response = session.post(f"{base}/v", data={**({**data, "csrf_token": token}), "code": code, "ballot": "1"}, allow_redirects=False, timeout=120)
            results[i] = (response.status_code, response.text)
        except BaseException as error:  # noqa: BLE001
            results[i] = error

    threads = [threading.Thread(target=rater, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    errors = [r for r in results if not isinstance(r, tuple)]
    assert not errors, errors[:3]
    statuses = Counter(r[0] for r in results)
    assert statuses == {303: 1, 409: n - 1}, (statuses, servers.logs())
    assert all("测评码已使用" in body for status, body in results if status == 409)
    assert count_ballots() == 1
    assert count_box(evaluation_id) == 1  # counted at closing, as the organiser's 开箱 does
    assert count_rows(Answer, Answer.text.is_not(None)) == 1
    assert code_status(code) is CodeStatus.USED


def test_1000_codes_over_two_servers_store_1000_ballots_and_tallies_equal_a_recount(
        servers, app, campaign20, issue, count_rows, count_ballots, count_box):
    from surveys.tallies import differences

    # ~17 codes per evaluation × group: 20 evaluations × 3 groups, as in a real campaign.
    groups = ["党员", "群众代表", "服务对象"]
    cells = [(e, g) for e in campaign20 for g in groups]
    per_cell = [1000 // len(cells) + (1 if i < 1000 % len(cells) else 0) for i in range(len(cells))]
    jobs = []
    for (evaluation_id, group), k in zip(cells, per_cell):
        jobs += [(evaluation_id, group, code) for code in issue(evaluation_id, group, k)]
    assert len(jobs) == 1000
    random.Random(5).shuffle(jobs)
    items = {e: _scale_items(app, e) for e in campaign20}
    rng = random.Random(7)
    # What each rater will answer, decided up front so the expected counts are known.
    choices = [[(item, rng.choice(options)) for item, options in items[e]] for e, _, _ in jobs]

    local = threading.local()

    def rater(i: int) -> tuple:
        _evaluation_id, _group, code = jobs[i]
        try:
            # One browser session per client thread: its CSRF token, from one server, is
            # accepted by the other (shared SECRET_KEY; no sticky sessions needed).
            if not hasattr(local, "session"):
                local.session, local.token = _open_form(servers[i % 2], code)
            data = {f"item_{item}": str(option) for item, option in choices[i]}
            response = local.session.post(f"{servers[(i + 1) % 2]}/v", data={**({**data, "csrf_token": local.token}), "code": code, "ballot": "1"}, allow_redirects=False, timeout=120)
            return response.status_code, None
        except Exception as error:  # noqa: BLE001
            return "error", repr(error)

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(rater, range(len(jobs))))

    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {303: 1000}, (statuses, [o for o in outcomes if o[0] != 303][:3], servers.logs())
    assert count_ballots() == 1000
    assert count_rows(BallotCode, BallotCode.status == CodeStatus.USED) == 1000
    count_box(*campaign20)  # what the servers had not yet counted in their batches
    assert count_ballots() == 1000
    assert count_rows(Answer) == 1000 * 6
    expected = Counter()
    for (evaluation_id, group, _), picked in zip(jobs, choices):
        for item, option in picked:
            expected[(evaluation_id, group, item, option)] += 1
    with app.app_context():
        assert differences(db.session) == []
        from models import RaterGroup

        names = {g.id: g.name for g in db.session.scalars(db.select(RaterGroup))}
        tallied = Counter({(t.evaluation_id, names[t.rater_group_id], t.item_id, t.option_id): t.n
                           for t in db.session.scalars(db.select(Tally)) if t.n})
    assert tallied == expected


def test_code_guesser_alternating_between_servers_meets_one_shared_budget(servers, app, campaign20, issue):
    good = issue(campaign20[1], "党员", 1)[0]
    # A fresh client address per run (behind the trusted proxy), so earlier runs' counters never count.
    guesser = {"X-Forwarded-For": f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"}
    statuses = []
    for i in range(WRONG_CODE_BUDGET + 4):
        response = requests.post(f"{servers[i % 2]}/v", data={"code": generate_code()}, headers=guesser, timeout=30)
        statuses.append(response.status_code)
    # Counted together: cut off after the shared budget, not after twice it (one budget per server).
    assert statuses == [404] * WRONG_CODE_BUDGET + [429] * 4, (statuses, servers.logs())
    for base in servers:
        blocked = requests.post(f"{base}/v", data={"code": good}, headers=guesser, timeout=30)
        assert blocked.status_code == 429, blocked.status_code
        assert "操作过于频繁" in blocked.text
    # Another address is not affected, on either server, and the good code still opens.
    other = {"X-Forwarded-For": "198.51.100." + str(random.randrange(1, 255))}
    for base in servers:
        assert requests.post(f"{base}/v", data={"code": good}, headers=other, timeout=30).status_code == 200


def test_ballot_pages_stay_up_when_redis_is_down(database_url, campaign, issue, answers_for, count_rows, count_ballots):
    """Redis is shared state the servers cannot vote without: if it goes away, raters are still served.

    Limits fall back to per-process memory counters (still enforced), the guard logs
    and lets requests through; no page answers 500. Needs no services: nothing
    listens on the port used here.
    """
    from app import create_app

    application = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True, "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0", "CODE_REQUESTS_PER_ADDRESS": "5 per minute",
    })
    assert application.config["RATELIMIT_SWALLOW_ERRORS"] and application.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"]
    code = issue(campaign["evaluation"], "党员", 1)[0]
    client = application.test_client()
    assert client.post("/v", data={"code": code}, follow_redirects=True).status_code == 200
    assert client.post("/v", data={"code": generate_code()}, follow_redirects=True).status_code == 404  # a wrong code: not counted, not a 500
    response = client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": code, "ballot": "1"})
    assert response.status_code == 303
    assert count_ballots() == 1
    # The per-address request limit still holds, counted in this process's memory meanwhile.
    statuses = [client.post("/v", data={"code": code}, follow_redirects=True).status_code for _ in range(5)]
    assert 429 in statuses and 500 not in statuses, statuses
    with application.app_context():
        db.engine.dispose()
