"""A fresh install: the organiser creates the first campaign in the browser, from the home page.

No page tells anyone to run a command; a viewer with nothing to see is told whom to ask.
"""
from __future__ import annotations

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
