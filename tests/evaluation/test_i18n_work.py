"""The campaign-work and learning-test pages in English (issue 7, point 5): no Chinese UI text is left.

Learning-test results (campaign and one unit), the work hub, stages and the progress
chart, a unit's steps and look-back checklists, suggestions moderation, analysis
reports (list, a unit's rounds, one round's verdict page) and rectification (campaign,
unit, edit, with the make-up section) are rendered for an organiser and for liaisons
who chose English — each page, and a failing form where there is one — and
:func:`tests.i18n_check.chinese_left` must find no Han character that is not stored
content (unit names, stage and step names, report texts, suggestions, questionnaire
items). Chinese stays the default.
"""
from __future__ import annotations

import datetime as dt
import json
import re

from results_data import _submit, seed_results
from test_quiz import quiz  # noqa: F401  (the learning-test fixture: mini_quiz taken by both units)
from work_data import make_accounts, rows, switch

from extensions import db
from models import AnalysisReport, Campaign, MakeUp, RectificationItem, Stage, Step, Suggestion
from tests.i18n_check import english, follow

ALL_GOOD = [0, 0, 0, 0, 0, 0, 0]



def as_user(client, username: str) -> None:
    """Sign ``username`` in and choose English (the cookie outlives the sign-out)."""
    switch(client, username)
    forget_flashes(client)  # signing out when nobody was signed in asks to sign in first
    client.get("/lang/en")


def forget_flashes(client) -> None:
    """Drop messages flashed by pages of other areas, so the next page shows only this area's."""
    with client.session_transaction() as session:
        session.pop("_flashes", None)


def _steps(app, campaign_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(db.select(Step.id).join(Stage).where(Stage.campaign_id == campaign_id)
                                       .order_by(Stage.position, Step.position)))


# --- learning tests ---------------------------------------------------------------------------------


def test_learning_test_pages_in_english(app, client, quiz, campaign):  # noqa: F811
    make_accounts(app, campaign)
    as_user(client, "org")
    html = english(app, client.get(f"/admin/campaigns/{quiz['campaign']}/quiz"))
    assert "Learning tests: scores per unit" in html and "<strong>5</strong> participants" in html
    assert "Pass rate <strong>40.0%</strong>" in html and "Hardest questions" in html
    assert "multiple choice" in html and "Learning test pass rate per unit" in html  # table and chart title
    html = english(app, client.get(f"/admin/evaluations/{quiz['one']}/quiz"))
    assert "Share correct per question" in html and "full marks 100" in html and ">open<" in html
    assert "Share correct per question (hardest on top)" in html  # the chart's title

    as_user(client, "l1")  # 第一单位: 5 participants, enough to be shown
    html = english(app, client.get(f"/admin/campaigns/{quiz['campaign']}/quiz"))
    assert "Units with fewer participants than the minimum show only their count" in html
    as_user(client, "l2")  # 第二单位: 2 participants, fewer than its minimum of 3
    html = english(app, client.get(f"/admin/evaluations/{quiz['two']}/quiz"))
    assert "Fewer than 3 participants: scores and per-question figures are not shown" in html


def test_learning_tests_default_to_chinese(app, client, quiz, campaign):  # noqa: F811
    make_accounts(app, campaign)
    switch(client, "org")
    html = client.get(f"/admin/campaigns/{quiz['campaign']}/quiz").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "<small>学习成果测试:各单位成绩</small>" in html and "最难的题" in html
    assert "Hardest questions" not in html and "participants" not in html
    chart = json.loads(re.search(r'data-target="fig-quiz-units">(.*?)</script>', html, re.S).group(1))
    assert chart["layout"]["title"]["text"] == "各单位学习成果测试及格率"
    assert [t["name"] for t in chart["data"]] == ["及格率低于 50%", "及格率 50% 及以上", "尚无人参加"]


def test_campaign_without_learning_test_in_english(app, client, campaign):
    make_accounts(app, campaign)
    as_user(client, "org")
    html = english(app, client.get(f"/admin/campaigns/{campaign['campaign']}/quiz"))
    assert "This campaign has no learning test yet." in html


# --- stages, steps and look-backs -------------------------------------------------------------------


def test_stages_steps_and_lookbacks_in_english(app, client, campaign):
    ids = make_accounts(app, campaign)
    with app.app_context():
        c = db.session.get(Campaign, ids["campaign"])
        c.starts_on, c.ends_on = dt.date(2009, 3, 1), dt.date(2009, 8, 31)
        db.session.commit()
    as_user(client, "org")
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/stages"))
    assert "This campaign has no stages yet." in html and "Use the standard plan" in html
    html = english(app, client.get(f"/admin/work/units/{ids['u1']}/steps"))  # no plan yet
    assert "This campaign has no stages yet." in html
    html = english(app, follow(client, client.post(f"/admin/campaigns/{ids['campaign']}/stages/standard")))
    assert "The three stages and six steps are set up." in html and "Mar 1, 2009" in html
    again = english(app, follow(client, client.post(f"/admin/campaigns/{ids['campaign']}/stages/standard")))
    assert "This campaign already has its stages." in again
    [first, *_] = rows(app, Stage)
    refused = english(app, follow(client, client.post(f"/admin/stages/{first.id}", data={
        f"stage{first.id}-name": "", f"stage{first.id}-starts_on": "2009-05-01",
        f"stage{first.id}-ends_on": "2009-04-01"})))
    assert "Enter the name of the stage." in refused and "The end date is before the start date." in refused

    steps = _steps(app, ids["campaign"])
    as_user(client, "l1")
    html = english(app, client.get(f"/admin/work/units/{ids['u1']}/steps"))
    assert "Steps done and look-back checklists" not in html  # (the old English half is gone)
    assert "Stage 1: " in html and "Mark done" in html and "Look-back · Three comparisons" in html
    html = english(app, follow(client, client.post(f"/admin/work/units/{ids['u1']}/steps/{steps[0]}",
                                                   data={"done_on": "2009-03-20", "note": "ok"})))
    assert "” marked done." in html and "done Mar 20, 2009" in html and "Undo" in html
    html = english(app, follow(client, client.post(f"/admin/work/units/{ids['u1']}/steps/{steps[0]}",
                                                   data={"done_on": "2009-02-30"})))
    assert "Not a valid date value." in html

    look = f"/admin/work/units/{ids['u1']}/lookback/three_comparisons"
    html = english(app, client.get(look))
    assert "Question 1 of 3" in html and "Compared with the arrangements of the central" in html
    assert ">partly<" in html and "Not started" in html
    html = english(app, client.post(look, data={"answers-0-answer": "yes", "answers-0-note": "\x01"}), 400)
    assert 'class="errors"' in html
    html = english(app, follow(client, client.post(look, data={"answers-0-answer": "yes"})))
    assert "Saved; some questions are still unanswered." in html
    html = english(app, follow(client, client.post(look, data={
        "answers-0-answer": "yes", "answers-1-answer": "partly", "answers-2-answer": "no"})))
    assert "Three comparisons completed." in html
    english(app, client.get(f"/admin/work/units/{ids['u1']}/lookback/three_reviews"))

    html = english(app, client.get(f"/admin/work/units/{ids['u1']}"))
    assert "1 of 6 steps done" in html and "Three comparisons: completed" in html
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/stages"))
    assert "Progress by committee" in html and "Look-back: Three comparisons" in html
    assert ">All<" in html and "Share of units that completed each step, by committee" in html

    as_user(client, "org")
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/stages"))
    assert ">Save<" in html and "Starts on" in html
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/work"))
    assert "Work overview" in html and "Mar 1, 2009" in html and "Progress chart" in html


# --- suggestions ------------------------------------------------------------------------------------


def test_suggestions_moderation_in_english(app, client, campaign):
    from evaluation.work import suggestions
    from models import Unit

    ids = make_accounts(app, campaign)
    with app.app_context():
        suggestions.submit(db.session.get(Unit, ids["u1"]), "ideas", "多听群众意见")
        suggestions.submit(db.session.get(Unit, ids["u2"]), "conduct", "改进作风")
    as_user(client, "org")
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/suggestions"))
    assert "Development ideas" in html and "Work style" in html and ">pending<" in html and "Approve" in html
    assert "<strong>2</strong> in all" in html and "Export CSV" in html
    [first, _] = rows(app, Suggestion)
    html = english(app, follow(client, client.post(f"/admin/suggestions/{first.id}/moderate",
                                                   data={"status": "approved"})))
    assert ">approved<" in html and "Back to pending" in html
    html = english(app, follow(client, client.post(f"/admin/suggestions/{first.id}/moderate",
                                                   data={"status": "nonsense"})))
    assert "Unknown status: nonsense" in html
    html = english(app, client.get(f"/admin/work/units/{ids['u1']}"))
    assert "1 in all: 1 approved · 0 pending · 0 rejected" in html and "Not submitted yet." in html
    as_user(client, "l2")
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/suggestions?status=pending"))
    assert "改进作风" in html and "多听群众意见" not in html
    csv = client.get(f"/admin/campaigns/{ids['campaign']}/suggestions.csv").get_data(as_text=True)
    assert "Work style" in csv and "pending" in csv


# --- analysis reports -------------------------------------------------------------------------------


def test_reports_and_verdict_in_english(app, client, campaign):
    ids = make_accounts(app, campaign)
    as_user(client, "org")
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/reports"))
    assert "No reports yet." in html and "A report fails if opinions were not sought widely" in html
    page = f"/admin/work/units/{ids['u1']}/reports"
    html = english(app, client.get(page))
    assert "Submit the analysis report (round 1)" in html and "Open the review evaluation now" in html
    html = english(app, client.post(page, data={"text": ""}), 400)
    assert "Enter the report text." in html
    html = english(app, follow(client, client.post(page, data={"text": "第一轮报告", "open_now": "y"})))
    assert "Round 1 submitted; its review evaluation is ready for codes." in html
    [report] = rows(app, AnalysisReport)
    html = english(app, client.post(page, data={"text": "又一轮"}), 400)
    assert "Round 1 awaits its verdict; a new round can be submitted after it." in html
    with app.app_context():
        for _ in range(8):
            _submit(app, report.evaluation_id, "群众代表", ALL_GOOD, None)
        from surveys import box

        box.close([report.evaluation_id])  # the review's voting is over: every sealed ballot counted
    html = english(app, client.get(f"/admin/reports/{report.id}"))
    assert "Opinions sought widely enough" in html and "100.0%" in html and "Record the verdict" in html
    assert "95% CI" in html and "Ticks are suggested from the scores (every item at or above the threshold 60%)" in html
    html = english(app, client.post(f"/admin/reports/{report.id}/verdict", data={"note": "\x01"}), 400)
    assert 'class="errors"' in html
    html = english(app, follow(client, client.post(f"/admin/reports/{report.id}/verdict",
                                                   data={"problems": "y", "note": "widen the scope"})))
    assert "The report was returned; the revised text starts the next round." in html
    assert "Submit the revised report (round 2)" in html and ">returned<" in html
    html = english(app, client.get(f"/admin/reports/{report.id}"))
    assert "not met" in html and "Note:" in html
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/reports"))
    assert "Round 1" in html and "Decided on" in html

    client.post(f"/admin/work/units/{ids['u2']}/reports", data={"text": "第二单位报告", "open_now": "y"})
    [other] = rows(app, AnalysisReport, AnalysisReport.unit_id == ids["u2"])
    as_user(client, "l2")  # no ballots yet: the liaison sees no figures
    html = english(app, client.get(f"/admin/reports/{other.id}"))
    assert "Fewer than 8 ballots: too few to judge; figures are not shown to liaisons." in html
    html = english(app, client.get(f"/admin/work/units/{ids['u2']}/reports"))
    assert "Round 1 awaits its verdict" in html
    html = english(app, client.get(f"/admin/work/units/{ids['u2']}"))
    assert "Analysis report round 1: pending" in html


# --- rectification ----------------------------------------------------------------------------------


def _item(project, **extra):
    return {"project": project, "goal": "goal", "measures": "measures", "responsible": "Zhang",
            "commitment": "we promise", "category": "immediate", "status": "planned", "deadline": "", **extra}


def test_rectification_in_english(app, client, campaign):
    ids = make_accounts(app, campaign)
    as_user(client, "l1")
    page = f"/admin/work/units/{ids['u1']}/rectification"
    html = english(app, client.get(page))
    assert "No items yet." in html and "Add an item" in html and "can be solved now" in html
    html = english(app, client.post(page, data=_item("", done_on="2009-01-01", deadline="soon")), 400)
    assert "Enter the project." in html and "Only a done item has a completion date." in html
    assert "Not a valid date value." in html
    html = english(app, client.post(page, data=_item("x" * 201)), 400)
    assert "At most 200 characters." in html
    html = english(app, follow(client, client.post(page, data=_item("Late item", deadline="2009-01-01"))))
    assert "Item added." in html and "overdue" in html and "Jan 1, 2009" in html
    [item] = rows(app, RectificationItem)
    html = english(app, client.get(f"/admin/rectification/{item.id}"))
    assert "Edit rectification item" in html and "Delete this item" in html
    html = english(app, client.post(f"/admin/rectification/{item.id}",
                                    data=_item("", status="maybe", category="hard")), 400)
    assert "Enter the project." in html and "Not a valid choice." in html
    html = english(app, follow(client, client.post(f"/admin/rectification/{item.id}",
                                                   data=_item("Late item", status="in_progress",
                                                                   deadline="2009-01-01"))))
    assert "Saved." in html and "in progress" in html
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/rectification"))
    assert "Items per unit: done, overdue, by category" in html and "hard to solve alone" in html
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/work"))
    assert '<strong class="flag">1</strong> overdue' in html
    html = english(app, follow(client, client.post(f"/admin/rectification/{item.id}/delete")))
    assert "Deleted." in html


def test_rectification_make_up_section_in_english(app, client, campaign):
    ids = seed_results(app, campaign)
    make_accounts(app, campaign)
    as_user(client, "org")
    assert client.post(f"/admin/evaluations/{ids['a']}/makeup", data={"confirm": "1"}).status_code == 302
    forget_flashes(client)  # the decision's message belongs to the results pages
    [decision] = rows(app, MakeUp)
    page = f"/admin/work/units/{ids['unit_a']}/rectification"
    html = english(app, client.get(page))
    assert f"Make-up decision #{decision.id} (" in html and "Second evaluation" in html and ">open<" in html
    english(app, follow(client, client.post(page, data=_item("Better service", makeup_id=str(decision.id)))))
    html = english(app, client.get(page))
    assert f"Make-up #{decision.id}" in html and re.search(r">0 / 1<", html)


def test_work_pages_default_to_chinese(app, client, campaign):
    ids = make_accounts(app, campaign)
    switch(client, "org")
    html = client.get(f"/admin/campaigns/{ids['campaign']}/work").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "工作总览" in html and "Work overview" not in html
    html = client.get(f"/admin/work/units/{ids['u1']}/rectification").get_data(as_text=True)
    assert "添加整改项目" in html and "立即解决" in html and "Add an item" not in html
