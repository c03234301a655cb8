"""The questionnaire editor: copy, preview, freeze, new versions, audit, and who may use it.

Built on the ``campaign`` fixture, whose satisfaction evaluation is open, so
``satisfaction`` version 1 starts frozen. Editing items and options is in
``test_questionnaire_edits.py``; helpers in ``questionnaire_data.py``.
"""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from evaluation.services import create_evaluation, create_user, open_evaluation
from extensions import db
from models import Ballot, Evaluation, EvaluationStatus, Polarity, Questionnaire
from surveys.catalog import latest

from questionnaire_data import (  # noqa: F401  (organiser is a fixture)
    BASE, audit, copy, ids, items_of, latest_id, organiser, scale_form, snapshot,
)
from results_data import PASSWORD, login


# --- the whole story ------------------------------------------------------------------------------


def test_copy_edit_preview_open_freeze_new_version(app, organiser, campaign):
    client = organiser
    qid = copy(client, "satisfaction", "sat_custom")
    got = ids(app, qid)
    scale_id, option_ids = got["scales"][0]

    # edit an item's text and an option's polarity
    r = client.post(f"{BASE}/{qid}/items/{got['items'][1]}",
                    data={"text": "查找突出问题是否准确", "kind": "scale", "required": "y", "scale": str(scale_id)})
    assert r.status_code == 302
    r = client.post(f"{BASE}/{qid}/scales/{scale_id}", data=scale_form(app, scale_id, {2: {"polarity": "negative"}}))
    assert r.status_code == 302
    edited = items_of(app, qid)
    assert edited[1][2] == "查找突出问题是否准确"
    assert edited[0][4][2] == ("基本满意", "negative")  # shared scale: every item sees it
    assert all(item[4] == edited[0][4] for item in edited if item[1] == "scale")

    # the preview is the rater's page, and it cannot submit
    page = client.get(f"{BASE}/{qid}/preview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "这是测评人看到的测评表" in html and "查找突出问题是否准确" in html and "基本满意" in html
    assert "无记名测评" in html and 'class="option"' in html  # same template and macros as a ballot
    assert 'method="post"' not in html and "/v/" not in html and "csrf_token" not in html
    assert "disabled" in html.split("提交测评票")[0].rsplit("<button", 1)[1]
    assert client.post(f"{BASE}/{qid}/preview").status_code == 405

    # put it to a unit and open the evaluation: the version freezes
    with app.app_context():
        evaluation = create_evaluation(campaign["units"][1], "sat_custom")
        first_id = evaluation.id
        assert evaluation.questionnaire_id == qid
        open_evaluation(evaluation)
        db.session.commit()
    before = snapshot(app)
    v1_items = items_of(app, qid)
    refused = [
        client.post(f"{BASE}/{qid}/meta", data={"title": "新标题", "intro": ""}),
        client.post(f"{BASE}/{qid}/items/{got['items'][0]}", data={"text": "x", "kind": "scale", "required": "y",
                                                                    "scale": str(scale_id)}),
        client.post(f"{BASE}/{qid}/items/new", data={"text": "新题", "kind": "text"}),
        client.post(f"{BASE}/{qid}/items", data={"action": f"delete:{got['items'][0]}"}),
        client.post(f"{BASE}/{qid}/items", data={"action": f"down:{got['items'][0]}"}),
        client.post(f"{BASE}/{qid}/scales/{scale_id}", data=scale_form(app, scale_id, {0: {"polarity": "negative"}})),
        client.post(f"{BASE}/{qid}/scales/{scale_id}",
                    data=scale_form(app, scale_id, action=f"delete:{option_ids[0]}")),
    ]
    for response in refused:
        body = response.get_data(as_text=True)
        assert response.status_code == 409, body[:300]
        assert "已冻结" in body and "新建版本" in body
    assert client.get(f"{BASE}/{qid}/items/{got['items'][0]}").status_code == 409
    assert client.get(f"{BASE}/{qid}/scales/{scale_id}").status_code == 409
    assert snapshot(app) == before

    # a new version: editable, picked up by new evaluations; the first keeps version 1
    r = client.post(f"{BASE}/{qid}/new-version")
    assert r.status_code == 302
    v2 = int(r.headers["Location"].rsplit("/", 1)[1])
    assert v2 != qid and items_of(app, v2) == v1_items
    v2_ids = ids(app, v2)
    r = client.post(f"{BASE}/{v2}/items/{v2_ids['items'][0]}",
                    data={"text": "第二版的总体评价", "kind": "scale", "required": "y", "scale": str(v2_ids["scales"][0][0])})
    assert r.status_code == 302
    with app.app_context():
        second = create_evaluation(campaign["units"][0], "sat_custom")
        picked = second.questionnaire
        assert (picked.key, picked.version, second.questionnaire_id) == ("sat_custom", 2, v2)
        assert db.session.get(Evaluation, first_id).questionnaire_id == qid
    assert items_of(app, qid) == v1_items
    assert items_of(app, v2)[0][2] == "第二版的总体评价"
    assert set(ids(app, qid)["items"]).isdisjoint(ids(app, v2)["items"])

    # every change is in the audit log, and nothing else was recorded for the refused ones
    entries = [e for e in audit(app) if e[0] == "questionnaire_edit"]
    assert [e[2]["what"] for e in entries] == ["copy", "item_edit", "scale_save", "new_version", "item_edit"]
    assert entries[0][1] == f"questionnaire:{qid}" and entries[3][1] == f"questionnaire:{v2}"
    assert entries[0][2]["source_key"] == "satisfaction"


def test_list_shows_versions_counts_and_use(app, organiser, campaign):
    qid = copy(organiser, "meeting", "meeting_x")
    html = organiser.get(BASE).get_data(as_text=True)
    for key in ("satisfaction", "meeting", "report_review", "meeting_x"):
        assert f"<code>{key}</code>" in html
    row = html.split("<code>satisfaction</code>")[1].split("</tr>")[0]
    assert "已冻结" in row and '<td class="num">7</td>' in row and '<td class="num">1</td>' in row
    row = html.split("<code>meeting_x</code>")[1].split("</tr>")[0]
    assert "可修改" in row and '<td class="num">0</td>' in row
    assert f"/admin/questionnaires/{qid}" in html


# --- copies ---------------------------------------------------------------------------------------


def test_copy_is_deep_and_keeps_shared_scales_shared(app, organiser, campaign):
    qid = copy(organiser, "satisfaction", "deep")
    with app.app_context():
        source, copied = latest("satisfaction"), db.session.get(Questionnaire, qid)
        assert (copied.key, copied.version, copied.frozen) == ("deep", 1, False)
        assert source.frozen  # copying a frozen version is allowed
        source_scales = {i.scale_id for i in source.items if i.scale_id}
        copy_scales = {i.scale_id for i in copied.items if i.scale_id}
        assert len(copy_scales) == 1 and copy_scales.isdisjoint(source_scales)
    scale_id = ids(app, qid)["scales"][0][0]
    before = items_of(app, latest_id(app, "satisfaction"))
    r = organiser.post(f"{BASE}/{qid}/scales/{scale_id}",
                       data=scale_form(app, scale_id, {0: {"label": "非常满意"}}))
    assert r.status_code == 302
    assert items_of(app, latest_id(app, "satisfaction")) == before
    assert items_of(app, qid)[0][4][0] == ("非常满意", "positive")


@pytest.mark.parametrize("key, message", [
    ("x" * 61, "最多"),
    ("satisfaction", "已被使用"),
])
def test_copy_key_is_validated(app, organiser, campaign, key, message):
    before = snapshot(app)
    sid = latest_id(app, "satisfaction")
    response = organiser.post(f"{BASE}/{sid}/copy", data={"key": key})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize("missing", ["999999", "2147483648", "99999999999999999999999"])
def test_missing_questionnaire_is_404(organiser, campaign, missing):
    assert organiser.post(f"{BASE}/{missing}/copy", data={"key": "abc"}).status_code == 404
    assert organiser.get(f"{BASE}/{missing}").status_code == 404
    assert organiser.get(f"{BASE}/{missing}/preview").status_code == 404
    assert organiser.post(f"{BASE}/{missing}/new-version").status_code == 404
    assert organiser.post(f"{BASE}/{missing}/items", data={"action": "up:1"}).status_code == 404


# --- frozen ---------------------------------------------------------------------------------------


def test_ballots_or_a_closed_evaluation_freeze_even_without_the_flag(app, organiser, campaign):
    qid = copy(organiser, "meeting", "m7")
    with app.app_context():
        evaluation = create_evaluation(campaign["units"][0], "m7")  # a draft: still editable
        evaluation_id = evaluation.id
    item_id = ids(app, qid)["items"][0]
    assert organiser.post(f"{BASE}/{qid}/items", data={"action": f"down:{item_id}"}).status_code == 302
    with app.app_context():
        db.session.add(Ballot(evaluation_id=evaluation_id, rater_group_id=campaign["groups"]["党员"],
                              submitted_on=dt.date.today()))
        db.session.commit()
        assert db.session.get(Questionnaire, qid).frozen is False
    before = snapshot(app)
    response = organiser.post(f"{BASE}/{qid}/items", data={"action": f"up:{item_id}"})
    assert response.status_code == 409 and "已冻结" in response.get_data(as_text=True)
    assert snapshot(app) == before

    other = copy(organiser, "meeting", "m8")
    with app.app_context():
        evaluation = create_evaluation(campaign["units"][0], "m8")
        evaluation.status = EvaluationStatus.CLOSED
        db.session.commit()
    response = organiser.post(f"{BASE}/{other}/meta", data={"title": "改"})
    assert response.status_code == 409


def test_an_edit_waits_for_an_opening_in_progress(app, organiser, campaign, database_url):
    """PostgreSQL: the edit locks the questionnaire row, so it sees the opening once that commits."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: SQLite serialises writers anyway")
    qid = copy(organiser, "meeting", "race")
    with app.app_context():
        evaluation_id = create_evaluation(campaign["units"][0], "race").id
    item_id = ids(app, qid)["items"][0]
    before = snapshot(app)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("UPDATE evaluation SET status = 'open' WHERE id = :id"), {"id": evaluation_id})
        conn.execute(text("UPDATE questionnaire SET frozen = true WHERE id = :id"), {"id": qid})
        outcome: dict = {}
        editing = threading.Thread(target=lambda: outcome.update(response=organiser.post(
            f"{BASE}/{qid}/items/{item_id}", data={"text": "抢先修改", "kind": "text"})))
        editing.start()
        # Seen, not timed: the edit's backend shows up waiting for a lock while this transaction
        # still holds the row; only then is the opening committed.
        waiting = False
        deadline = time.monotonic() + 30
        with engine.connect() as watcher:
            while not waiting and editing.is_alive() and time.monotonic() < deadline:
                waiting = watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> :me"), {"me": conn.connection.dbapi_connection.info.backend_pid}
                ).scalar() > 0
                time.sleep(0.02)
        transaction.commit()
        editing.join(timeout=30)
    engine.dispose()
    assert waiting, "the edit did not wait for the row the opening holds"
    response = outcome["response"]
    assert response.status_code == 409
    after = snapshot(app)
    assert after[1:] == before[1:] and [q[5] for q in after[0] if q[0] == qid] == [True]


def test_new_version_only_from_a_frozen_version_without_an_editable_successor(app, organiser, campaign):
    sid = latest_id(app, "satisfaction")  # frozen by the campaign's open evaluation
    qid = copy(organiser, "meeting", "m9")
    before = snapshot(app)
    response = organiser.post(f"{BASE}/{qid}/new-version")
    assert response.status_code == 400 and "尚未冻结" in response.get_data(as_text=True)
    assert snapshot(app) == before

    r = organiser.post(f"{BASE}/{sid}/new-version")
    assert r.status_code == 302
    v2 = int(r.headers["Location"].rsplit("/", 1)[1])
    response = organiser.post(f"{BASE}/{sid}/new-version")
    assert response.status_code == 400 and "第 2 版" in response.get_data(as_text=True)
    page = organiser.get(f"{BASE}/{sid}").get_data(as_text=True)
    assert f"/admin/questionnaires/{v2}" in page and "新建版本</button>" not in page
    with app.app_context():
        assert latest("satisfaction").id == v2 and latest("satisfaction").version == 2
        existing = db.session.get(Evaluation, campaign["evaluation"])
        assert existing.questionnaire_id == sid and existing.status is EvaluationStatus.OPEN
        assert create_evaluation(campaign["units"][1], "satisfaction").questionnaire_id == v2
        # the copy is deep here too: version 2 has its own scales
        v1_scales = {i.scale_id for i in db.session.get(Questionnaire, sid).items}
        v2_scales = {i.scale_id for i in db.session.get(Questionnaire, v2).items}
        assert v1_scales.isdisjoint(v2_scales - {None})
        assert db.session.get(Questionnaire, sid).items[0].scale.options[0].polarity is Polarity.POSITIVE


def test_frozen_page_shows_read_only_and_offers_a_new_version(app, organiser, campaign):
    sid = latest_id(app, "satisfaction")
    html = organiser.get(f"{BASE}/{sid}").get_data(as_text=True)
    assert "已冻结" in html and "新建版本</button>" in html
    assert f"/admin/questionnaires/{sid}/meta" not in html and "编辑选项" not in html and "上移" not in html


# --- who may ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "liaison"])
def test_only_organisers_may_edit(app, client, campaign, role):
    with app.app_context():
        sid = latest("satisfaction").id
        item_id = latest("satisfaction").items[0].id
        scale_id = latest("satisfaction").items[0].scale_id
        create_user("someone", PASSWORD, role, campaign["units"][0])
    urls = [
        ("get", BASE), ("get", f"{BASE}/{sid}"), ("get", f"{BASE}/{sid}/preview"), ("get", f"{BASE}/{sid}/copy"),
        ("post", f"{BASE}/{sid}/copy"), ("post", f"{BASE}/{sid}/new-version"), ("post", f"{BASE}/{sid}/meta"),
        ("post", f"{BASE}/{sid}/items"), ("get", f"{BASE}/{sid}/items/new"), ("post", f"{BASE}/{sid}/items/new"),
        ("post", f"{BASE}/{sid}/items/{item_id}"), ("get", f"{BASE}/{sid}/scales/{scale_id}"),
        ("post", f"{BASE}/{sid}/scales/{scale_id}"),
    ]
    for method, url in urls:  # signed out: sent to the sign-in page
        response = getattr(client, method)(url, data={"key": "sneaky"} if method == "post" else None)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    before = snapshot(app)
    login(client, "someone")
    for method, url in urls:
        response = getattr(client, method)(url, data={"key": "sneaky", "action": f"delete:{item_id}"}
                                           if method == "post" else None)
        assert response.status_code == 403, (method, url)
    assert snapshot(app) == before


@pytest.mark.parametrize("typed, made", [
    ("", ["satisfaction-copy", "satisfaction-copy-2"]),
    ("满意度测评 2009 版", ["2009", "2009-2"]),
    ("中文键名", ["satisfaction-copy", "satisfaction-copy-2"]),
    ("Sat Custom", ["sat-custom", "sat-custom-2"]),
    ("a", ["satisfaction-copy", "satisfaction-copy-2"]),
])
def test_copy_needs_no_ascii_key_one_is_made(app, organiser, campaign, typed, made):
    """Blank or Chinese gives the source's key + "-copy"; typed words become a key; never a refusal."""
    sid = latest_id(app, "satisfaction")
    for expected in made:  # the second copy finds the first one's key taken and numbers its own
        response = organiser.post(f"{BASE}/{sid}/copy", data={"key": typed, "title": "副本"})
        assert response.status_code == 302, response.get_data(as_text=True)[:400]
        assert latest_id(app, expected)
        assert f"已复制为 {expected} 第 1 版" in organiser.get(response.headers["Location"]).get_data(as_text=True)
