"""Each remaining destructive action in a real browser asks on its own page before it acts (issue 14).

Disabling a unit (with the units below it), disabling an account and deleting a question:
the first click shows the confirmation page naming what will happen and changes nothing
("取消" leads back to an unchanged page), the page's button then acts, and no JavaScript dialog
is ever shown. Voiding a batch and re-printing are walked in test_organiser_tasks.py.

Data: a small campaign of its own (the function-scoped ``app`` fixture, emptied afterwards).
"""
from __future__ import annotations

import re

from .conftest import LAPTOP, login
from .seed import PASSWORD


def _data(app) -> dict:
    """江南街道 with two units (one with a branch), an organiser, a viewer, and an editable questionnaire."""
    from evaluation.questionnaires.services import copy_questionnaire
    from evaluation.services import create_user
    from extensions import db
    from models import Campaign, Unit, UnitKind
    from surveys.catalog import latest

    with app.app_context():
        campaign = Campaign(name="确认演示")
        top = Unit(campaign=campaign, code="J", name="江南街道", kind=UnitKind.COMMITTEE, members=0)
        one = Unit(campaign=campaign, parent=top, code="J1", name="江南一单位", kind=UnitKind.UNIT, members=9)
        two = Unit(campaign=campaign, parent=top, code="J2", name="江南二单位", kind=UnitKind.UNIT, members=8)
        branch = Unit(campaign=campaign, parent=one, code="J1B", name="江南一支部", kind=UnitKind.BRANCH, members=4)
        db.session.add_all([top, one, two, branch])
        questionnaire = copy_questionnaire(latest("meeting"), "confirm-e2e")
        db.session.commit()
        create_user("confirm-organiser", PASSWORD, "organiser")
        create_user("confirm-viewer", PASSWORD, "viewer")
        return {"campaign": campaign.id, "top": top.id, "questionnaire": questionnaire.id,
                "second": questionnaire.items[1].text}


def _asks_then_acts(page, shot, name: str, click, question: str, button: str) -> None:
    """Click; the confirmation page states ``question``; cancel changes nothing; click again and confirm."""
    before = page.locator("main").inner_text()
    click()
    page.wait_for_selector(".confirm-question")
    shot(page, f"{name}-asked")
    assert re.search(question, page.locator(".confirm-question").inner_text()), page.locator(".confirm-question").inner_text()
    page.get_by_role("link", name=re.compile("取消")).click()
    page.wait_for_load_state()
    assert page.locator("main").inner_text() == before  # "no" leaves everything as it was
    click()
    page.wait_for_selector(".confirm-question")
    page.wait_for_load_state("load")  # busy.js is deferred: let it run before the button is pressed
    page.get_by_role("button", name=re.compile(button)).click()
    page.wait_for_load_state()
    shot(page, f"{name}-done")


def test_each_confirmation_appears_before_its_action(app, server, new_page, shot):
    ids = _data(app)
    page = new_page(**LAPTOP)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, server, "confirm-organiser", PASSWORD)

    page.goto(f"{server}/admin/units?campaign={ids['campaign']}")
    row = page.locator("table.data tbody tr", has_text="江南街道").first
    _asks_then_acts(page, shot, "unit", lambda: row.get_by_role("button", name="停用").click(),
                    r"停用江南街道及其 3 个下级单位\(共 4 个\)", "停用 4 个单位")
    assert "已停用 4 个单位" in page.locator("main").inner_text()
    assert page.locator("table.data tbody tr.row-muted").count() == 4

    page.goto(f"{server}/admin/users")
    row = page.locator("table.data tbody tr", has_text="confirm-viewer").first
    _asks_then_acts(page, shot, "account", lambda: row.get_by_role("button", name="停用").click(),
                    r"停用账号 confirm-viewer", "停用账号 confirm-viewer")
    assert "已停用" in page.locator("table.data tbody tr", has_text="confirm-viewer").inner_text()

    page.goto(f"{server}/admin/questionnaires/{ids['questionnaire']}")
    delete = page.get_by_role("button", name="删除第 2 题")
    _asks_then_acts(page, shot, "question", lambda: delete.click(),
                    "删除第 2 题“" + re.escape(ids["second"][:20]), "删除第 2 题")
    assert ids["second"] not in page.locator("main").inner_text()
    assert dialogs == []  # asked once, by the page, never by a JavaScript dialog
