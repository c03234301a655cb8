"""Evaluations in bulk: create for all units or a committee (skipping units that have one), open, close, rules.

Built on ``manage_data.build_units`` (30 units over two committees, or 272 for
the size test). Every request goes through the pages as an organiser would.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import event, func, select

from extensions import db
from models import Evaluation, EvaluationStatus, Questionnaire, evaluation_group
from tests.evaluation.html_forms import post_confirmed
from tests.evaluation.manage_data import audit_rows, build_units, login, make_user


@pytest.fixture()
def org(app, client):
    """A campaign of 30 units and a signed-in organiser."""
    data = build_units(app)
    make_user(app, "org")
    login(client, "org")
    return data


def _form(data: dict, **overrides) -> dict:
    form = {"questionnaire": "satisfaction", "scope": "all", "groups": list(data["groups"].values()),
            "threshold": "60", "min_ballots": "8"}
    form.update(overrides)
    return form


def _evaluations(app, campaign_id: int) -> list[Evaluation]:
    with app.app_context():
        return list(db.session.scalars(select(Evaluation).where(Evaluation.campaign_id == campaign_id)
                                       .order_by(Evaluation.unit_id)))


def _create(client, data, **overrides):
    return post_confirmed(client, f"/admin/campaigns/{data['campaign']}/evaluations/new", _form(data, **overrides))


def test_bulk_create_for_every_unit(app, client, org):
    response = _create(client, org)
    assert response.status_code == 302
    evaluations = _evaluations(app, org["campaign"])
    assert sorted(e.unit_id for e in evaluations) == sorted(org["units"])
    assert all(e.status is EvaluationStatus.DRAFT and e.threshold == 0.6 and e.min_ballots == 8 for e in evaluations)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(evaluation_group)) == 30 * 3
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已建立 30 个测评,跳过 0 个" in page
    [entry] = audit_rows(app, "evaluations_create")
    detail = json.loads(entry.detail)
    assert (detail["created"], detail["skipped"], detail["questionnaire"]) == (30, 0, "satisfaction")
    assert entry.username == "org"


def test_units_that_already_have_the_questionnaire_are_skipped(app, client, org):
    from evaluation.services import create_evaluation

    with app.app_context():
        for unit_id in org["units"][:3]:
            create_evaluation(unit_id, "satisfaction")
        create_evaluation(org["units"][3], "meeting")  # another questionnaire does not count
    response = _create(client, org)
    assert "已建立 27 个测评,跳过 3 个" in client.get(response.headers["Location"]).get_data(as_text=True)
    again = _create(client, org)
    assert "已建立 0 个测评,跳过 30 个" in client.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        per_unit = db.session.execute(
            select(Evaluation.unit_id, func.count()).join(Questionnaire)
            .where(Questionnaire.key == "satisfaction").group_by(Evaluation.unit_id)).all()
    assert len(per_unit) == 30 and {n for _, n in per_unit} == {1}


def test_scope_one_committee_and_some_groups(app, client, org):
    committee = org["committees"][1]
    _create(client, org, scope=f"c{committee}", groups=[org["groups"]["党员"]], paper_double_entry="y")
    evaluations = _evaluations(app, org["campaign"])
    assert sorted(e.unit_id for e in evaluations) == sorted(org["by_committee"][committee])
    with app.app_context():
        for e in db.session.scalars(select(Evaluation)):
            assert [g.name for g in e.rater_groups] == ["党员"] and e.paper_double_entry


def test_open_now_with_a_window_in_local_time(app, client, org):
    _create(client, org, open_now="y", opens_at="2026-03-01T09:00", closes_at="2026-03-15T18:00",
            threshold="0.7", min_ballots="5")
    evaluations = _evaluations(app, org["campaign"])
    first = evaluations[0]
    assert all(e.status is EvaluationStatus.OPEN for e in evaluations)
    opens = first.opens_at.replace(tzinfo=first.opens_at.tzinfo or dt.timezone.utc)
    assert opens == dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.timezone.utc)  # 09:00 Beijing time
    assert (first.threshold, first.min_ballots) == (0.7, 5)
    with app.app_context():
        assert db.session.get(Questionnaire, first.questionnaire_id).frozen
    assert len(audit_rows(app, "evaluation_open")) == 1


@pytest.mark.parametrize("overrides, message", [
    ({"opens_at": "2026-03-02T09:00", "closes_at": "2026-03-01T09:00"}, "结束时间须晚于开始时间"),
    ({"threshold": "abc"}, "请输入百分比"),
    ({"threshold": "0"}, "阈值须大于 0"),
    ({"threshold": "150"}, "阈值须大于 0"),
    ({"min_ballots": "0"}, "须为 1 到 100000"),
    ({"min_ballots": "x"}, "请输入整数"),
    ({"groups": []}, "请至少选择一个测评主体"),
    ({"groups": ["999999"]}, "所选项无效"),
    ({"groups": ["abc"]}, "所选项无效"),
    ({"questionnaire": "nope"}, "所选项无效"),
    ({"scope": "c999999"}, "所选项无效"),
    ({"opens_at": "tomorrow"}, "时间格式"),
])
def test_bad_input_is_refused_in_chinese_and_creates_nothing(app, client, org, overrides, message):
    response = _create(client, org, **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _evaluations(app, org["campaign"]) == []
    assert audit_rows(app, "evaluations_create") == []


def test_creating_272_units_is_a_handful_of_statements(app, client):
    """Bulk means bulk: the statement count does not grow with the number of units (no per-row commits)."""
    data = build_units(app, n_units=272, n_committees=14, name="大活动")
    make_user(app, "org")
    login(client, "org")
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

        def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            response = _create(client, data, open_now="y")
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 302
    assert len(_evaluations(app, data["campaign"])) == 272
    assert len(statements) < 40, statements
    assert sum(1 for s in statements if s.lstrip().upper().startswith("INSERT INTO EVALUATION ")) <= 1


def _apply(client, data, **form):
    return post_confirmed(client, f"/admin/campaigns/{data['campaign']}/evaluations/apply", form)


def test_open_and_close_ticked_or_all_of_a_questionnaire(app, client, org):
    _create(client, org)
    ids = [e.id for e in _evaluations(app, org["campaign"])]
    response = _apply(client, org, action="open", ids=ids[:5])
    assert response.status_code == 303
    assert "已开启 5 个测评" in client.get(response.headers["Location"]).get_data(as_text=True)
    statuses = {e.id: e.status for e in _evaluations(app, org["campaign"])}
    assert [statuses[i] for i in ids[:5]] == [EvaluationStatus.OPEN] * 5
    assert set(statuses[i] for i in ids[5:]) == {EvaluationStatus.DRAFT}
    _apply(client, org, action="open", target="key:satisfaction")
    assert {e.status for e in _evaluations(app, org["campaign"])} == {EvaluationStatus.OPEN}
    _apply(client, org, action="close", target="key:satisfaction")
    assert {e.status for e in _evaluations(app, org["campaign"])} == {EvaluationStatus.CLOSED}
    opened = audit_rows(app, "evaluation_open")
    assert [json.loads(a.detail)["count"] for a in opened] == [5, 25]
    assert json.loads(audit_rows(app, "evaluation_close")[0].detail)["count"] == 30


def test_threshold_and_min_ballots_change_is_audited(app, client, org):
    _create(client, org)
    ids = [e.id for e in _evaluations(app, org["campaign"])]
    response = _apply(client, org, action="rules", ids=ids[:2], threshold="70", min_ballots="5",
                      paper_double_entry="on")
    assert "已修改 2 个测评的规则" in client.get(response.headers["Location"]).get_data(as_text=True)
    changed = {e.id: e for e in _evaluations(app, org["campaign"])}
    assert [(changed[i].threshold, changed[i].min_ballots, changed[i].paper_double_entry) for i in ids[:3]] == \
        [(0.7, 5, True), (0.7, 5, True), (0.6, 8, False)]
    [entry] = audit_rows(app, "threshold_change")
    detail = json.loads(entry.detail)
    assert detail["new"] == {"threshold": 0.7, "min_ballots": 5, "paper_double_entry": True}
    assert detail["before"][str(ids[0])] == [0.6, 8, False]


@pytest.mark.parametrize("form, message", [
    ({"action": "open"}, "请先勾选测评"),
    ({"action": "rules", "ids": "FIRST"}, "请填写要修改的阈值"),
    ({"action": "rules", "ids": "FIRST", "threshold": "250"}, "阈值须大于 0"),
    ({"action": "rules", "ids": "FIRST", "threshold": "x"}, "请输入百分比"),
    ({"action": "explode", "ids": "FIRST"}, "所选项无效"),
    ({"action": "open", "ids": "abc"}, "所选测评无效"),
])
def test_bad_apply_requests_flash_a_reason_and_change_nothing(app, client, org, form, message):
    _create(client, org)
    first = _evaluations(app, org["campaign"])[0].id
    form = {k: (first if v == "FIRST" else v) for k, v in form.items()}
    response = _apply(client, org, **form)
    assert response.status_code == 303
    assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    assert {(e.status, e.threshold) for e in _evaluations(app, org["campaign"])} == {(EvaluationStatus.DRAFT, 0.6)}


def test_other_campaigns_evaluations_are_not_touched(app, client, org, campaign):
    _apply(client, org, action="close", ids=[campaign["evaluation"]])
    with app.app_context():
        assert db.session.get(Evaluation, campaign["evaluation"]).status is EvaluationStatus.OPEN


def test_manage_page_lists_and_filters(app, client, org):
    _create(client, org)
    committee = org["committees"][0]
    page = client.get(f"/admin/campaigns/{org['campaign']}/evaluations/manage?committee={committee}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('name="ids"') == len(org["by_committee"][committee]) == 15
    everything = client.get(f"/admin/campaigns/{org['campaign']}/evaluations/manage?committee=junk")
    assert everything.get_data(as_text=True).count('name="ids"') == 30


@pytest.mark.parametrize("role", ["liaison", "viewer"])
def test_only_organisers_manage_evaluations(app, client, role):
    data = build_units(app, n_units=4)
    make_user(app, "someone", role, data["units"][0] if role == "liaison" else None)
    login(client, "someone")
    base = f"/admin/campaigns/{data['campaign']}/evaluations"
    assert client.get(f"{base}/new").status_code == 403
    assert client.post(f"{base}/new", data=_form(data)).status_code == 403
    assert client.get(f"{base}/manage").status_code == 403
    assert client.post(f"{base}/apply", data={"action": "open", "target": "key:satisfaction"}).status_code == 403
    assert _evaluations(app, data["campaign"]) == []


def test_bulk_create_and_apply_state_their_count_before_acting(app, client, org):
    """One click on 建立测评, 开启 or 结束 changes nothing: a page names the count, its button acts."""
    url = f"/admin/campaigns/{org['campaign']}/evaluations/new"
    asked = client.post(url, data=_form(org))
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "为 30 个单位建立" in html and "确认建立 30 个测评" in html
    assert _evaluations(app, org["campaign"]) == []
    _create(client, org)
    ids = [e.id for e in _evaluations(app, org["campaign"])]
    apply_url = f"/admin/campaigns/{org['campaign']}/evaluations/apply"
    html = client.post(apply_url, data={"action": "open", "ids": ids[:9]}).get_data(as_text=True)
    assert "开启 7 个测评?" not in html and "开启 9 个测评?" in html
    html = client.post(apply_url, data={"action": "open", "ids": ids[:7]}).get_data(as_text=True)
    assert "开启 7 个测评?" in html and 'name="confirm" value="7"' in html
    client.post(apply_url, data={"action": "open", "ids": ids[:7], "confirm": "7"})
    html = client.post(apply_url, data={"action": "open", "ids": ids[:9]}).get_data(as_text=True)
    assert "开启 2 个测评?" in html  # only those it would change: 7 of the 9 are open already
    html = client.post(apply_url, data={"action": "close", "target": "key:satisfaction"}).get_data(as_text=True)
    assert "结束 30 个测评?" in html and "确认结束 30 个测评" in html
    assert {e.status for e in _evaluations(app, org["campaign"])} == {EvaluationStatus.OPEN, EvaluationStatus.DRAFT}
    html = client.post(apply_url, data={"action": "rules", "ids": ids[:3], "threshold": "70"}).get_data(as_text=True)
    assert "修改 3 个测评的规则" in html and {e.threshold for e in _evaluations(app, org["campaign"])} == {0.6}
