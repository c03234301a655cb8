"""The rater's page when something is missing or the page was left open too long (issue 14, point 6).

A skipped item: the page comes back with a summary linking to each missing item
and the browser's focus on the first one (``autofocus``: no script needed), the
other answers kept. An expired form token: nothing is stored, the code stays
unused, and the answers come back on a fresh form to submit again.
"""
from __future__ import annotations

import re

from models import CodeStatus

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _scale_fields(answers: dict) -> list[str]:
    return [name for name in answers if name.startswith("item_")]


def test_a_skipped_item_is_linked_from_the_summary_and_gets_the_focus(app, client, campaign, issue, answers_for,
                                                                      count_ballots, code_status):
    evaluation = campaign["evaluation"]
    code = issue(evaluation)[0]
    answers = answers_for(evaluation, choice=1)
    fields = _scale_fields(answers)
    skipped, kept = fields[2], fields[3]
    del answers[skipped]
    response = client.post("/v", data={**answers, "code": code, "ballot": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = page.split('class="flash flash-error error-summary"')[1].split("</div>")[0]
    assert f'href="#{skipped}"' in summary and "第 3 题" in summary
    # the focus lands on the skipped item, and only there
    focused = re.findall(r'<input autofocus id="(\w+)-\d+"', page)
    assert focused and set(focused) == {skipped} and page.count("autofocus") == len(focused)
    # the other answers are kept
    assert re.search(rf'<input checked id="{kept}-\d+" name="{kept}"(?: required)? type="radio" value="{answers[kept]}">', page)
    assert count_ballots() == 0 and code_status(code) is CodeStatus.UNUSED


def test_an_expired_form_token_keeps_the_answers_and_stores_nothing(csrf_app, campaign, issue, answers_for,
                                                                    count_ballots, code_status):
    evaluation = campaign["evaluation"]
    code = issue(evaluation)[0]
    client = csrf_app.test_client()
    page = client.post("/v", data={"code": code}, follow_redirects=True).get_data(as_text=True)
    assert TOKEN.search(page)
    answers = answers_for(evaluation, choice=2)
    response = client.post("/v", data={**answers, "code": code, "ballot": "1", "csrf_token": "expired-token"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "页面已过期" in page and "测评码仍然有效" in page
    assert count_ballots() == 0 and code_status(code) is CodeStatus.UNUSED
    for name in _scale_fields(answers):  # every answer comes back checked
        assert re.search(rf'<input checked id="{name}-\d+" name="{name}"(?: required)? type="radio" value="{answers[name]}">', page), name
    # the fresh token on that page submits the same answers
    token = TOKEN.search(page).group(1)
    stored = client.post("/v", data={**answers, "code": code, "ballot": "1", "csrf_token": token})
    assert stored.status_code == 303 and count_ballots() == 1 and code_status(code) is CodeStatus.USED
