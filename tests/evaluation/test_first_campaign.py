"""A fresh install: the organiser creates the first campaign in the browser, from the home page.

No page tells anyone to run a command; a viewer with nothing to see is told whom to ask.
"""
from __future__ import annotations

import pytest
from html_forms import form_with
from sqlalchemy import select

from extensions import db
from models import Campaign
from tests.evaluation.manage_data import login, make_user


def test_the_home_page_offers_the_form_and_it_creates_the_campaign(app, client):
    make_user(app, "org")
    login(client, "org")
    html = client.get("/admin/").get_data(as_text=True)
    assert "建立第一个活动" in html and "flask --app" not in html
    form = form_with(html, "/admin/", action="/admin/units/campaigns", fields=("name", "starts_on", "ends_on"))
    created = client.post(form.action, data=form.data(name="2009年学习实践活动", starts_on="2009-03-01",
                                                      ends_on="2009-08-31"))
    assert created.status_code == 302
    with app.app_context():
        [campaign] = db.session.scalars(select(Campaign)).all()
        assert campaign.name == "2009年学习实践活动"
    assert created.headers["Location"].endswith(f"/admin/units?campaign={campaign.id}")
    home = client.get("/admin/").get_data(as_text=True)
    assert "2009年学习实践活动" in home and "建立第一个活动" not in home


def test_a_viewer_with_nothing_to_see_is_not_offered_the_form(app, client):
    make_user(app, "view1", "viewer")
    login(client, "view1")
    html = client.get("/admin/").get_data(as_text=True)
    assert "请联系组织者" in html and "/admin/units/campaigns" not in html and "flask --app" not in html


@pytest.fixture()
def bare_app(database_url):
    """An app on a database with no questionnaire at all (made without ``init-db`` or ``demo``)."""
    from app import create_app
    from conftest import _empty_all_tables

    _empty_all_tables(database_url, catalog=False)
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    _empty_all_tables(database_url)


def test_an_empty_questionnaire_list_offers_to_load_the_built_in_ones(bare_app):
    from models import AuditLog, Questionnaire

    from tests.evaluation.manage_data import PASSWORD

    make_user(bare_app, "org")
    client = bare_app.test_client()
    sign_in = form_with(client.get("/login").get_data(as_text=True), "/login", fields=("username", "password"))
    assert client.post("/login", data=sign_in.data(username="org", password=PASSWORD)).status_code == 302
    html = client.get("/admin/questionnaires").get_data(as_text=True)
    assert "flask --app" not in html and "载入内置测评表" in html
    assert client.post("/admin/questionnaires/catalog").status_code == 400  # no form token: nothing loaded
    with bare_app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Questionnaire)) == 0
    form = form_with(html, "/admin/questionnaires", action="/admin/questionnaires/catalog", fields=())
    loaded = client.post(form.action, data=form.data())
    assert loaded.status_code == 303
    listed = client.get("/admin/questionnaires").get_data(as_text=True)
    assert "满意度" in listed and "载入内置测评表" not in listed
    with bare_app.app_context():
        n = db.session.scalar(select(db.func.count()).select_from(Questionnaire))
        entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "questionnaires_loaded")).one()
        assert n >= 3 and f'"count": {n}' in entry.detail and entry.username == "org"
    assert client.post(form.action, data=form.data()).status_code == 303  # again: nothing more, no error
    with bare_app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Questionnaire)) == n
