"""The cached campaign overview (evaluation/results/overview_cache.py): one rule, the campaign's data version.

Each test fills the cache with one GET, changes something the page shows the way the
application changes it (the ballot box counting, an organiser's decision), and checks
that the very next GET shows the change — and that the heatmap table and the turnout
then equal a direct computation: the per-cell filter the template used to run, and the
count of every ``ballot_code`` row. Between two such changes nothing moves, not even
with a ballot submitted (it waits sealed in the box), and no page is served to a viewer
whose filters, scope, role or language differ.
"""
from __future__ import annotations

import math
import re

import pytest
from results_data import login, seed_results
from sqlalchemy import func, select, text

import evaluation.results.overview_cache as overview_cache
from extensions import db


@pytest.fixture()
def computed(monkeypatch):
    """Count the overview computations (memo misses)."""
    calls = []
    real = overview_cache.campaign_overview

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(overview_cache, "campaign_overview", counting)
    return calls


def _page(client, ids, query: str = "") -> str:
    """The page without its CSRF tokens, which carry a timestamp (two views a second apart differ)."""
    response = client.get(f"/admin/campaigns/{ids['campaign']}{query}")
    assert response.status_code == 200
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', response.get_data(as_text=True))


def _view(app, ids, visible=None) -> dict:
    """The overview as the memo serves it now (one request context, the organiser's filters)."""
    with app.test_request_context():
        return overview_cache.cached_overview(ids["campaign"], "satisfaction", visible=visible)


def _direct_turnout(ids: list[int]) -> dict[int, tuple[int, int]]:
    """Issued (not void) and used codes per evaluation, by reading every code (the old query)."""
    from models import BallotCode, CodeStatus

    rows = db.session.execute(
        select(BallotCode.evaluation_id, func.count(),
               func.sum((BallotCode.status == CodeStatus.USED).cast(db.Integer)))
        .where(BallotCode.evaluation_id.in_(ids), BallotCode.status != CodeStatus.VOID)
        .group_by(BallotCode.evaluation_id)).all()
    return {e: (int(issued), int(used)) for e, issued, used in rows}


def _direct_heat(items) -> list[tuple]:
    """The heatmap table as the template computed it: one pandas filter per unit × item."""
    texts = items.drop_duplicates("item_id").sort_values("position")
    table = []
    for ev_id, rows in items.groupby("evaluation_id"):
        cells = []
        for t in texts.itertuples():
            cell = rows[rows.item_id == t.item_id]
            cells.append((cell.iloc[0].rate if len(cell) else None, bool(len(cell) and cell.iloc[0].unsatisfactory)))
        table.append((int(ev_id), rows.iloc[0].unit, cells))
    return table


def _same_rate(a, b) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return a == b


def assert_exact(app, ids) -> dict:
    """The served view's heatmap rows and turnout equal a direct computation from the database."""
    import analysis
    from evaluation.results.frames import campaign_evaluation_ids, load_frames

    view = _view(app, ids)
    with app.app_context():
        evaluation_ids = campaign_evaluation_ids(ids["campaign"], "satisfaction")
        items = analysis.item_results(*load_frames(evaluation_ids).args())
        direct = _direct_heat(items)
        turnout = _direct_turnout(evaluation_ids)
    served = [(r["evaluation_id"], r["unit"], r["cells"]) for r in view["heat_table"]["rows"]]
    assert [(e, u) for e, u, _ in served] == [(e, u) for e, u, _ in direct]
    for (_, _, cells), (_, _, expected) in zip(served, direct):
        assert all(_same_rate(a[0], b[0]) and a[1] == b[1] for a, b in zip(cells, expected, strict=True))
    for unit in view["unit_rows"]:
        assert (int(unit["issued"]), int(unit["used"])) == turnout.get(unit["evaluation_id"], (0, 0))
    return view


def test_the_overview_moves_only_when_a_batch_is_counted(app, client, campaign, issue, answers_for, computed):
    """A sealed ballot changes nothing shown; the count of a batch of k = 8 moves figures and turnout."""
    ids = seed_results(app, campaign)
    codes = issue(ids["b"], "党员", 16)  # issuing codes is a decision of its own: before the first view
    login(client, ids["organiser"])
    first = _page(client, ids)
    assert _page(client, ids) == first and len(computed) == 1  # the second view comes from the cache
    assert sum(u["n_ballots"] for u in _view(app, ids)["unit_rows"]) == 15

    def vote(code):
        assert client.post("/v", data={**answers_for(ids["b"]), "code": code, "ballot": "1"}).status_code == 303

    vote(codes[0])
    assert _page(client, ids) == first and len(computed) == 1  # sealed, not counted: the same page
    for code in codes[1:]:  # the 16th sealed ballot completes 2k: a batch of 8 is counted
        vote(code)
    after = _page(client, ids)
    assert after != first and len(computed) == 2
    view = assert_exact(app, ids)
    assert sum(u["n_ballots"] for u in view["unit_rows"]) == 15 + 8
    assert sum(int(u["used"]) for u in view["unit_rows"]) == 15 + 16


def test_a_threshold_change_shows_at_once(app, client, campaign, computed):
    """An organiser's decision (audited) moves the version in its own transaction."""
    from evaluation.campaigns.bulk import change_rules

    ids = seed_results(app, campaign)
    login(client, ids["organiser"])
    assert "5 项指标中有 3 项低于 60%" in _page(client, ids)
    with app.test_request_context():
        change_rules(ids["campaign"], [ids["a"]], threshold=0.45)
    page = _page(client, ids)
    assert len(computed) == 2
    assert "5 项指标中有 3 项低于 60%" not in page and "没有单位需要补课" in page
    assert_exact(app, ids)


def test_a_makeup_decision_shows_at_once(app, client, campaign, computed):
    ids = seed_results(app, campaign)
    login(client, ids["organiser"])
    assert "补课单位:前后对比" not in _page(client, ids)
    assert client.post(f"/admin/evaluations/{ids['a']}/makeup", data={"confirm": "1"}).status_code == 302
    page = _page(client, ids)
    assert "补课单位:前后对比" in page and "进行中" in page
    assert_exact(app, ids)


def test_turnout_stays_exact_with_a_voided_batch(app, client, campaign, issue, answers_for, computed):
    """Issuing and voiding codes move the version; a voided batch still counts the codes used before."""
    from evaluation.services import void_batch
    from models import CodeBatch

    ids = seed_results(app, campaign)
    login(client, ids["organiser"])
    _page(client, ids)
    codes = issue(ids["a"], "党员", 4)
    assert client.post("/v", data={**(answers_for(ids["a"])), "code": codes[0], "ballot": "1"}).status_code == 303
    with app.app_context():
        batch = db.session.scalar(select(CodeBatch.id).order_by(CodeBatch.id.desc()))
        assert void_batch(batch) == 3
    view = assert_exact(app, ids)
    row = next(u for u in view["unit_rows"] if u["evaluation_id"] == ids["a"])
    assert (int(row["issued"]), int(row["used"])) == (11, 11)  # 10 seeded + the 1 used of the voided 4


def test_rebuilt_tallies_change_the_version(app, client, campaign, computed):
    """Tallies changed outside a ballot, then rebuilt: the rebuild moves the version."""
    from surveys.tallies import rebuild

    ids = seed_results(app, campaign)
    login(client, ids["organiser"])
    with app.app_context():
        db.session.execute(text("UPDATE tally SET n = n + 5 WHERE evaluation_id = :e"), {"e": ids["a"]})
        # the sums by polarity the overview's rates read
        db.session.execute(text("UPDATE polarity_tally SET n_positive = n_positive + 5 WHERE evaluation_id = :e"),
                           {"e": ids["a"]})
        db.session.commit()
    tampered = _page(client, ids)
    with app.app_context():
        rebuild(db.session)
        db.session.commit()
    assert _page(client, ids) != tampered and len(computed) == 2
    assert_exact(app, ids)


def test_a_change_past_the_application_waits_for_the_next_version(app, client, campaign, computed):
    """The rule, stated: a row written straight into the database is shown once the version moves."""
    from models import RaterGroup, bump_data_version, evaluation_group

    ids = seed_results(app, campaign)
    with app.app_context():
        group = RaterGroup(campaign_id=ids["campaign"], name="新加主体")
        db.session.add(group)
        db.session.commit()
        group_id = group.id
    login(client, ids["organiser"])
    first = _page(client, ids)
    with app.app_context():
        db.session.execute(evaluation_group.insert().values(evaluation_id=ids["b"], rater_group_id=group_id))
        db.session.commit()
    assert _page(client, ids) == first and len(computed) == 1
    with app.app_context():
        bump_data_version(db.session, [ids["b"]])
        db.session.commit()
    _page(client, ids)
    assert len(computed) == 2
    assert_exact(app, ids)


def test_filters_scope_role_and_language_each_have_their_own_entry(app, client, campaign, computed):
    """Another filter, scope, role or language is never served a page cached for someone else."""
    from evaluation.services import create_user

    ids = seed_results(app, campaign)
    with app.test_request_context():
        version = overview_cache.data_version(ids["campaign"])
        keys = {overview_cache.cache_key(ids["campaign"], version, "view", "satisfaction", *rest)
                for rest in ((None, None, None, "organiser"), (None, 1, None, "organiser"),
                             (ids["committee"], None, None, "organiser"), (None, None, [ids["unit_b"]], "liaison"),
                             (None, None, None, "viewer"))}
    with app.test_request_context(headers={"Cookie": "ceping_lang=en"}):
        keys.add(overview_cache.cache_key(ids["campaign"], version, "view", "satisfaction", None, None, None,
                                          "organiser"))
    assert len(keys) == 6
    with app.app_context():
        create_user("liaison-b", "correct-horse-1", "liaison", ids["unit_b"])
        create_user("viewer-1", "correct-horse-1", "viewer")
    heat_row_b = "<tr><td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td"
    login(client, ids["organiser"])
    everyone = _page(client, ids)
    assert heat_row_b in everyone and "决定补课并开启第二轮" in everyone
    assert len(computed) == 1
    group = _page(client, ids, f"?group={campaign['groups']['党员']}")
    assert group != everyone and len(computed) == 2  # another filter: computed, not served the unfiltered page
    client.post("/logout")
    login(client, "viewer-1")
    viewer = _page(client, ids)
    assert len(computed) == 3 and "决定补课并开启第二轮" not in viewer  # another role
    client.post("/logout")
    login(client, "liaison-b")
    page = _page(client, ids)
    assert len(computed) == 4
    assert heat_row_b not in page and "alert(1)" in page  # B is listed, its items are not shown


def test_shared_in_redis_and_served_when_redis_is_down(database_url, campaign, app, computed):
    """Two app instances (two servers) share entries in Redis; without Redis the page is still computed."""
    from conftest import require_redis

    from app import create_app

    redis_url = require_redis()
    ids = seed_results(app, campaign)
    servers = [create_app({"SQLALCHEMY_DATABASE_URI": database_url, "CACHE_TYPE": "RedisCache",
                           "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "ceping:test-overview:"})
               for _ in range(2)]
    for server in servers:
        client = server.test_client()
        login(client, ids["organiser"])
        _page(client, ids)
    assert len(computed) == 1
    down = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "CACHE_TYPE": "RedisCache",
                       "CACHE_REDIS_URL": "redis://127.0.0.1:1/0",
                       "CACHE_OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2}})
    client = down.test_client()
    login(client, ids["organiser"])
    assert "5 项指标中有 3 项低于 60%" in _page(client, ids)
    with servers[0].app_context():
        from extensions import cache

        cache.clear()
