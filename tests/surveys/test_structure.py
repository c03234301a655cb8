"""Frozen questionnaires read once per process (surveys/structure.py): same page, fewer queries."""
from __future__ import annotations

from sqlalchemy import event

from extensions import db
from surveys.codes import format_code


def _statements(app, client, code: str) -> tuple[int, str]:
    """SQL statements run for one GET, and the page."""
    seen = []
    with app.app_context():
        engine = db.engine

    def count(*_args, **_kwargs):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.post("/v", data={"code": code}, follow_redirects=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response.get_data(as_text=True)


def test_a_frozen_questionnaire_is_read_once_and_renders_the_same(app, client, campaign, issue):
    from models import Evaluation
    from surveys import structure
    from surveys.forms import field_name

    first, second = issue(campaign["evaluation"], "党员", 2)
    n_first, page_first = _statements(app, client, first)
    n_second, page_second = _statements(app, client, second)
    # The second rater's page needs only the code (with its evaluation, unit and group) and the
    # review report check: the questionnaire, its items, scales and options come from the store.
    assert n_second <= 2 < n_first
    assert page_second.replace(format_code(second), format_code(first)) == page_first
    with app.test_request_context():
        evaluation = db.session.get(Evaluation, campaign["evaluation"])
        view = structure.questionnaire(evaluation.questionnaire_id)
        form_class = structure.form_class(view, app.config["TEXT_ANSWER_MAX"])
        form = form_class(formdata=None)
        stored = structure.items_html(view, form_class, field_name)
        from flask import render_template

        fresh = render_template("surveys/_items.html", form=form, items=view.items, field_name=field_name)
    assert view.frozen and stored == fresh and 'name="item_' in stored


def test_a_draft_questionnaire_is_read_afresh(app, campaign):
    from models import Questionnaire
    from surveys import structure

    with app.test_request_context():
        draft = Questionnaire(key="draft-test", version=1, title="草稿", frozen=False)
        db.session.add(draft)
        db.session.commit()
        assert not structure.questionnaire(draft.id).frozen
        draft.title = "改过的草稿"
        db.session.commit()
        assert structure.questionnaire(draft.id).title == "改过的草稿"
        assert ("q", draft.id) not in app.extensions["ceping_frozen"]


def test_an_invalid_ballot_is_shown_again_with_its_answers(app, client, campaign, issue, answers_for):
    """The stored unfilled questionnaire is never used for a form with answers or errors."""
    code = issue(campaign["evaluation"], "党员", 1)[0]
    client.post("/v", data={"code": code}, follow_redirects=True)  # fills the store
    data = answers_for(campaign["evaluation"])
    first_item = sorted(data)[0]
    del data[first_item]
    page = client.post("/v", data={**(data), "code": code, "ballot": "1"})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    chosen = sorted(data)[0]
    assert f'value="{data[chosen]}"' in html and "checked" in html
