"""The rater side, the public pages, sign-in, accounts, the audit log and the error pages in English
(issue 7, point 5).

Each page is rendered for a reader who chose English — the page itself and a failing form
where there is one — and :func:`tests.i18n_check.chinese_left` must find no Han character
that is not stored content (unit names, rater groups, questionnaire items and options,
audit targets). Chinese stays the default; the ballot page stays small and script-free in
both languages; API clients keep their "中文 / English" error texts whatever the cookie says.
"""
from __future__ import annotations

import datetime as dt

import pytest

from app import create_app
from extensions import db
from models import Evaluation, ItemKind
from surveys.codes import generate_code
from tests.i18n_check import english, follow

PASSWORD = "correct-horse-1"
BALLOT_LIMIT = 50 * 1024


def make_user(app, name: str, role: str = "organiser", unit_id: int | None = None) -> None:
    from evaluation.services import create_user

    with app.app_context():
        create_user(name, PASSWORD, role, unit_id)


def sign_in(client, name: str) -> None:
    assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302


def full_ballot(app, evaluation_id: int, skip_required: bool = False) -> dict[str, str]:
    """Form data answering every item with its first option (a text for free-text items);
    ``skip_required`` leaves the first required choice item out."""
    with app.app_context():
        evaluation = db.session.get(Evaluation, evaluation_id)
        data, skipped = {}, False
        for item in evaluation.questionnaire.items:
            name = f"item_{item.id}"
            if item.kind in (ItemKind.TEXT, ItemKind.FILL):
                data[name] = "好"
            elif skip_required and item.required and not skipped:
                skipped = True
            else:
                data[name] = str(item.scale.options[0].id)
        return data


@pytest.fixture()
def en(client):
    """The test client after choosing English."""
    client.get("/lang/en")
    return client


# --- the rater: code box, ballot, thanks, code problems ---------------------------------------------------


def test_code_box_and_its_refusals_in_english(app, en):
    html = english(app, en.get("/"))
    assert "Anonymous evaluation" in html and "Your ballot code" in html and "Start" in html
    assert "Organiser sign-in" in html
    html = english(app, en.post("/v", data={"code": "nonsense"}, follow_redirects=True), 400)
    assert "Not a valid code: 12 letters and digits." in html
    html = english(app, en.post("/v", data={"code": ""}, follow_redirects=True), 400)
    assert "Enter the code." in html


@pytest.mark.parametrize("code, status, title", [
    ("not-a-code", 404, "This is not a valid code"),
    ("RANDOM", 404, "Unknown code"),
])
def test_wrong_codes_in_english(app, en, code, status, title):
    code = code.replace("RANDOM", generate_code())
    html = english(app, en.post("/v", data={"code": code, "ballot": "1"}), status)
    assert title in html and "Check your slip and try again." in html and ">Home</a>" in html


def test_ballot_missing_answer_thanks_and_used_code_in_english(app, en, campaign, issue):
    code = issue(campaign["evaluation"], "党员", 1)[0]
    page = en.post("/v", data={"code": code}, follow_redirects=True)
    html = english(app, page)
    assert "Unit: <strong>第一单位</strong>" in html and "You rate as: <strong>党员</strong>" in html
    assert "Secret ballot" in html and "Item 1 of " in html and "(required)" in html
    assert "(optional, at most " in html and "Submit ballot" in html
    assert len(page.get_data()) < BALLOT_LIMIT and "<script" not in html  # small, and no JavaScript needed
    missing = english(app, en.post("/v", data={**(full_ballot(app, campaign["evaluation"], True)), "code": code, "ballot": "1"}), 400)
    assert "1 item needs attention; your answers are kept." in missing and "This item is required." in missing
    assert len(missing.encode()) < BALLOT_LIMIT
    stored = en.post("/v", data={**(full_ballot(app, campaign["evaluation"])), "code": code, "ballot": "1"})
    html = english(app, follow(en, stored))
    assert "Thank you — your ballot is stored." in html
    html = english(app, en.post("/v", data={"code": code}, follow_redirects=True), 409)
    assert "Already submitted" in html and "each code counts once" in html


def test_closed_and_voided_codes_in_english(app, en, campaign, issue):
    from models import BallotCode, CodeStatus, EvaluationStatus

    code = issue(campaign["evaluation"], "党员", 1)[0]
    voided = issue(campaign["evaluation"], "群众代表", 1)[0]
    with app.app_context():
        db.session.execute(db.update(BallotCode).where(BallotCode.rater_group_id == campaign["groups"]["群众代表"])
                           .values(status=CodeStatus.VOID))
        db.session.commit()
    assert "This code was voided" in english(app, en.post("/v", data={"code": voided}, follow_redirects=True), 410)
    with app.app_context():
        db.session.get(Evaluation, campaign["evaluation"]).status = EvaluationStatus.CLOSED
        db.session.commit()
    assert "This evaluation is not open now" in english(app, en.post("/v", data={"code": code}, follow_redirects=True), 403)


def test_a_ballot_with_too_many_answers_is_refused_in_english(app, en, campaign, issue):
    code = issue(campaign["evaluation"], "党员", 1)[0]
    data = full_ballot(app, campaign["evaluation"])
    data["item_999999"] = "1"
    html = english(app, en.post("/v", data={**(data), "code": code, "ballot": "1"}), 400)
    assert "Not submitted" in html and "not in this questionnaire" in html and "Error 400" in html


def test_review_ballot_shows_the_report_heading_in_english(app, en, campaign, issue):
    from evaluation.work import reports

    with app.app_context():
        report = reports.submit(campaign["units"][0], "报告正文。", None)
        evaluation_id = report.evaluation_id
    code = issue(evaluation_id, "党员", 1)[0]
    html = english(app, en.post("/v", data={"code": code}, follow_redirects=True))
    assert "Analysis report of the leadership team of 第一单位 (round 1)" in html and "报告正文。" in html


# --- public pages: suggestions and commitments ------------------------------------------------------------


def test_suggestion_form_refusal_and_thanks_in_english(app, en, campaign):
    unit = campaign["units"][0]
    html = english(app, en.get(f"/s/{unit}"))
    assert "Send a suggestion" in html and "Unit: <strong>第一单位</strong>" in html and "No account" in html
    html = english(app, en.post(f"/s/{unit}", data={"category": "", "text": ""}), 400)
    assert "Please correct the marked fields." in html and "Choose a category." in html
    assert "Write your suggestion." in html
    sent = en.post(f"/s/{unit}", data={"category": "ideas", "text": "多听意见。"})
    html = english(app, follow(en, sent))
    assert "Thank you for your suggestion" in html and "sent to 第一单位 for review" in html


def test_commitments_in_english(app, en, campaign):
    from models import RectificationItem

    unit = campaign["units"][0]
    assert "No items published yet." in english(app, en.get(f"/c/{unit}"))
    with app.app_context():
        db.session.add_all([
            RectificationItem(campaign_id=campaign["campaign"], unit_id=unit, project="修路", goal="路通",
                              deadline=dt.date(2000, 1, 31), responsible="张三", commitment="按期完成",
                              category="immediate", status="planned"),
            RectificationItem(campaign_id=campaign["campaign"], unit_id=unit, project="建站", goal="站成",
                              category="hard", status="done", done_on=dt.date(2000, 2, 1)),
        ])
        db.session.commit()
    html = english(app, en.get(f"/c/{unit}"))
    assert "第一单位: public rectification commitments" in html and "2 items, 1 done." in html
    assert "overdue" in html and "Jan 31, 2000" in html and "Feb 1, 2000" in html


# --- sign-in, home, accounts, audit ------------------------------------------------------------------------


def test_sign_in_failure_and_campaign_list_in_english(app, en, campaign):
    make_user(app, "org")
    html = english(app, en.get("/login"))
    assert "Organiser sign-in" in html and "Username" in html and "Password" in html
    html = english(app, en.post("/login", data={"username": "org", "password": "wrong"}), 400)
    assert "Wrong username or password." in html
    html = english(app, en.post("/login", data={"username": "", "password": ""}), 400)
    assert "Enter a username." in html and "Enter a password." in html
    sign_in(en, "org")
    html = english(app, en.get("/admin/"))
    assert "Campaigns" in html and "测试活动" in html and "Sign out" in html and "Audit log" in html


def test_no_campaign_yet_in_english(app, en):
    make_user(app, "org")
    sign_in(en, "org")
    html = english(app, en.get("/admin/"))
    assert "Create the first campaign" in html and "flask --app" not in html


def test_accounts_pages_in_english(app, en, campaign):
    make_user(app, "org")
    sign_in(en, "org")
    html = english(app, en.get("/admin/users"))
    assert "New account" in html and "(you)" in html and "Create account" in html and ">organiser</td>" in html
    html = english(app, en.post("/admin/users", data={"username": "li", "role": "liaison", "unit": 0,
                                                      "password": "short"}), 400)
    assert "A liaison needs a unit." in html and "The password must have 8–200 characters." in html
    html = english(app, en.post("/admin/users", data={"username": "x", "role": "admin", "unit": 0,
                                                      "password": "long-enough-1"}), 400)
    assert "Not a valid choice" in html  # WTForms' own message follows the language too
    created = en.post("/admin/users", data={"username": "li", "role": "liaison", "unit": campaign["units"][0],
                                            "password": "long-enough-1"})
    html = english(app, follow(en, created))
    assert "Account li created (liaison)." in html and ">liaison</td>" in html and ">active</td>" in html
    with app.app_context():
        from models import User

        li = db.session.scalar(db.select(User.id).where(User.username == "li"))
        me = db.session.scalar(db.select(User.id).where(User.username == "org"))
    asked = english(app, en.post(f"/admin/users/{li}/active", data={"active": "0"}))
    assert "Deactivate account li?" in asked
    html = english(app, follow(en, en.post(f"/admin/users/{li}/active", data={"active": "0", "confirm": "li"})))
    assert "Account li deactivated." in html and ">inactive</td>" in html and "Reactivate" in html
    html = english(app, follow(en, en.post(f"/admin/users/{me}/active", data={"active": "0"})))
    assert "You cannot deactivate your own account." in html


def test_password_page_in_english(app, en):
    make_user(app, "org")
    sign_in(en, "org")
    assert "Change password" in english(app, en.get("/admin/password"))
    html = english(app, en.post("/admin/password", data={"old": "wrong-password", "new": "new-password-1",
                                                         "confirm": "new-password-2"}), 400)
    assert "The two new passwords differ." in html
    html = english(app, en.post("/admin/password", data={"old": "wrong-password", "new": "new-password-1",
                                                         "confirm": "new-password-1"}), 400)
    assert "The current password is wrong." in html
    changed = en.post("/admin/password", data={"old": PASSWORD, "new": "new-password-1",
                                               "confirm": "new-password-1"})
    assert "Password changed." in english(app, follow(en, changed))


def test_audit_page_in_english(app, en, campaign):
    from evaluation.accounts.audit import ACTIONS, record

    make_user(app, "org")
    sign_in(en, "org")
    with app.app_context():
        for action in ACTIONS:  # every label, as the page shows it
            record(action, "unit:1", user=None)
        db.session.commit()
    html = english(app, en.get("/admin/audit"))
    assert "Audit log" in html and "newest first, times in Asia/Shanghai" in html
    assert "<td>Sign in</td>" in html and "<td>Rebuild tallies from the ballots</td>" in html
    assert "Filter" in html and ">All</option>" in html
    html = english(app, en.get("/admin/audit?since=not-a-day&action=sign_in"))
    assert "Not a valid date value" in html
    html = english(app, en.get(f"/admin/audit?since={dt.date.today() + dt.timedelta(days=2)}"))
    assert "No entries match." in html


def test_question_preview_in_english(app, en, campaign):
    make_user(app, "org")
    sign_in(en, "org")
    with app.app_context():
        questionnaire_id = db.session.get(Evaluation, campaign["evaluation"]).questionnaire_id
    html = english(app, en.get(f"/admin/questionnaires/{questionnaire_id}/preview"))
    assert "<strong>Preview</strong>: this is what raters see" in html and "Back to the editor" in html
    assert "Unit: <strong>(the unit)</strong>" in html


# --- error pages ------------------------------------------------------------------------------------------


def test_error_pages_in_english(app, en, campaign):
    html = english(app, en.get("/no/such/page"), 404)
    assert "Not found" in html and "The page does not exist." in html and "Error 404" in html
    html = english(app, en.post("/thanks"), 405)
    assert "Method not allowed" in html
    assert "Sign-in required" not in html
    html = english(app, en.get("/?q=a%00b"), 400)
    assert "control character (NUL)" in html
    make_user(app, "vi", "viewer")
    sign_in(en, "vi")
    html = english(app, en.get("/admin/users"), 403)
    assert "Forbidden" in html and "You may not open this page." in html


def test_login_required_flash_in_english(app, en):
    html = english(app, en.get("/admin/users", follow_redirects=True))
    assert "Please sign in." in html


@pytest.fixture()
def limited(app, database_url):
    """An app with the abuse limits on and a tiny budget of wrong codes (same database as ``app``)."""
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                              "RATELIMIT_STORAGE_URI": "memory://", "CODE_FAILURES_PER_ADDRESS": "1 per hour",
                              "LOGIN_LIMIT": "1 per hour"})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_too_many_requests_in_english(limited):
    client = limited.test_client()
    client.get("/lang/en")
    assert client.post("/v", data={"code": generate_code()}, follow_redirects=True).status_code == 404
    html = english(limited, client.post("/v", data={"code": generate_code()}, follow_redirects=True), 429)
    assert "Too many requests" in html and "Please wait a moment and try again." in html
    client.post("/login", data={"username": "nobody", "password": "x"})
    html = english(limited, client.post("/login", data={"username": "nobody", "password": "x"}), 429)
    assert "Too many failed sign-ins. Please try again in 60 minutes." in html


def test_csrf_failure_in_english(csrf_app):
    client = csrf_app.test_client()
    client.get("/lang/en")
    html = english(csrf_app, client.post("/v", data={"code": "K7QX-M3PD-9TWR", "ballot": "1"}), 400)
    assert "The page expired or the form was not ours" in html


# --- Chinese stays the default; API clients keep both languages -------------------------------------------


def test_chinese_by_default_on_the_rater_pages(app, client, campaign, issue):
    code = issue(campaign["evaluation"], "党员", 1)[0]
    html = client.get("/").get_data(as_text=True)
    assert "无记名测评" in html and "开始测评" in html and "Anonymous evaluation" not in html
    page = client.post("/v", data={"code": code}, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "被测评单位:<strong>第一单位</strong>" in html and "第 1 / " in html and "提交测评票" in html
    assert "Secret ballot" not in html and "Submit ballot" not in html
    assert len(page.get_data()) < BALLOT_LIMIT and "<script" not in html
    missing = client.post("/v", data={**(full_ballot(app, campaign["evaluation"], True)), "code": code, "ballot": "1"})
    assert "有 1 处需要修改,已填写的答案已保留。" in missing.get_data(as_text=True)
    html = client.get("/no/such/page").get_data(as_text=True)
    assert "页面不存在" in html and "错误代码 404" in html and "Not found" not in html


def test_chinese_by_default_on_the_organiser_pages(app, client, campaign):
    make_user(app, "org")
    sign_in(client, "org")
    html = client.get("/admin/users").get_data(as_text=True)
    assert "新建账号" in html and "<td>组织者</td>" in html and "New account" not in html
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "操作日志" in html and "<td>登录</td>" in html and "Audit log" not in html


def test_api_errors_keep_both_languages_whatever_the_cookie(app, en):
    body = en.get("/api/v1/no-such-route").get_json()
    assert body["status"] == 404 and body["error"] == "您要找的页面不存在。 / The page does not exist."
    body = en.get("/api/v1/evaluations/1/results").get_json()
    assert body["status"] == 401 and "需要有效的 API 令牌" in body["error"] and "Bearer" in body["error"]
    body = en.get("/api/v1/evaluations/1/results?q=a%00b").get_json()
    assert body["status"] == 400 and body["error"] == ("提交的内容含有控制字符(NUL),未被接受,没有保存任何内容。"
                                                       " / The request contains a control character (NUL); "
                                                       "nothing was stored.")
