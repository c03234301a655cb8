"""Issuing states its count and waits for a confirmation; re-printing a lost batch is one audited step.

Every test goes through the organiser's real pages (test client, real database): a click
that has not confirmed the stated number issues nothing, and a re-print voids the lost
slips and shows as many new ones, for the same unit and rater group.
"""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from extensions import db
from models import BallotCode, CodeBatch, CodeStatus, Evaluation, EvaluationStatus
from tests.evaluation.manage_data import audit_rows, login, make_user

CODE = re.compile(r'<p class="slip-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</p>')
SLIP = re.compile(r'<article class="slip">(.*?)</article>', re.S)


@pytest.fixture()
def org(app, client, campaign):
    make_user(app, "org")
    login(client, "org")
    return campaign


def _codes_url(org) -> str:
    return f"/admin/evaluations/{org['evaluation']}/codes"


def test_one_click_issues_nothing_the_count_is_stated_and_confirmed_first(client, org, count_rows):
    page = client.get(_codes_url(org)).get_data(as_text=True)
    count_input = re.search(r'<input[^>]*name="count"[^>]*>', page).group(0)
    assert 'value=""' in count_input or "value=" not in count_input  # no default number to issue
    groups = list(org["groups"].values())
    asked = client.post(_codes_url(org), data={"groups": groups, "count": 20, "output": "slips", "nonce": "a"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and count_rows(BallotCode) == 0 and not CODE.findall(html)
    assert "各发放 20 个测评码,共 60 个" in html and "确认发放 60 个测评码" in html
    assert 'name="confirm" value="60"' in html and "第一单位 · 党员" in html and "data-busy" in html
    # A confirmation of another number (the form changed in between) asks again and issues nothing.
    again = client.post(_codes_url(org), data={"groups": groups, "count": 20, "output": "slips", "nonce": "a",
                                               "confirm": "59"}).get_data(as_text=True)
    assert "数量已变化" in again and 'name="confirm" value="60"' in again and count_rows(BallotCode) == 0
    done = client.post(_codes_url(org), data={"groups": groups, "count": 20, "output": "slips", "nonce": "a",
                                              "confirm": "60"})
    assert done.status_code == 200 and len(CODE.findall(done.get_data(as_text=True))) == 60
    assert count_rows(BallotCode) == 60


def test_the_count_must_be_typed(client, org, count_rows):
    response = client.post(_codes_url(org), data={"groups": [org["groups"]["党员"]], "output": "slips"})
    assert response.status_code == 400 and "请填写数量" in response.get_data(as_text=True)
    assert count_rows(BallotCode) == 0


def test_bulk_issue_states_the_total_over_units(app, client, org, count_rows):
    from evaluation.services import create_evaluation

    with app.app_context():
        create_evaluation(org["units"][1], "satisfaction", ["党员"])
    html = client.post(f"/admin/campaigns/{org['campaign']}/codes", data={
        "questionnaire": "satisfaction", "scope": "all", "groups": [org["groups"]["党员"]], "count": 5,
        "output": "csv"}).get_data(as_text=True)
    assert "2 组" in html and "共 10 个" in html and count_rows(BallotCode) == 0
    assert "data-busy" not in html  # the answer is a download: no running seconds left spinning


def _issue(client, org, n: int) -> list[str]:
    html = client.post(_codes_url(org), data={"groups": [org["groups"]["党员"]], "count": n, "output": "slips",
                                              "confirm": n}).get_data(as_text=True)
    return CODE.findall(html)


def _batch_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(CodeBatch.id).order_by(CodeBatch.id))


def test_reprint_voids_the_unused_and_issues_as_many_as_a_new_batch(app, client, org, answers_for, code_status):
    old = _issue(client, org, 5)
    assert client.post("/v", data={**answers_for(org["evaluation"]), "code": old[0], "ballot": "1"}).status_code < 400
    batch_id = _batch_id(app)
    codes_page = client.get(_codes_url(org)).get_data(as_text=True)
    assert f"/admin/batches/{batch_id}/reprint" in codes_page

    asked = client.post(f"/admin/batches/{batch_id}/reprint").get_data(as_text=True)
    assert f"补印第 {batch_id} 批:作废其中 4 个未使用的测评码" in asked and "第一单位 · 党员" in asked
    assert all(code_status(c) is CodeStatus.UNUSED for c in old[1:])  # asking changed nothing

    response = client.post(f"/admin/batches/{batch_id}/reprint", data={"confirm": "4"})
    html = response.get_data(as_text=True)
    new = CODE.findall(html)
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert len(new) == len(set(new)) == 4 and not set(new) & set(old)
    slips = SLIP.findall(html)
    assert len(slips) == 4 and all("第一单位" in s and "测评主体:党员" in s for s in slips)  # unit and group on each
    assert code_status(old[0]) is CodeStatus.USED  # its ballot stays
    assert all(code_status(c) is CodeStatus.VOID for c in old[1:])
    assert all(code_status(c) is CodeStatus.UNUSED for c in new)
    assert client.post("/v", data={"code": old[1]}, follow_redirects=True).status_code == 410  # the lost slip no longer opens
    with app.app_context():
        batches = db.session.execute(select(CodeBatch.id, CodeBatch.evaluation_id, CodeBatch.rater_group_id,
                                            CodeBatch.count).order_by(CodeBatch.id)).all()
    assert len(batches) == 2 and batches[1][1:] == (org["evaluation"], org["groups"]["党员"], 4)
    [entry] = audit_rows(app, "codes_reprint")
    detail = json.loads(entry.detail)
    assert entry.target == f"batch:{batch_id}" and detail["voided"] == detail["issued"] == 4
    assert detail["new_batch_id"] == batches[1][0]
    assert not any(c in entry.detail or c.replace("-", "") in entry.detail for c in old + new)

    # The same confirmation sent again (Back and resend): refused in words, nothing issued, no 500.
    replay = client.post(f"/admin/batches/{batch_id}/reprint", data={"confirm": "4"}, follow_redirects=True)
    assert replay.status_code == 200 and "没有未使用的测评码,无需补印" in replay.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(CodeBatch)) == 2


def test_reprint_is_refused_for_a_closed_evaluation(app, client, org, code_status):
    old = _issue(client, org, 3)
    with app.app_context():
        db.session.get(Evaluation, org["evaluation"]).status = EvaluationStatus.CLOSED
        db.session.commit()
    response = client.post(f"/admin/batches/{_batch_id(app)}/reprint", data={"confirm": "3"},
                           follow_redirects=True)
    assert response.status_code == 200 and "测评已结束,不能补印" in response.get_data(as_text=True)
    assert all(code_status(c) is CodeStatus.UNUSED for c in old)
    assert "/reprint" not in client.get(_codes_url(org)).get_data(as_text=True)


def test_reprint_is_for_organisers_and_real_batches(app, client, org):
    _issue(client, org, 2)
    assert client.post("/admin/batches/999999/reprint").status_code == 404
    make_user(app, "viewer1", "viewer")
    viewer = app.test_client()
    login(viewer, "viewer1")
    assert viewer.post(f"/admin/batches/{_batch_id(app)}/reprint", data={"confirm": "2"}).status_code == 403


def test_no_confirmation_is_left_to_javascript_alone():
    """Every destructive action asks on a page of its own (confirm.py): no template keeps a data-confirm."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "templates"
    found = [path.name for path in root.rglob("*.html") if "data-confirm" in path.read_text("utf-8")]
    assert found == [], found
