"""The rater flow through the test client: code box, questionnaire page, submit, one ballot per code.

Every refusal must be a clear page with the right status, never a 500 and
never a stored ballot.
"""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from extensions import db
from models import Answer, Ballot, BallotCode, CodeStatus, Evaluation, EvaluationStatus, SealedBallot
from surveys.codes import format_code
from surveys.forms import REQUIRED_MSG


class FormPage(HTMLParser):
    """Collects the form controls of a page, their labels, fieldsets and legends."""

    def __init__(self, html: str):
        super().__init__()
        self.controls: list[dict] = []      # input/textarea/select with attrs and enclosing label
        self.label_for: set[str] = set()
        self.fieldsets = 0
        self.legends: list[str] = []
        self._label_depth = 0
        self._in_legend = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "textarea", "select"):
            self.controls.append({"tag": tag, **a, "_in_label": self._label_depth > 0})
        elif tag == "fieldset":
            self.fieldsets += 1
        elif tag == "legend":
            self._in_legend = True
            self.legends.append("")

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1
        elif tag == "legend":
            self._in_legend = False

    def handle_data(self, data):
        if self._in_legend:
            self.legends[-1] += data

    def visible_controls(self) -> list[dict]:
        return [c for c in self.controls if c.get("type") not in ("hidden", "submit")]

    def checked(self, name: str) -> list[str]:
        return [c["value"] for c in self.controls if c.get("name") == name and "checked" in c]


def _ballots(app) -> int:
    """Ballots stored: sealed in the box or counted (a ballot is always exactly one of the two)."""
    with app.app_context():
        return len(db.session.scalars(select(Ballot.id)).all()) + len(db.session.scalars(select(SealedBallot.id)).all())


def _set_status(app, evaluation_id: int, status: EvaluationStatus, **fields) -> None:
    with app.app_context():
        evaluation = db.session.get(Evaluation, evaluation_id)
        evaluation.status = status
        for name, value in fields.items():
            setattr(evaluation, name, value)
        db.session.commit()


# --- the code box on / ------------------------------------------------------------------------


def test_home_has_a_labelled_code_box(client):
    response = client.get("/")
    assert response.status_code == 200
    page = FormPage(response.get_data(as_text=True))
    box = next(c for c in page.controls if c.get("name") == "code")
    assert box["id"] in page.label_for
    assert "测评码" in response.get_data(as_text=True)


def test_valid_code_opens_its_questionnaire(client, campaign, issue):
    """The box posts the code to /v in the body; the questionnaire comes back with the code in its body only."""
    code = issue(campaign["evaluation"])[0]
    response = client.post("/v", data={"code": code.lower()}, follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "满意度测评" in html and f'name="code" value="{format_code(code)}"' in html
    assert 'action="/v"' in html and code not in html.replace(format_code(code), "")


@pytest.mark.parametrize("typed, message", [
    ("ABC", "测评码格式不正确"),
    ("K7QX-M3PD-9TW0", "测评码格式不正确"),
    ("", "请输入测评码"),
])
def test_bad_code_in_box_shows_clear_error(client, typed, message):
    response = client.post("/v", data={"code": typed}, follow_redirects=True)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert message in body
    assert 'role="alert"' in body
    assert "Location" not in response.headers


# --- the questionnaire page -------------------------------------------------------------------


def test_questionnaire_page_shows_title_intro_and_labels_every_control(app, client, campaign, issue):
    code = issue(campaign["evaluation"])[0]
    response = client.post("/v", data={"code": code}, follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.app_context():
        q = db.session.get(Evaluation, campaign["evaluation"]).questionnaire
        title, intro_lines = q.title, [line for line in q.intro.splitlines() if line.strip()]
        n_items, n_choice = len(q.items), sum(i.kind.value != "text" for i in q.items)
    assert f"<h1>{title}</h1>" in html
    for line in intro_lines:
        assert line.replace('"', "&#34;") in html
    assert "第一单位" in html and "党员" in html

    page = FormPage(html)
    controls = page.visible_controls()
    radios = [c for c in controls if c.get("type") == "radio"]
    assert len(radios) == 6 * 5
    for control in controls:
        assert control.get("id") in page.label_for or control["_in_label"], control
    assert page.fieldsets == n_choice == 6
    assert len(page.legends) == 6 and all(legend.strip() for legend in page.legends)
    assert "开展学习实践活动的总体评价" in page.legends[0]
    assert [c["tag"] for c in controls].count("textarea") == 1
    for number in range(1, n_items + 1):
        assert f"第 {number} / {n_items} 题" in html
    assert "第 1 / 7 题" in html


@pytest.mark.parametrize("key", ["satisfaction", "meeting", "report_review"])
def test_each_catalog_questionnaire_can_be_answered(app, client, campaign, issue, answers_for, key, count_box):
    from evaluation.services import create_evaluation

    with app.app_context():
        evaluation_id = create_evaluation(campaign["units"][1], key, ["群众代表"], open_now=True).id
    code = issue(evaluation_id, "群众代表")[0]
    page = client.post("/v", data={"code": code}, follow_redirects=True)
    assert page.status_code == 200
    assert not page.get_data(as_text=True).count('checked')
    response = client.post("/v", data={**(answers_for(evaluation_id, choice=1, text="好")), "code": code, "ballot": "1"})
    assert response.status_code == 303
    assert count_box(evaluation_id) == 1
    with app.app_context():
        ballot = db.session.scalars(select(Ballot).where(Ballot.evaluation_id == evaluation_id)).one()
        q = db.session.get(Evaluation, evaluation_id).questionnaire
        assert len(ballot.answers) == len(q.items)
        by_item = {a.item_id: a for a in ballot.answers}
        for item in q.items:
            if item.scale:
                assert by_item[item.id].option_id == item.scale.options[1].id
            else:
                assert by_item[item.id].text == "好"


# --- submitting -------------------------------------------------------------------------------


def test_missing_required_item_keeps_the_other_answers(app, client, campaign, issue, answers_for, code_status):
    code = issue(campaign["evaluation"])[0]
    data = answers_for(campaign["evaluation"], choice=2, text="保留我的意见")
    missing = list(data)[3]
    del data[missing]
    response = client.post("/v", data={**(data), "code": code, "ballot": "1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert str(REQUIRED_MSG) in html  # a lazy translation: Chinese outside a request
    # once beside the item, once in the summary at the top that links to it
    assert html.count(str(REQUIRED_MSG)) == 2 and f'href="#{missing}"' in html
    page = FormPage(html)
    choices = {name: value for name, value in data.items() if value.isdigit()}
    assert len(choices) == 5
    for name, value in choices.items():
        assert page.checked(name) == [value], name
    assert page.checked(missing) == []
    assert "保留我的意见" in html
    assert _ballots(app) == 0
    assert code_status(code) is CodeStatus.UNUSED


def test_submit_stores_one_ballot_and_thanks(app, client, campaign, issue, answers_for, code_status, count_box):
    code = issue(campaign["evaluation"])[0]
    data = answers_for(campaign["evaluation"], choice=3, text="多下基层")
    response = client.post("/v", data={**(data), "code": format_code(code), "ballot": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/thanks"
    thanks = client.get("/thanks")
    assert thanks.status_code == 200 and "提交成功" in thanks.get_data(as_text=True)
    assert code_status(code) is CodeStatus.USED
    assert _ballots(app) == 1 and count_box(campaign["evaluation"]) == 1
    with app.app_context():
        ballot = db.session.scalars(select(Ballot)).one()
        assert ballot.evaluation_id == campaign["evaluation"]
        assert ballot.rater_group_id == campaign["groups"]["党员"]
        stored = {f"item_{a.item_id}": (str(a.option_id) if a.option_id else a.text) for a in ballot.answers}
        assert stored == data


def test_blank_optional_text_stores_no_answer_row(app, client, campaign, issue, answers_for, count_box):
    code = issue(campaign["evaluation"])[0]
    assert client.post("/v", data={**(answers_for(campaign["evaluation"], text="   ")), "code": code, "ballot": "1"}).status_code == 303
    count_box(campaign["evaluation"])
    with app.app_context():
        assert db.session.scalars(select(Answer).where(Answer.text.is_not(None))).all() == []
        assert len(db.session.scalars(select(Answer)).all()) == 6


def test_second_submit_and_reopen_say_already_used(app, client, campaign, issue, answers_for):
    code = issue(campaign["evaluation"])[0]
    data = answers_for(campaign["evaluation"])
    assert client.post("/v", data={**(data), "code": code, "ballot": "1"}).status_code == 303
    for response in (client.post("/v", data={**(data), "code": code, "ballot": "1"}), client.post("/v", data={"code": code}, follow_redirects=True),
                     client.post("/v", data={**(data), "code": format_code(code).lower(), "ballot": "1"})):
        assert response.status_code == 409
        assert "测评码已使用" in response.get_data(as_text=True)
    assert _ballots(app) == 1


# --- codes and evaluations that cannot open a questionnaire ----------------------------------


@pytest.mark.parametrize("code, status, message", [
    ("K7QX-M3PD-9TWR", 404, "测评码无效"),         # well-formed, never issued
    ("not-a-code", 400, "测评码格式不正确"),       # a typing slip: the box again, with the message
    ("K7QX-M3PD-9TW0", 400, "测评码格式不正确"),
    ("A" * 200, 400, "测评码格式不正确"),
])
def test_unknown_and_malformed_codes(client, campaign, answers_for, code, status, message):
    opened = client.post("/v", data={"code": code}, follow_redirects=True)
    assert opened.status_code == status and message in opened.get_data(as_text=True)
    posted = client.post("/v", data={**answers_for(campaign["evaluation"]), "code": code, "ballot": "1"})
    assert posted.status_code == 404 and message in posted.get_data(as_text=True)


def test_an_old_link_with_the_code_in_the_path_goes_to_the_fragment(client, campaign, issue):
    """Slips printed before codes left the URL keep working: the code goes back only after "#"."""
    code = issue(campaign["evaluation"])[0]
    response = client.get(f"/v/{code.lower()}")
    assert response.status_code == 303 and response.headers["Location"] == f"/v#{format_code(code)}"
    assert client.get("/v/not-a-code").headers["Location"] == "/v"


def test_voided_code(app, client, campaign, issue, answers_for, runner):
    code = issue(campaign["evaluation"])[0]
    with app.app_context():
        batch = db.session.scalars(select(BallotCode.batch_id)).one()
    assert runner.invoke(args=["codes", "void", str(batch)]).exit_code == 0
    for response in (client.post("/v", data={"code": code}, follow_redirects=True), client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": code, "ballot": "1"})):
        assert response.status_code == 410
        assert "测评码已作废" in response.get_data(as_text=True)
    assert _ballots(app) == 0


@pytest.mark.parametrize("status, extra", [
    (EvaluationStatus.CLOSED, {}),
    (EvaluationStatus.DRAFT, {}),
    (EvaluationStatus.OPEN, {"closes_at": dt.datetime(2009, 9, 30, tzinfo=dt.timezone.utc)}),
    (EvaluationStatus.OPEN, {"opens_at": dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc)}),
])
def test_evaluation_not_open(app, client, campaign, issue, answers_for, code_status, status, extra):
    code = issue(campaign["evaluation"])[0]
    _set_status(app, campaign["evaluation"], status, **extra)
    for response in (client.post("/v", data={"code": code}, follow_redirects=True), client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": code, "ballot": "1"})):
        assert response.status_code == 403
        assert "测评未开放" in response.get_data(as_text=True)
    assert _ballots(app) == 0
    assert code_status(code) is CodeStatus.UNUSED


def test_evaluation_closed_while_the_rater_reads(app, client, campaign, issue, answers_for, code_status):
    code = issue(campaign["evaluation"])[0]
    assert client.post("/v", data={"code": code}, follow_redirects=True).status_code == 200
    _set_status(app, campaign["evaluation"], EvaluationStatus.CLOSED)
    response = client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": code, "ballot": "1"})
    assert response.status_code == 403
    assert _ballots(app) == 0 and code_status(code) is CodeStatus.UNUSED


def test_evaluation_closed_between_check_and_redeem(app, campaign, issue, answers_for, code_status):
    """The redeeming UPDATE re-checks the evaluation, so a close racing the lookup stores nothing."""
    from surveys.ballots import SubmitResult, submit_ballot
    from surveys.codes import hash_code

    code = issue(campaign["evaluation"])[0]
    _set_status(app, campaign["evaluation"], EvaluationStatus.CLOSED)
    with app.test_request_context():
        result = submit_ballot(hash_code(code, app.config["CODE_KEY"]), campaign["evaluation"],
                               campaign["groups"]["党员"], [])
    assert result is SubmitResult.REJECTED
    assert _ballots(app) == 0 and code_status(code) is CodeStatus.UNUSED


# --- CSRF -------------------------------------------------------------------------------------


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_csrf_missing_token_is_refused_with_a_friendly_page(csrf_app, campaign, issue, answers_for, code_status):
    client = csrf_app.test_client()
    code = issue(campaign["evaluation"])[0]
    assert client.post("/v", data={"code": code}, follow_redirects=True).status_code == 200
    data = answers_for(campaign["evaluation"])
    for sent in (data, {**data, "csrf_token": "forged"}):
        response = client.post("/v", data={**(sent), "code": code, "ballot": "1"})
        assert response.status_code == 400
        body = response.get_data(as_text=True)
        assert "页面已过期" in body and "未保存任何内容" in body
        assert "Traceback" not in body
        # the answers come back for another try (tests/surveys/test_rater_details.py)
    assert code_status(code) is CodeStatus.UNUSED
    assert _ballots(csrf_app) == 0


def test_csrf_token_from_the_page_is_accepted(csrf_app, campaign, issue, answers_for, code_status):
    client = csrf_app.test_client()
    code = issue(campaign["evaluation"])[0]
    token = _csrf_token(client.post("/v", data={"code": code}, follow_redirects=True).get_data(as_text=True))
    response = client.post("/v", data={**({**answers_for(campaign["evaluation"]), "csrf_token": token}), "code": code, "ballot": "1"})
    assert response.status_code == 303
    assert code_status(code) is CodeStatus.USED


def test_csrf_guards_the_ballot_not_the_code_box(csrf_app, campaign, issue, answers_for):
    """Sending a code only opens its questionnaire (as a link did); the ballot itself needs the page's token."""
    client = csrf_app.test_client()
    code = issue(campaign["evaluation"])[0]
    opened = client.post("/v", data={"code": code}, follow_redirects=True)
    assert opened.status_code == 200
    ballot = {**answers_for(campaign["evaluation"]), "code": code, "ballot": "1"}
    refused = client.post("/v", data=ballot)
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    token = _csrf_token(opened.get_data(as_text=True))
    assert client.post("/v", data={**ballot, "csrf_token": token}).status_code == 303
