"""Bad input on the ballot form: refused with a clear message, nothing stored, never a 500.

After every refusal the code must still be unused (the rater can try again)
and no ballot or answer row may exist.
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from extensions import db
from models import Answer, Ballot, CodeStatus, Evaluation, Option, SealedBallot
from surveys.catalog import latest
from surveys.forms import INVALID_CHOICE_MSG, TEXT_TOO_LONG_MSG

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture()
def ballot(app, campaign, issue, answers_for):
    """One fresh code and a complete valid answer set for it, plus the item field names."""
    code = issue(campaign["evaluation"])[0]
    data = answers_for(campaign["evaluation"])
    with app.app_context():
        items = db.session.get(Evaluation, campaign["evaluation"]).questionnaire.items
        names = {i.kind.value: f"item_{i.id}" for i in items}  # last of each kind
        first = f"item_{items[0].id}"
    # The code rides in the body with the ballot mark, as the questionnaire page posts it.
    data = {**data, "code": code, "ballot": "1"}
    return {"code": code, "data": data, "first": first, "text": names["text"], "url": "/v"}


@pytest.fixture()
def nothing_stored(app, code_status, ballot):
    """Call after a refusal: no ballot, no answer, the code still usable."""

    def _check():
        with app.app_context():
            assert db.session.scalars(select(Ballot.id)).all() == []
            assert db.session.scalars(select(Answer.item_id)).all() == []
            assert db.session.scalars(select(SealedBallot.id)).all() == []
        assert code_status(ballot["code"]) is CodeStatus.UNUSED

    return _check


def _refused(response, status: int = 400, message: str | None = None) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[-500:]
    assert "Traceback" not in body
    if message:
        assert message in body
    return body


# --- forged option ids ------------------------------------------------------------------------


def test_option_of_another_questionnaire(app, client, ballot, nothing_stored):
    with app.app_context():
        foreign = latest("meeting").items[0].scale.options[0].id
    data = {**ballot["data"], ballot["first"]: str(foreign)}
    _refused(client.post(ballot["url"], data=data), 400, str(INVALID_CHOICE_MSG))
    nothing_stored()


def test_option_of_another_item_of_the_same_questionnaire(app, client, campaign, issue, answers_for, code_status):
    """report_review gives each item its own scale: item 1's option is not valid for item 2."""
    from evaluation.services import create_evaluation

    with app.app_context():
        evaluation = create_evaluation(campaign["units"][1], "report_review", open_now=True)
        items = evaluation.questionnaire.items
        name2, borrowed = f"item_{items[1].id}", items[0].scale.options[0].id
        assert items[0].scale_id != items[1].scale_id
        evaluation_id = evaluation.id
    code = issue(evaluation_id)[0]
    data = {**answers_for(evaluation_id), name2: str(borrowed)}
    _refused(client.post("/v", data={**(data), "code": code, "ballot": "1"}), 400, str(INVALID_CHOICE_MSG))
    assert code_status(code) is CodeStatus.UNUSED
    with app.app_context():
        assert db.session.scalars(select(Ballot.id)).all() == []


@pytest.mark.parametrize("value", ["999999", "-1", "0", "abc", "1.5", "", " ", "26 OR 1=1", "１"])
def test_nonexistent_or_non_integer_option(app, client, ballot, nothing_stored, value):
    with app.app_context():
        assert db.session.get(Option, 999999) is None
    data = {**ballot["data"], ballot["first"]: value}
    body = _refused(client.post(ballot["url"], data=data), 400)
    assert 'role="alert"' in body  # the item carries an error message
    nothing_stored()


# --- fields the questionnaire did not ask for -------------------------------------------------


@pytest.mark.parametrize("extra", ["item_99999", "foo", "item_", "ITEM_1", "csrf"])
def test_answer_to_an_item_not_in_the_questionnaire(client, ballot, nothing_stored, extra):
    data = {**ballot["data"], extra: "1"}
    _refused(client.post(ballot["url"], data=data), 400, "本测评表以外")
    nothing_stored()


def test_answer_to_an_item_of_another_questionnaire(app, client, ballot, nothing_stored):
    with app.app_context():
        other = latest("meeting").items[0]
        name, option = f"item_{other.id}", str(other.scale.options[0].id)
    _refused(client.post(ballot["url"], data={**ballot["data"], name: option}), 400, "本测评表以外")
    nothing_stored()


def test_two_values_for_a_single_choice_item(client, ballot, nothing_stored):
    first_value = ballot["data"][ballot["first"]]
    pairs = [(k, v) for k, v in ballot["data"].items()] + [(ballot["first"], str(int(first_value) + 1))]
    _refused(client.post(ballot["url"], data=_multi(pairs)), 400, "多个答案")
    nothing_stored()


def test_two_values_for_the_text_item(client, ballot, nothing_stored):
    pairs = list(ballot["data"].items()) + [(ballot["text"], "一"), (ballot["text"], "二")]
    _refused(client.post(ballot["url"], data=_multi(pairs)), 400, "多个答案")
    nothing_stored()


def _multi(pairs):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


# --- sizes ------------------------------------------------------------------------------------


def test_over_long_text_is_refused_with_a_message(app, client, ballot, nothing_stored):
    limit = app.config["TEXT_ANSWER_MAX"]
    data = {**ballot["data"], ballot["text"]: "意" * (limit + 1)}
    body = _refused(client.post(ballot["url"], data=data), 400)
    assert TEXT_TOO_LONG_MSG % {"max": limit} in body
    nothing_stored()


def test_text_of_exactly_the_limit_is_stored(app, client, ballot, campaign, count_box):
    limit = app.config["TEXT_ANSWER_MAX"]
    data = {**ballot["data"], ballot["text"]: "意" * limit}
    assert client.post(ballot["url"], data=data).status_code == 303
    count_box(campaign["evaluation"])
    with app.app_context():
        texts = db.session.scalars(select(Answer.text).where(Answer.text.is_not(None))).all()
    assert texts == ["意" * limit]


def test_huge_body_gets_the_413_page(app, client, ballot, nothing_stored):
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    data = {**ballot["data"], ballot["text"]: "x" * (65 * 1024)}
    _refused(client.post(ballot["url"], data=data), 413, "提交的内容过大")
    nothing_stored()


def test_huge_body_without_form_fields_of_ours(client, ballot, nothing_stored):
    body = b"a=" + b"b" * (200 * 1024)
    response = client.post(ballot["url"], data=body, content_type="application/x-www-form-urlencoded")
    _refused(response, 413, "提交的内容过大")
    nothing_stored()


def test_huge_multipart_upload(client, ballot, nothing_stored):
    data = {**ballot["data"], "file": (io.BytesIO(b"\0" * (100 * 1024)), "big.bin")}
    _refused(client.post(ballot["url"], data=data, content_type="multipart/form-data"), 413)
    nothing_stored()


def test_too_many_multipart_parts(client, ballot, nothing_stored):
    data = {**ballot["data"], **{f"x{i}": "1" for i in range(300)}}
    response = client.post(ballot["url"], data=data, content_type="multipart/form-data")
    _refused(response, 413, "提交的内容过大")  # MAX_FORM_PARTS
    nothing_stored()


def test_json_body_is_no_way_round_the_checks(client, ballot, nothing_stored):
    """The ballot is an HTML form; a JSON body (which Flask-WTF would read) must not skip the strict checks."""
    first = ballot["data"][ballot["first"]]
    data = {**ballot["data"], "item_99999": "1", ballot["first"]: [first, str(int(first) + 1)]}
    _refused(client.post(ballot["url"], json=data), 400)
    _refused(client.post(ballot["url"], json=ballot["data"]), 400)
    nothing_stored()


# --- malicious text ---------------------------------------------------------------------------


def test_script_in_free_text_is_stored_verbatim_and_never_executed(app, client, ballot, nothing_stored, campaign,
                                                                   count_box):
    # Re-shown in the form after an error: escaped.
    data = {**ballot["data"], ballot["text"]: SCRIPT}
    del data[ballot["first"]]
    body = _refused(client.post(ballot["url"], data=data), 400)
    assert SCRIPT not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    nothing_stored()
    # Stored as the rater typed it (escaping is the renderer's job, not the database's).
    data[ballot["first"]] = ballot["data"][ballot["first"]]
    assert client.post(ballot["url"], data=data).status_code == 303
    count_box(campaign["evaluation"])
    with app.app_context():
        assert db.session.scalars(select(Answer.text).where(Answer.text.is_not(None))).one() == SCRIPT


def test_script_in_the_code_box_and_url_is_escaped(client):
    response = client.post("/v", data={"code": SCRIPT}, follow_redirects=True)
    assert response.status_code == 400
    assert SCRIPT not in response.get_data(as_text=True)
    response = client.post("/v", data={"code": SCRIPT, "ballot": "1"})
    assert response.status_code == 404
    assert "<script>" not in response.get_data(as_text=True)
    response = client.get("/v/%3Cscript%3Ealert(1)%3C%2Fscript%3E")  # an old-style link: nothing of it comes back
    assert response.status_code == 404 and "<script>" not in response.get_data(as_text=True)
    response = client.get("/v/%3Cscript%3E")
    assert response.status_code == 303 and "script" not in response.headers["Location"]


def test_script_in_a_unit_name_is_escaped_on_the_ballot_page(app, client, campaign, issue):
    from models import Unit

    with app.app_context():
        db.session.get(Unit, campaign["units"][0]).name = SCRIPT
        db.session.commit()
    code = issue(campaign["evaluation"])[0]
    body = client.post("/v", data={"code": code}, follow_redirects=True).get_data(as_text=True)
    assert SCRIPT not in body and "&lt;script&gt;" in body
