"""The organiser's management pages in English (issue 7, point 5): no Chinese UI text is left.

Units and their import, rater groups, evaluations in bulk, codes and slips,
turnout, paper ballots and the questionnaire editor are rendered for an
organiser who chose English — each page, and a failing form where there is one
— and :func:`tests.i18n_check.chinese_left` must find no Han character that is
not stored content (unit names, group names, questionnaire items and options).
Chinese stays the default.
"""
from __future__ import annotations

import re

import pytest

from evaluation.codes.slips import SLIP_LIMIT
from extensions import db
from models import Evaluation
from tests.evaluation.manage_data import login, make_user
from questionnaire_data import BASE as QUESTIONNAIRES, copy, ids, latest_id, quiz  # noqa: F401
from units_data import EN, as_csv, upload
from tests.i18n_check import chinese_left, english, follow

# A unit sheet with one good row and one row wrong in three ways (kind, members, parent).
SHEET_NAMES = ("新单位", "坏单位")
BAD_SHEET = as_csv(EN, [["N1", SHEET_NAMES[0], "", "unit", "5"], ["N2", SHEET_NAMES[1], "ZZ", "nope", "-3"]])


@pytest.fixture()
def org(app, client, campaign):
    """The test client, signed in as an organiser who chose English; the ``campaign`` fixture's ids."""
    make_user(app, "org")
    login(client, "org")
    client.get("/lang/en")
    return campaign


# --- units and rater groups -------------------------------------------------------------------------


def test_units_list_edit_and_import_preview_in_english(app, client, org):
    campaign, unit = org["campaign"], org["units"][0]
    html = english(app, client.get(f"/admin/units?campaign={campaign}"))
    assert "Import units" in html and "Upload and preview" in html and "Rater groups and weights" in html

    html = english(app, client.post(f"/admin/units/import?campaign={campaign}", data={}), 400)
    assert "Choose a file." in html
    html = english(app, upload(client, campaign, b"", "units.csv"), 400)
    assert "The file is empty." in html

    preview = english(app, follow(client, upload(client, campaign, BAD_SHEET, "units.csv")), content=SHEET_NAMES)
    assert "1 row has errors; nothing was imported" in preview
    assert "Row 3 (code N2): kind “nope” not recognised (committee, unit or branch); members" in preview
    assert "members “-3” cannot be negative" in preview and "parent code ZZ not found" in preview
    assert 'action="/admin/units/import/' not in preview  # no import button while a row is wrong

    html = english(app, client.get(f"/admin/units/{unit}/edit"))
    assert "Name, kind and members" in html and "Move (with its subunits)" in html
    html = english(app, client.post(f"/admin/units/{unit}/edit", data={"name": "", "kind": "unit", "members": "-1"}),
                   400)
    assert "Enter a name." in html and "Members must be a whole number, 0 or more." in html


def test_rater_groups_page_and_a_refused_weight_in_english(app, client, org):
    campaign = org["campaign"]
    html = english(app, client.get(f"/admin/groups?campaign={campaign}"))
    assert "Add a rater group" in html and "Weights are optional" in html
    html = english(app, follow(client, client.post(f"/admin/groups?campaign={campaign}",
                                                   data={"name": "新主体", "weight": "many"})))
    assert "The weight “many” is not a number." in html
    html = english(app, follow(client, client.post(f"/admin/groups?campaign={campaign}", data={"name": ""})))
    assert "Enter a name." in html


# --- evaluations, codes, slips, turnout -------------------------------------------------------------


def test_evaluations_list_and_bulk_form_with_errors_in_english(app, client, org):
    campaign = org["campaign"]
    html = english(app, client.get(f"/admin/campaigns/{campaign}/evaluations/manage"))
    assert "Manage evaluations: open, close, rules" in html and "1 evaluation<" in html and ">open<" in html
    html = english(app, follow(client, client.post(f"/admin/campaigns/{campaign}/evaluations/apply",
                                                   data={"action": "open", "target": "selected"})))
    assert "Select at least one evaluation." in html

    html = english(app, client.get(f"/admin/campaigns/{campaign}/evaluations/new"))
    assert "Create evaluations" in html and "Paper ballots keyed in twice" in html
    html = english(app, client.post(f"/admin/campaigns/{campaign}/evaluations/new", data={
        "questionnaire": "satisfaction", "scope": "all", "threshold": "many", "min_ballots": "0",
        "opens_at": "soon"}), 400)
    assert "Enter a percentage such as 60 or 0.6." in html and "Choose at least one rater group." in html
    assert "Must be 1–100000." in html and "Enter a date and time" in html


def test_codes_slips_and_turnout_in_english(app, client, org):
    campaign, evaluation = org["campaign"], org["evaluation"]
    group = org["groups"]["党员"]
    html = english(app, client.get(f"/admin/campaigns/{campaign}/codes"))
    assert "Issue ballot codes in bulk" in html and "Issue and print slips" in html
    assert f"At most {SLIP_LIMIT:,} slips" in html
    html = english(app, client.post(f"/admin/campaigns/{campaign}/codes", data={
        "questionnaire": "satisfaction", "scope": "all", "groups": [group], "count": "0"}), 400)
    assert "Must be 1–5000." in html

    html = english(app, client.get(f"/admin/evaluations/{evaluation}/codes"))
    assert "Ballot codes and turnout (counts only)" in html and "No codes issued yet." in html
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', html).group(1)
    html = english(app, client.post(f"/admin/evaluations/{evaluation}/codes", data={
        "groups": [], "count": "many", "nonce": nonce}), 400)
    assert "Enter a whole number." in html and "Choose at least one rater group." in html

    response = client.post(f"/admin/evaluations/{evaluation}/codes", data={
        "groups": [group], "count": "3", "output": "slips", "nonce": nonce, "confirm": "3"})
    raw = response.get_data(as_text=True)
    # the page around the slips is English; the printed sheets are Chinese, for the raters (lang="zh-CN")
    head, sheets = raw.split('<section class="slip-sheet"', 1)
    sheets = sheets.split("</main>")[0]
    with app.app_context():
        assert chinese_left(head.split("<main", 1)[1], ()) == []
    assert response.status_code == 200 and '<html lang="en">' in raw and "3 slips issued" in head
    assert 'lang="zh-CN" aria-label="第 1 页"' in sheets and "测评主体:党员" in sheets and "每码限用一次" in sheets
    assert "Rater group" not in sheets and "<title>二维码</title>" in sheets
    html = english(app, client.post(f"/admin/evaluations/{evaluation}/codes", data={
        "groups": [group], "count": "3", "output": "slips", "nonce": nonce, "confirm": "3"}), 409)
    assert "These codes were already issued" in html

    html = english(app, client.get(f"/admin/evaluations/{evaluation}/codes"))
    assert "Void unused codes" in html and "Key in paper ballots" in html
    html = english(app, client.get(f"/admin/campaigns/{campaign}/turnout"))
    text = re.sub(r"<[^>]+>", "", html)  # the totals sit in spans that turnout.js refreshes
    assert "3 issued · 0 used · turnout 0%" in text and "Turnout changes as ballots arrive" in text


# --- paper ballots -----------------------------------------------------------------------------------


def test_paper_entry_and_reconciliation_in_english(app, client, org, issue, answers_for):
    evaluation = org["evaluation"]
    with app.app_context():
        db.session.get(Evaluation, evaluation).paper_double_entry = True
        db.session.commit()
    html = english(app, client.get(f"/admin/evaluations/{evaluation}/paper"))
    assert "Key in paper ballots" in html and "(Double entry)" in html and "Save this paper ballot" in html
    html = english(app, client.post(f"/admin/evaluations/{evaluation}/paper",
                                    data={"code": "nonsense", **answers_for(evaluation)}), 400)
    assert "Not a valid code: 12 letters and digits." in html

    code = issue(evaluation)[0]
    for operator, choice in (("op1", 0), ("op2", 1)):
        make_user(app, operator)
        other = app.test_client()
        login(other, operator)
        response = other.post(f"/admin/evaluations/{evaluation}/paper",
                              data={"code": code, **answers_for(evaluation, choice=choice)})
        assert response.status_code == 303
    reconcile = response.headers["Location"]
    html = english(app, client.get(reconcile))
    assert "Reconcile paper ballot #" in html and "Entry 1 (op1)" in html and "Confirm and store" in html
    html = english(app, client.get(f"/admin/evaluations/{evaluation}/paper"))
    assert "1 to reconcile" in html


# --- questionnaires ----------------------------------------------------------------------------------


def test_questionnaire_list_show_and_copy_in_english(app, client, org):
    frozen = latest_id(app, "satisfaction")
    html = english(app, client.get(QUESTIONNAIRES))
    assert "Copy a built-in questionnaire" in html and "frozen" in html and "editable" in html
    html = english(app, client.get(f"{QUESTIONNAIRES}/{frozen}"))
    assert "Create a new version" in html and "frozen" in html and "positive" in html
    html = english(app, client.get(f"{QUESTIONNAIRES}/{frozen}/copy"))
    assert "Copy questionnaire" in html and "2–60 of a–z, 0–9, _ and -" in html
    html = english(app, client.post(f"{QUESTIONNAIRES}/{frozen}/copy", data={"key": "x" * 61, "title": ""}), 400)
    assert "At most 60" in html or "at most 60" in html
    html = english(app, client.post(f"{QUESTIONNAIRES}/{frozen}/meta", data={"title": "x"}), 409)
    assert "is used by an evaluation that has opened" in html


def test_questionnaire_item_and_scale_editors_with_errors_in_english(app, client, org):
    qid = copy(client, "meeting", "meeting_en")
    got = ids(app, qid)
    item, scale = got["items"][0], got["scales"][0][0]
    html = english(app, client.get(f"{QUESTIONNAIRES}/{qid}"))
    assert "Title and introduction" in html and "Move item 2 up" in html and "Add an item" in html
    html = english(app, client.post(f"{QUESTIONNAIRES}/{qid}/meta", data={"title": ""}), 400)
    assert "This field is required." in html

    html = english(app, client.get(f"{QUESTIONNAIRES}/{qid}/items/{item}"))
    assert "Edit item 1" in html and "Rated indicator (counts towards the rate)" in html
    html = english(app, client.post(f"{QUESTIONNAIRES}/{qid}/items/new", data={"text": "", "kind": "essay"}), 400)
    assert "This field is required." in html and "Not a valid choice" in html

    html = english(app, client.get(f"{QUESTIONNAIRES}/{qid}/scales/{scale}"))
    assert "Edit a scale's options" in html and "Label of option 1" in html and "Add an option" in html
    with app.app_context():
        from models import Scale

        options = db.session.get(Scale, scale).options
        data = {"name": "x", "action": "save"}
        for n, o in enumerate(options):
            data.update({f"options-{n}-id": str(o.id), f"options-{n}-label": o.label,
                         f"options-{n}-score": "abc" if n == 0 else "", f"options-{n}-polarity": "maybe"})
    html = english(app, client.post(f"{QUESTIONNAIRES}/{qid}/scales/{scale}", data=data), 400)
    assert "The score must be a number, or empty." in html


def test_a_quiz_in_the_editor_in_english(app, client, org, quiz):  # noqa: F811
    html = english(app, client.get(f"{QUESTIONNAIRES}/{quiz}"))
    assert "Options and key" in html and "Accepted: " in html and "(correct)" in html and "Pass mark (of 100)" in html
    html = english(app, client.post(f"{QUESTIONNAIRES}/{quiz}/meta", data={"title": "学习成果测试",
                                                                          "pass_mark": "120"}), 400)
    assert "The pass mark must be between 0 and 100." in html


# --- Chinese by default --------------------------------------------------------------------------------


def test_chinese_remains_the_default(app, client, campaign):
    make_user(app, "org")
    login(client, "org")
    html = client.get(f"/admin/units?campaign={campaign['campaign']}").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "导入单位" in html and "Import units" not in html
    preview = follow(client, upload(client, campaign["campaign"], BAD_SHEET, "units.csv")).get_data(as_text=True)
    assert "第 3 行(编码 N2)" in preview and "类型“nope”无法识别" in preview and "人数“-3”不能为负数" in preview
    assert "not recognised" not in preview
    html = client.get(f"/admin/campaigns/{campaign['campaign']}/evaluations/manage").get_data(as_text=True)
    assert "批量建立测评" in html and "进行中" in html and "Create evaluations" not in html
