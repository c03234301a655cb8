"""Analysis-report review (四不通过): rounds, scores beside the conditions, verdicts, scoping.

The review questionnaire (report_review) has seven scale items, each with options
0 (广/深/准… positive), 1 (较… positive) and 2 (不… negative). Round 1 gets 8 ballots
that all say 征求意见范围"不广" (item 1) and rate everything else positively, so the
scope condition shows 0.0% and is not suggested; round 2 gets 8 ballots all positive.
"""
from __future__ import annotations

import json

from results_data import _submit
from work_data import audit_actions, login, make_accounts, rows, switch

from extensions import db
from models import AnalysisReport, Evaluation, EvaluationStatus

ROUND1 = "第一轮报告:查找问题不够深入 <b>草稿</b>"
ROUND2 = "第二轮报告:广泛征求意见后修改"
SCOPE_NOT_WIDE = [2, 0, 0, 0, 0, 0, 1]
ALL_GOOD = [0, 0, 0, 0, 0, 0, 0]


def _start(client, unit_id, text):
    return client.post(f"/admin/work/units/{unit_id}/reports", data={"text": text, "open_now": "y"})


def _ballots(app, evaluation_id, choices, n=8):
    with app.app_context():
        for _ in range(n):
            _submit(app, evaluation_id, "群众代表", choices, None)
        from surveys import box

        box.close([evaluation_id])  # the review's voting is over: every sealed ballot counted


def _checkbox_checked(html: str, name: str) -> bool:
    tag = html.split(f'name="{name}"')[0].rsplit("<input", 1)[1] + html.split(f'name="{name}"')[1].split(">", 1)[0]
    return "checked" in tag


def test_report_returned_once_then_passed(app, client, campaign, issue):
    ids = make_accounts(app, campaign)
    login(client, "org")
    response = _start(client, ids["u1"], ROUND1)
    assert response.status_code == 302
    [first] = rows(app, AnalysisReport)
    assert response.headers["Location"].endswith(f"/admin/reports/{first.id}")
    assert first.round == 1 and first.verdict == "pending" and first.text == ROUND1
    with app.app_context():
        review = db.session.get(Evaluation, first.evaluation_id)
        assert review.questionnaire.key == "report_review" and review.unit_id == ids["u1"]
        assert review.status is EvaluationStatus.OPEN and review.previous_id is None
    # raters read the report (escaped) on their ballot page
    code = issue(first.evaluation_id, "群众代表", 1)[0]
    ballot = client.post("/v", data={"code": code}, follow_redirects=True).get_data(as_text=True)
    assert "分析检查报告(第 1 轮)" in ballot and "&lt;b&gt;草稿&lt;/b&gt;" in ballot and "<b>草稿</b>" not in ballot
    # a new round is refused while this one awaits its verdict
    assert _start(client, ids["u1"], ROUND2).status_code == 400
    assert len(rows(app, AnalysisReport)) == 1

    _ballots(app, first.evaluation_id, SCOPE_NOT_WIDE)
    page = client.get(f"/admin/reports/{first.id}").get_data(as_text=True)
    # the scores sit beside their condition: scope 0%, problems 100%, both measures items
    scope_row = page.split("征求意见范围广</td>")[1].split("</tr>")[0]
    assert "征求意见范围广不广" in scope_row and 'below">0.0%</td>' in scope_row
    problems_row = page.split("查找突出问题准</td>")[1].split("</tr>")[0]
    assert "突出问题查找准不准" in problems_row and "100.0%" in problems_row
    measures = page.split("科学发展举措实</td>")[1].split("</tbody>")[0]
    assert "整改措施实不实" in measures and "整改措施可行不可行" in measures
    assert not _checkbox_checked(page, "scope") and _checkbox_checked(page, "problems")

    # the organiser follows the scores: scope not met → returned
    verdict = client.post(f"/admin/reports/{first.id}/verdict",
                          data={"problems": "y", "thinking": "y", "measures": "y", "note": "扩大征求意见范围"})
    assert verdict.status_code == 302
    first = rows(app, AnalysisReport, AnalysisReport.id == first.id)[0]
    assert first.verdict == "returned" and first.decided_by is not None and first.decided_at is not None
    assert json.loads(first.conditions) == {"scope": False, "problems": True, "thinking": True, "measures": True,
                                            "note": "扩大征求意见范围"}
    with app.app_context():
        assert db.session.get(Evaluation, first.evaluation_id).status is EvaluationStatus.CLOSED
    # decided once: a second verdict on the same round is refused
    again = client.post(f"/admin/reports/{first.id}/verdict", data={"scope": "y", "problems": "y", "thinking": "y",
                                                                    "measures": "y"}, follow_redirects=True)
    assert "该轮已评定" in again.get_data(as_text=True)
    assert rows(app, AnalysisReport, AnalysisReport.id == first.id)[0].verdict == "returned"

    # round 2: new text, new review evaluation linked to the first
    assert _start(client, ids["u1"], ROUND2).status_code == 302
    second = rows(app, AnalysisReport, AnalysisReport.round == 2)[0]
    assert second.evaluation_id != first.evaluation_id and second.text == ROUND2
    with app.app_context():
        assert db.session.get(Evaluation, second.evaluation_id).previous_id == first.evaluation_id
    _ballots(app, second.evaluation_id, ALL_GOOD)
    page = client.get(f"/admin/reports/{second.id}").get_data(as_text=True)
    assert ">100.0%</td>" in page and ">0.0%</td>" not in page and 'class="num below"' not in page
    assert all(_checkbox_checked(page, key) for key in ("scope", "problems", "thinking", "measures"))
    # the first round can no longer be decided
    old = client.get(f"/admin/reports/{first.id}").get_data(as_text=True)
    assert 'name="scope"' not in old and "未达到" in old and "扩大征求意见范围" in old
    assert client.post(f"/admin/reports/{second.id}/verdict", data={
        "scope": "y", "problems": "y", "thinking": "y", "measures": "y"}).status_code == 302
    assert rows(app, AnalysisReport, AnalysisReport.id == second.id)[0].verdict == "passed"
    # passed ends it: no third round
    refused = _start(client, ids["u1"], "第三轮")
    assert refused.status_code == 400 and "已通过" in refused.get_data(as_text=True)
    assert len(rows(app, AnalysisReport)) == 2
    listing = client.get(f"/admin/work/units/{ids['u1']}/reports").get_data(as_text=True)
    assert "第 1 轮" in listing and "第 2 轮" in listing and "退回修改" in listing and 'badge-passed">通过</span>' in listing
    campaign_list = client.get(f"/admin/campaigns/{ids['campaign']}/reports").get_data(as_text=True)
    assert "第 2 轮" in campaign_list and "第 1 轮" not in campaign_list
    actions = [a for a, _, _ in audit_actions(app)]
    assert actions.count("report_submit") == 2 and actions.count("report_verdict") == 2


def test_any_condition_missed_returns_the_report(app, client, campaign):
    ids = make_accounts(app, campaign)
    login(client, "org")
    _start(client, ids["u1"], ROUND1)
    report = rows(app, AnalysisReport)[0]
    _ballots(app, report.evaluation_id, ALL_GOOD)
    client.post(f"/admin/reports/{report.id}/verdict", data={"scope": "y", "problems": "y", "thinking": "y"})
    assert rows(app, AnalysisReport)[0].verdict == "returned"


def test_verdicts_and_rounds_are_for_organisers_and_scoped(app, client, campaign):
    ids = make_accounts(app, campaign)
    login(client, "org")
    _start(client, ids["u1"], ROUND1)
    report = rows(app, AnalysisReport)[0]
    _ballots(app, report.evaluation_id, SCOPE_NOT_WIDE, n=3)  # too few to judge (min 8)
    switch(client, "l1")
    own = client.get(f"/admin/reports/{report.id}")
    html = own.get_data(as_text=True)
    assert own.status_code == 200 and ROUND1.split("<")[0] in html
    assert "不向联络员显示" in html and "%</td>" not in html
    assert client.post(f"/admin/reports/{report.id}/verdict", data={"scope": "y"}).status_code == 403
    assert _start(client, ids["u1"], ROUND2).status_code == 403
    switch(client, "l2")
    assert client.get(f"/admin/reports/{report.id}").status_code == 404
    assert client.get(f"/admin/work/units/{ids['u1']}/reports").status_code == 404
    switch(client, "org")
    # the organiser sees the figures of the unjudged review
    assert ">0.0%</td>" in client.get(f"/admin/reports/{report.id}").get_data(as_text=True)
    assert rows(app, AnalysisReport)[0].verdict == "pending"


def test_empty_or_oversized_report_text_is_refused(app, client, campaign):
    ids = make_accounts(app, campaign)
    login(client, "org")
    assert _start(client, ids["u1"], "   ").status_code == 400
    assert _start(client, ids["u1"], "字" * 20001).status_code == 400
    assert _start(client, ids["u1"], "报告\x00").status_code == 400
    assert rows(app, AnalysisReport) == [] and len(rows(app, Evaluation)) == 1
    # a long report (well over the app's 64 KiB form limit once encoded) is accepted on this route
    assert _start(client, ids["u1"], "字" * 20000).status_code == 302


def test_long_report_passes_the_raised_limit_with_its_csrf_token_checked(csrf_app, campaign):
    """The report route lifts the 64 KiB body limit for itself, so it checks CSRF in its form."""
    import re

    from results_data import PASSWORD

    from evaluation.services import create_user

    with csrf_app.app_context():
        create_user("org", PASSWORD, "organiser")
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "org", "password": PASSWORD, "csrf_token": token})
    url = f"/admin/work/units/{campaign['units'][0]}/reports"
    text = "报" * 20000  # ~180 KB form-encoded
    assert client.post(url, data={"text": text}).status_code == 400  # no token
    with csrf_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AnalysisReport)) == 0
    assert client.post(url, data={"text": text, "csrf_token": token}).status_code == 302
    # elsewhere the app-wide limit stands
    big = {"project": "x" * 70_000, "csrf_token": token}
    assert client.post(f"/admin/work/units/{campaign['units'][0]}/rectification", data=big).status_code == 413


def test_below_min_ballots_no_verdict_box_is_ticked(app, client, campaign):
    """Five all-positive ballots of eight needed suggest nothing: the organiser ticks what they decide."""
    ids = make_accounts(app, campaign)
    login(client, "org")
    _start(client, ids["u1"], ROUND1)
    [report] = rows(app, AnalysisReport)
    _ballots(app, report.evaluation_id, ALL_GOOD, n=5)
    page = client.get(f"/admin/reports/{report.id}").get_data(as_text=True)
    assert "评议票数不足 8 张" in page
    assert not any(_checkbox_checked(page, key) for key in ("scope", "problems", "thinking", "measures"))
