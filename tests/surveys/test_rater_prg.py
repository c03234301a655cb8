"""Post/Redirect/Get on the rater side: no POST result in the history, no code in any URL.

Posting a code answers 303 to ``/v/questionnaire`` (the code waits in the rater's own
session cookie, never in a URL); a stored ballot answers 303 to ``/thanks``; Back from
there (a GET of the questionnaire's address) shows that the ballot was stored. The
token of the ballot form outlives a long questionnaire.
"""
from __future__ import annotations

import re
import time

from models import CodeStatus
from surveys.codes import format_code

QUESTIONNAIRE = "/v/questionnaire"


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_posting_a_code_redirects_to_a_get_page_without_the_code(client, campaign, issue):
    code = issue(campaign["evaluation"])[0]
    posted = client.post("/v", data={"code": format_code(code).lower()})
    assert posted.status_code == 303 and posted.headers["Location"] == QUESTIONNAIRE
    page = client.get(QUESTIONNAIRE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert 'class="ballot"' in html and f'name="code" value="{format_code(code)}"' in html
    assert client.get(QUESTIONNAIRE).status_code == 200  # a reload shows it again: nothing re-posted


def test_a_scripted_code_post_answers_with_the_questionnaire_and_makes_its_entry_a_get(client, campaign, issue):
    """code-link.js marks its post: the questionnaire answers it at once, with the script that replaces its
    history entry by the GET address, and the code is kept for that address exactly as after a redirect."""
    code = issue(campaign["evaluation"])[0]
    posted = client.post("/v", data={"code": code, "scripted": "1"})
    html = posted.get_data(as_text=True)
    assert posted.status_code == 200 and 'class="ballot"' in html
    assert re.search(r'src="/static/js/no-repost\.js[^"]*" data-url="/v/questionnaire"', html), html[-600:]
    assert "no-store" in posted.headers["Cache-Control"]
    again = client.get(QUESTIONNAIRE).get_data(as_text=True)  # what Back and reload load
    assert f'name="code" value="{format_code(code)}"' in again and 'class="ballot"' in again
    refused = client.post("/v", data={"code": "AAAA-BBBB-CCCC", "scripted": "1"})
    assert refused.status_code == 404  # an unknown code is refused the same way, scripted or not


def test_after_the_ballot_back_shows_it_was_stored_not_the_form(client, campaign, issue, answers_for, code_status):
    code = issue(campaign["evaluation"])[0]
    client.post("/v", data={"code": code})
    stored = client.post("/v", data={**answers_for(campaign["evaluation"]), "code": code, "ballot": "1"})
    assert stored.status_code == 303 and stored.headers["Location"] == "/thanks"  # 303: followed with a GET
    assert code_status(code) is CodeStatus.USED
    back = client.get(QUESTIONNAIRE)  # what Back loads
    html = back.get_data(as_text=True)
    assert back.status_code == 200 and "提交成功" in html and 'class="ballot"' not in html
    assert format_code(code) not in html


def test_the_questionnaire_address_without_a_code_sends_to_the_code_box(client):
    response = client.get(QUESTIONNAIRE)
    assert response.status_code == 303 and response.headers["Location"] == "/v"


def test_a_code_voided_while_open_is_refused_on_reload(app, client, campaign, issue):
    from extensions import db
    from models import BallotCode

    code = issue(campaign["evaluation"])[0]
    client.post("/v", data={"code": code})
    with app.app_context():
        db.session.execute(db.update(BallotCode).values(status=CodeStatus.VOID))
        db.session.commit()
    assert client.get(QUESTIONNAIRE).status_code == 410
    assert client.get(QUESTIONNAIRE).status_code == 303  # the code has left the session


def test_a_second_code_in_the_same_browser_opens_its_own_questionnaire(client, campaign, issue, answers_for):
    first, second = issue(campaign["evaluation"], "党员", 2)
    client.post("/v", data={"code": first})
    client.post("/v", data={**answers_for(campaign["evaluation"]), "code": first, "ballot": "1"})
    client.post("/v", data={"code": second})  # the next rater at a shared phone
    html = client.get(QUESTIONNAIRE).get_data(as_text=True)
    assert f'value="{format_code(second)}"' in html and 'class="ballot"' in html


def test_no_redirect_carries_the_code(client, campaign, issue, answers_for):
    code = issue(campaign["evaluation"])[0]
    responses = [client.post("/v", data={"code": code}), client.get(QUESTIONNAIRE),
                 client.post("/v", data={**answers_for(campaign["evaluation"]), "code": code, "ballot": "1"}),
                 client.get(f"/v/{code}")]
    for response in responses:
        location = response.headers.get("Location", "")
        assert code not in location.replace("-", "").upper().split("#")[0], location


def test_the_form_token_outlives_a_long_questionnaire(csrf_app, campaign, issue, answers_for, code_status,
                                                      monkeypatch):
    """A rater who reads for five hours still submits: the token lasts six (config WTF_CSRF_TIME_LIMIT)."""
    client = csrf_app.test_client()
    code = issue(campaign["evaluation"])[0]
    token = _token(client.post("/v", data={"code": code}, follow_redirects=True).get_data(as_text=True))
    later = time.time() + 5 * 3600
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    response = client.post("/v", data={**answers_for(campaign["evaluation"]), "csrf_token": token, "code": code,
                                       "ballot": "1"})
    assert response.status_code == 303 and code_status(code) is CodeStatus.USED


def test_a_ballot_from_an_older_tab_leaves_the_newer_code_open(client, campaign, issue, answers_for):
    older, newer = issue(campaign["evaluation"], "党员", 2)
    client.post("/v", data={"code": older})
    client.post("/v", data={"code": newer})  # a second tab
    assert client.post("/v", data={**answers_for(campaign["evaluation"]), "code": older,
                                   "ballot": "1"}).status_code == 303
    html = client.get(QUESTIONNAIRE).get_data(as_text=True)
    assert f'value="{format_code(newer)}"' in html and 'class="ballot"' in html
