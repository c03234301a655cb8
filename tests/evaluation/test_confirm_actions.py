"""Disabling a unit or an account and deleting a question ask once, server-side (issue 14).

Each form's first POST changes nothing and answers with the confirmation page
(evaluation/campaigns/confirm.py) that names what will happen; the page's button acts; a
confirmation for a count or an identity that no longer holds asks again instead of acting.
Re-enabling needs no confirmation. None of these forms keeps a JavaScript ``data-confirm``.
"""
from __future__ import annotations

import pytest
from results_data import PASSWORD, login
from sqlalchemy import select

from evaluation.services import create_user
from extensions import db
from models import Campaign, Unit, UnitKind, User
from questionnaire_data import BASE, copy, ids, organiser as editor, snapshot  # noqa: F401  (editor: a fixture)
from tests.evaluation.html_forms import confirm_step


@pytest.fixture()
def street(app, client):
    """An organiser signed in, and 江南街道 with 12 units below it (3 units, 3 branches each) and 别处党委."""
    with app.app_context():
        create_user("org", PASSWORD, "organiser")
        campaign = Campaign(name="确认测试")
        top = Unit(campaign=campaign, code="J", name="江南街道", kind=UnitKind.COMMITTEE, members=1)
        units = [Unit(campaign=campaign, parent=top, code=f"J{u}", name=f"江南第{u}单位", kind=UnitKind.UNIT,
                      members=3) for u in range(1, 4)]
        branches = [Unit(campaign=campaign, parent=unit, code=f"{unit.code}B{b}", name=f"{unit.name}第{b}支部",
                         kind=UnitKind.BRANCH, members=2) for unit in units for b in range(1, 4)]
        other = Unit(campaign=campaign, code="Z", name="别处党委", kind=UnitKind.COMMITTEE, members=4)
        db.session.add_all([top, *units, *branches, other])
        db.session.commit()
        ids_ = {"campaign": campaign.id, "top": top.id, "unit": units[0].id, "other": other.id}
    login(client, "org")
    return ids_


def _active(app) -> dict[str, bool]:
    with app.app_context():
        db.session.expire_all()
        return dict(db.session.execute(select(Unit.code, Unit.active)).all())


def test_disabling_a_unit_states_how_many_units_and_acts_only_on_that_count(app, client, street):
    url = f"/admin/units/{street['top']}/active"
    before = _active(app)
    asked = client.post(url, data={"active": "0"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and _active(app) == before  # nothing changed yet
    assert "停用江南街道及其 12 个下级单位(共 13 个)?" in html
    assert "停用 13 个单位" in html

    # Someone adds a unit below it meanwhile: the stated 13 no longer holds, so the page asks again.
    with app.app_context():
        db.session.add(Unit(campaign_id=street["campaign"], parent_id=street["unit"], code="J1B4", name="新支部",
                            kind=UnitKind.BRANCH, members=1))
        db.session.commit()
    again = client.post(url, data={"active": "0", "confirm": "13"})
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and "及其 13 个下级单位(共 14 个)" in page and "数量已变化" in page
    assert not any(active is False for active in _active(app).values())

    done = confirm_step(client, page, url, 14)
    assert done.status_code == 302
    after = _active(app)
    assert sorted(code for code, active in after.items() if not active) == sorted(c for c in after if c[0] == "J")
    assert len([c for c in after if c[0] == "J"]) == 14 and after["Z"] is True
    # Re-enabling one unit asks nothing.
    assert client.post(url, data={"active": "1"}).status_code == 302 and _active(app)["J"] is True


def test_a_unit_without_subordinates_is_named_alone_and_the_edit_page_asks_too(app, client, street):
    url = f"/admin/units/{street['other']}/active"
    html = client.post(url, data={"active": "0"}).get_data(as_text=True)
    assert "停用别处党委?" in html and "下级单位" not in html.split("confirm-question")[1][:80]
    for page in (f"/admin/units?campaign={street['campaign']}", f"/admin/units/{street['top']}/edit"):
        assert "data-confirm" not in client.get(page).get_data(as_text=True)
    assert client.post("/admin/units/999999/active", data={"active": "0"}).status_code == 404


def test_disabling_an_account_names_it_and_acts_on_its_confirmation(app, client, street):
    with app.app_context():
        create_user("vi", PASSWORD, "viewer")
        vi = db.session.scalar(select(User.id).where(User.username == "vi"))
    url = f"/admin/users/{vi}/active"

    def active() -> bool:
        with app.app_context():
            return db.session.get(User, vi).active

    asked = client.post(url, data={"active": "0"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and active() and "停用账号 vi?" in html
    stale = client.post(url, data={"active": "0", "confirm": "someone-else"})
    assert stale.status_code == 200 and active()  # not the account the page named: asked again
    assert confirm_step(client, html, url, "vi").status_code == 302 and not active()
    assert client.post(url, data={"active": "1"}).status_code == 302 and active()  # no question to re-enable
    assert "data-confirm" not in client.get("/admin/users").get_data(as_text=True)
    assert client.post("/admin/users/999999/active", data={"active": "0"}).status_code == 404


def test_deleting_a_question_names_its_position_and_text_and_a_moved_one_asks_again(app, editor):
    qid = copy(editor, "meeting", "m-confirm")
    first, second, third = ids(app, qid)["items"][:3]
    url = f"{BASE}/{qid}/items"
    before = snapshot(app)
    asked = editor.post(url, data={"action": f"delete:{third}"})
    html = asked.get_data(as_text=True)
    with app.app_context():
        from models import Item

        text = db.session.get(Item, third).text
    assert asked.status_code == 200 and snapshot(app) == before
    assert "删除第 3 题" in html and text[:20] in html

    assert confirm_step(editor, editor.post(url, data={"action": f"delete:{first}"}).get_data(as_text=True),
                        url, 1).status_code == 302
    assert first not in ids(app, qid)["items"]
    moved = snapshot(app)
    again = editor.post(url, data={"action": f"delete:{third}", "confirm": "3"})  # it is question 2 now
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and snapshot(app) == moved and "删除第 2 题" in page
    assert confirm_step(editor, page, url, 2).status_code == 302
    assert ids(app, qid)["items"][0] == second and third not in ids(app, qid)["items"]
    # Moving asks nothing; the editor page keeps no JavaScript-only question.
    assert editor.post(url, data={"action": f"down:{second}"}).status_code == 302
    assert "data-confirm" not in editor.get(f"{BASE}/{qid}").get_data(as_text=True)
