"""Rater groups (测评主体) per campaign: add, rename, set and clear an optional weight."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from units_data import audit_actions, make_organiser

from extensions import db
from models import RaterGroup


@pytest.fixture()
def organiser(app, client):
    """A signed-in organiser and an empty campaign; returns the campaign id."""
    return make_organiser(app, client)


@pytest.mark.parametrize("weight, stored", [("", None), ("1.5", 1.5), ("2", 2.0)])
def test_rater_group_weight_accepted(app, client, organiser, weight, stored):
    client.post(f"/admin/groups?campaign={organiser}", data={"name": "党员", "weight": weight})
    with app.app_context():
        assert db.session.scalar(select(RaterGroup.weight).where(RaterGroup.name == "党员")) == stored


@pytest.mark.parametrize("weight", ["0", "-1", "abc", "nan", "inf", "1e9"])
def test_rater_group_weight_refused(app, client, organiser, weight):
    page = client.post(f"/admin/groups?campaign={organiser}", data={"name": "党员", "weight": weight},
                       follow_redirects=True).get_data(as_text=True)
    assert "权重" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RaterGroup)) == 0


def test_rater_groups_rename_set_and_clear_weight(app, client, organiser):
    client.post(f"/admin/groups?campaign={organiser}", data={"name": "党员", "weight": "1"})
    client.post(f"/admin/groups?campaign={organiser}", data={"name": "群众", "weight": ""})
    with app.app_context():
        ids = dict(db.session.execute(select(RaterGroup.name, RaterGroup.id)).all())
    assert "已存在" in client.post(f"/admin/groups/{ids['群众']}", data={"name": "党员", "weight": ""},
                                   follow_redirects=True).get_data(as_text=True)
    client.post(f"/admin/groups/{ids['群众']}", data={"name": "群众代表", "weight": "0.5"})
    client.post(f"/admin/groups/{ids['党员']}", data={"name": "党员", "weight": ""})
    with app.app_context():
        assert dict(db.session.execute(select(RaterGroup.name, RaterGroup.weight)).all()) == {
            "党员": None, "群众代表": 0.5}
    page = client.get(f"/admin/groups?campaign={organiser}").get_data(as_text=True)
    assert "群众代表" in page and 'value="0.5"' in page
    details = [e.detail for e in audit_actions(app, "groups_edit")]
    assert len(details) == 4 and '"weight": [1.0, null]' in details[-1]


def test_control_characters_are_refused_with_a_message(app, client, organiser):
    page = client.post(f"/admin/groups?campaign={organiser}", data={"name": "党\x00员", "weight": ""},
                       follow_redirects=True)
    # refused with a message naming the control character: by the app-wide NUL guard (400)
    assert page.status_code == 400 and "控制字符" in page.get_data(as_text=True)
    assert client.post("/admin/units/campaigns", data={"name": "活\x00动"}).status_code == 400
    assert client.post("/admin/users", data={"username": "a\x00b", "role": "viewer", "unit": 0,
                                              "password": "long-enough-1"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RaterGroup)) == 0
