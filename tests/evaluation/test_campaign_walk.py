"""Issue 8's "Done when", walked through HTTP on the demo campaign as a new organiser would.

The demo (``build_demo``) already walks through the three stages; on top of it, in the
order the campaign runs: a party member takes the learning test with a code and the
results page counts the score; the public sends a suggestion that the unit's liaison
approves, and the unit page counts it; a unit's analysis report is returned once (a
new round appears) and then passed; rectification items are tracked to done and the
public commitments page shows them; a flagged unit is sent to make up, rectifies,
is re-evaluated and passes, and the overview says so; the progress chart counts a
step marked done. CSRF is on and every POST fills in the form the page offers.
"""
from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import urlsplit

import pytest
from html_forms import confirm_step, form_with, forms, open_link

from extensions import db
from models import Evaluation, ItemKind, Unit

PASSWORD = "walk-password-8"


def page(client, url: str, status: int = 200) -> str:
    """GET ``url`` and return its text, checking the status."""
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def post(client, url: str, data, status: int = 302):
    """POST a form and check the status (a redirect unless told)."""
    response = client.post(url, data=data)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:800])
    return response


def sign_in(app, username: str):
    """A fresh browser signed in through the sign-in form."""
    client = app.test_client()
    form = form_with(page(client, "/login"), "/login", fields=("username", "password"))
    post(client, "/login", form.data(username=username, password=PASSWORD))
    return client


def issue_codes(org, evaluation_id: int, count: int) -> list[str]:
    """Issue ``count`` codes per rater group on the evaluation's codes page (CSV button); their links."""
    url = f"/admin/evaluations/{evaluation_id}/codes"
    form = form_with(page(org, url), url, fields=("groups", "count", "nonce"))
    asked = post(org, url, form.data(button=("output", "csv"), count=str(count)), status=200).get_data(as_text=True)
    text = confirm_step(org, asked, url, count * len(form.data().getlist("groups"))).get_data(as_text=True)
    return [row["url"] for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]


def vote(app, link: str, **answers) -> None:
    """A phone opens a code's link and submits: ``answers`` by field name, other choice items their first option."""
    phone = app.test_client()
    form = form_with(open_link(phone, link), "/v", action="/v")
    first = {n: form.choices(n)[0] for n in form.names() if n.startswith("item_") and form.choices(n)}
    post(phone, "/v", form.data(**{**first, **answers}), status=303)


def number(pattern: str, html: str) -> int:
    """The integer the first group of ``pattern`` finds in the page."""
    match = re.search(pattern, html)
    assert match, pattern
    return int(match.group(1))


@pytest.fixture()
def demo(csrf_app):
    """The demo campaign, an organiser ``org`` and a liaison ``l5`` of unit U005; ids by unit code."""
    from evaluation.demo.campaign import build_demo
    from evaluation.services import create_user

    with csrf_app.app_context():
        summary = build_demo()
        units = {code: id_ for code, id_ in db.session.execute(
            db.select(Unit.code, Unit.id).where(Unit.campaign_id == summary.campaign_id))}
        create_user("org", PASSWORD, "organiser")
        create_user("l5", PASSWORD, "liaison", units["U005"])
    return {"campaign": summary.campaign_id, "units": units}


def test_the_demo_campaign_walks_through_all_three_stages(csrf_app, demo):
    app, campaign_id, units = csrf_app, demo["campaign"], demo["units"]
    org = sign_in(app, "org")
    assert f'href="/admin/campaigns/{campaign_id}"' in page(org, "/admin/")
    take_the_learning_test(app, org, campaign_id)
    moderate_a_suggestion(app, campaign_id, units["U005"])
    return_a_report_then_pass_it(app, org, campaign_id, units["U010"])
    unit_id = make_up_and_pass(app, org, campaign_id)
    mark_a_step_done(org, campaign_id, unit_id)


def take_the_learning_test(app, org, campaign_id: int) -> None:
    """One more member takes a unit's learning test with full marks; the results page counts it."""
    listing = page(org, f"/admin/campaigns/{campaign_id}/quiz")
    evaluation_id = int(re.search(r'href="/admin/evaluations/(\d+)/quiz"', listing).group(1))
    results_url = f"/admin/evaluations/{evaluation_id}/quiz"
    before = page(org, results_url)
    taken, passed = number(r"<strong>(\d+)</strong> 人参加", before), number(r"及格 <strong>(\d+)</strong>", before)
    with app.app_context():  # the answer key, as the organiser's printed key would have it
        items = db.session.get(Evaluation, evaluation_id).questionnaire.items
        key = {f"item_{i.id}": json.loads(i.accepted)[0] if i.kind is ItemKind.FILL
               else [str(o.id) for o in i.scale.options if o.correct] for i in items
               if i.kind in (ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.FILL)}
    [link] = issue_codes(org, evaluation_id, 1)
    vote(app, link, **key)
    assert number(r"<strong>(\d+)</strong> 人参加", page(org, results_url)) == taken  # sealed, not counted yet
    with app.app_context():  # the test is over: closing counts every sealed sheet
        from surveys import box

        box.close([evaluation_id])
    after = page(org, results_url)
    assert number(r"<strong>(\d+)</strong> 人参加", after) == taken + 1
    assert number(r"及格 <strong>(\d+)</strong>", after) == passed + 1
    assert "fig-quiz-items" in after  # the hardest-questions chart


def moderate_a_suggestion(app, campaign_id: int, unit_id: int) -> None:
    """Someone suggests at /s/<unit>; the unit's liaison approves it; the unit page counts and lists it."""
    text = "建议社区服务中心周末也开放半天。"
    liaison = sign_in(app, "l5")
    unit_page = f"/admin/work/units/{unit_id}"
    counts = r"共 (\d+) 条:已采纳 (\d+)"
    total, approved = map(int, re.search(counts, page(liaison, unit_page)).groups())
    public = app.test_client()
    form = form_with(page(public, f"/s/{unit_id}"), f"/s/{unit_id}", fields=("category", "text"))
    post(public, f"/s/{unit_id}", form.data(category=form.choices("category")[1], text=text))
    url = f"/admin/campaigns/{campaign_id}/suggestions?unit={unit_id}&status=pending"
    listing = page(liaison, url)
    row = listing[listing.index(text):]
    action = re.search(r'action="(/admin/suggestions/\d+/moderate)"', row).group(1)
    approve = [f for f in forms(listing, url) if f.action == action and ("status", "approved") in _hidden(f)]
    post(liaison, action, approve[0].data())
    html = page(liaison, unit_page)
    assert tuple(map(int, re.search(counts, html).groups())) == (total + 1, approved + 1) and text in html


def _hidden(form) -> set[tuple[str, str]]:
    return {(c.name, c.value) for c in form.controls if c.type == "hidden"}


def return_a_report_then_pass_it(app, org, campaign_id: int, unit_id: int) -> None:
    """Round 1 is rated, returned for its narrow opinion scope; round 2 (a new review) passes."""
    url = f"/admin/work/units/{unit_id}/reports"
    for round_no, met in ((1, ("problems", "thinking", "measures")), (2, ("scope", "problems", "thinking", "measures"))):
        # Round 2's form is offered only because round 1 was returned.
        form = form_with(page(org, url), url, action=url, fields=("text", "open_now"))
        report_url = post(org, url, form.data(text=f"第{round_no}稿:一、征求意见情况 二、突出问题 三、整改措施")) \
            .headers["Location"]
        html = page(org, report_url)
        review_id = int(re.search(r'href="/admin/evaluations/(\d+)"', html).group(1))
        for path in issue_codes(org, review_id, 1):  # one rater of each group
            assert f"第{round_no}稿" in open_link(app.test_client(), path)  # raters read the report on the ballot
            vote(app, path)
        verdict = form_with(page(org, report_url), report_url, action="/verdict", fields=("scope", "note"))
        data = verdict.data(note="" if round_no == 2 else "征求意见范围不广")
        for key in ("scope", "problems", "thinking", "measures"):
            data.poplist(key)
            if key in met:
                data.add(key, "y")
        post(org, report_url + "/verdict", data)
    rounds = page(org, url)
    assert re.findall(r'class="badge badge-(\w+)"', rounds) == ["returned", "passed"]
    assert "报告已通过" in rounds and 'action="' + url not in rounds  # no third round offered
    with app.app_context():
        reviews = db.session.scalars(db.select(Evaluation).where(Evaluation.unit_id == unit_id,
                                                                 Evaluation.previous_id.is_not(None))).all()
        assert len(reviews) == 1 and reviews[0].questionnaire.key == "report_review"  # round 2 follows round 1
    assert re.search(r"第 1 轮</a>.*?badge-passed", page(org, f"/admin/campaigns/{campaign_id}/reports"), re.S)


def make_up_and_pass(app, org, campaign_id: int) -> int:
    """The organiser decides make-up for a flagged unit; its items are done; its second round passes."""
    overview_url = f"/admin/campaigns/{campaign_id}"
    overview = page(org, overview_url)
    choice = overview.split('name="questionnaire"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]+)"', choice) == ["satisfaction"]  # no quiz, no report review
    section = overview.split("补课单位:前后对比")[1].split("</table>")[0]
    assert section.count(">已通过<") == 1  # the demo's own make-up unit
    action = re.search(r'action="(/admin/evaluations/(\d+)/makeup)"', overview)
    first_round = int(action.group(2))
    form = form_with(overview, overview_url, action=action.group(1))
    asked = org.post(action.group(1), data=form.data())  # a second round cannot be undone: first it asks
    assert asked.status_code == 200 and "补课,并开启第二轮测评?" in asked.get_data(as_text=True)
    form = form_with(asked.get_data(as_text=True), action.group(1), action=action.group(1), fields=("confirm",))
    second_round = int(re.search(r"/admin/evaluations/(\d+)", post(org, action.group(1), form.data())
                                 .headers["Location"]).group(1))
    with app.app_context():
        unit_id = db.session.get(Evaluation, first_round).unit_id
    rect_url = f"/admin/work/units/{unit_id}/rectification"
    form = form_with(page(org, rect_url), rect_url, action=rect_url, fields=("project", "makeup_id"))
    post(org, rect_url, form.data(project="开通群众诉求热线", goal="诉求件件有回音", deadline="2009-01-31",
                                  measures="专人接听、限时回复", responsible="支部书记", commitment="一个月内开通",
                                  category="immediate", status="in_progress"))
    html = page(org, rect_url)
    assert 'class="overdue"' in html and "已逾期" in html  # past its deadline and not done
    item_url = re.search(r'href="(/admin/rectification/\d+)"', html).group(1)
    form = form_with(page(org, item_url), item_url, action=item_url, fields=("status",))
    post(org, item_url, form.data(status="done"))
    public = page(app.test_client(), f"/c/{unit_id}")
    assert "开通群众诉求热线" in public and "一个月内开通" in public and "badge-done" in public
    assert "badge-overdue" not in public.split("开通群众诉求热线")[1].split("</tr>")[0]
    for path in issue_codes(org, second_round, 3):  # 3 per group: 9 ballots, enough to be judged
        vote(app, path)
    with app.app_context():  # the second round's voting is over: closing counts every sealed ballot
        from surveys import box

        box.close([second_round])
    section = page(org, overview_url).split("补课单位:前后对比")[1].split("</table>")[0]
    row = section.split(f'href="/admin/evaluations/{second_round}"')[1].split("</tr>")[0]
    assert ">已通过<" in row and "1 / 1" in row and section.count(">已通过<") == 2
    return unit_id


def mark_a_step_done(org, campaign_id: int, unit_id: int) -> None:
    """The progress chart shows the six steps; a step the unit marks done is counted in it."""
    stages_url = f"/admin/campaigns/{campaign_id}/stages"

    def totals() -> list[int]:
        html = page(org, stages_url)
        assert 'data-target="fig-progress"' in html
        for name in ("学习调研", "分析检查", "整改落实", "认真组织学习", "集中解决突出问题"):
            assert name in html
        total = html.split('class="total"')[1].split("</tr>")[0]
        return [int(n) for n in re.findall(r'data-key="[^"]*">(\d+)/', total)]

    before = totals()
    url = f"/admin/work/units/{unit_id}/steps"
    steps = page(org, url)
    todo = [f for f in forms(steps, url) if "/steps/" in f.action and "undo" not in f.names()]
    assert todo, "the unit has done every step already"
    post(org, todo[0].action, todo[0].data())
    after = totals()
    assert sum(after) == sum(before) + 1 and len(after) == len(before) >= 6
