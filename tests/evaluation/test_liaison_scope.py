"""A liaison sees only their own committee in the overview's filter and only campaigns that hold
their units (issue 13): other committees' names and other campaigns stay unseen."""
from __future__ import annotations

import pytest

from evaluation.services import create_user
from extensions import db
from models import Campaign, Unit, UnitKind

PASSWORD = "correct-horse"


@pytest.fixture()
def liaison(app, campaign):
    with app.app_context():
        c = db.session.get(Campaign, campaign["campaign"])
        other = Unit(campaign=c, code="C2", name="别处党委", kind=UnitKind.COMMITTEE, members=5)
        db.session.add_all([other, Unit(campaign=c, parent=other, code="U3", name="别处单位",
                                        kind=UnitKind.UNIT, members=5)])
        elsewhere = Campaign(name="另一活动")
        db.session.add_all([elsewhere, Unit(campaign=elsewhere, code="X1", name="外单位", kind=UnitKind.UNIT,
                                            members=3)])
        db.session.commit()
        ids = {"other_campaign": elsewhere.id}
        create_user("li", PASSWORD, "liaison", campaign["units"][0])
        create_user("org", PASSWORD, "organiser")
    return {**campaign, **ids}


def _client(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_the_overview_filter_names_only_the_liaisons_committee(app, liaison):
    html = _client(app, "li").get(f"/admin/campaigns/{liaison['campaign']}").get_data(as_text=True)
    assert "测试党委" in html and "别处党委" not in html
    organiser = _client(app, "org").get(f"/admin/campaigns/{liaison['campaign']}").get_data(as_text=True)
    assert "别处党委" in organiser


@pytest.mark.parametrize("path", [
    "/admin/campaigns/{c}", "/admin/campaigns/{c}/report", "/admin/campaigns/{c}/evaluations",
    "/admin/campaigns/{c}/codes", "/admin/campaigns/{c}/turnout", "/admin/campaigns/{c}/quiz",
    "/admin/campaigns/{c}/work", "/admin/campaigns/{c}/rectification", "/admin/campaigns/{c}/reports",
    "/admin/campaigns/{c}/stages", "/admin/campaigns/{c}/suggestions",
])
def test_a_campaign_without_the_liaisons_units_is_not_found(app, liaison, path):
    client = _client(app, "li")
    assert client.get(path.format(c=liaison["other_campaign"])).status_code == 404
    assert client.get(path.format(c=liaison["campaign"])).status_code == 200
    assert _client(app, "org").get(path.format(c=liaison["other_campaign"])).status_code == 200


def test_the_campaign_list_shows_the_liaison_only_their_own(app, liaison):
    assert "另一活动" not in _client(app, "li").get("/admin/").get_data(as_text=True)
    assert "另一活动" in _client(app, "org").get("/admin/").get_data(as_text=True)
