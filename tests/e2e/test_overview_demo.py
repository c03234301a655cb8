"""The overview of the 272-unit demo in Chromium at 1366×900 (issue 14): short, and any unit two clicks away.

The demo campaign (``evaluation.demo``) is built once for the module in the browser
tests' database; the tests only read it.
"""
from __future__ import annotations

import re

import pytest

from .conftest import login, readme_shot

DEMO_PASSWORD = "ceping-demo-e2e"
SCREEN = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def demo(server, database_url):
    """The demo campaign, its organiser, and a unit ranked in the middle (in neither end of the default view)."""
    from conftest import _empty_all_tables

    from app import create_app
    from evaluation.demo.campaign import build_demo
    from evaluation.results.dashboards import campaign_overview
    from evaluation.services import create_user
    from extensions import db
    from surveys.catalog import load_catalog

    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with application.app_context():
        load_catalog()
        campaign_id = build_demo().campaign_id
        create_user("demo-e2e", DEMO_PASSWORD, "organiser")
        with application.test_request_context():
            units = campaign_overview(campaign_id, "satisfaction")["unit_rows"]
        middle = units[len(units) // 2]
        found = {"campaign": campaign_id, "unit": middle["unit"], "committee": middle["committee"],
                 "evaluation": int(middle["evaluation_id"]), "n_units": len(units)}
    yield found
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    _empty_all_tables(database_url)


def test_the_overview_fits_three_screens_and_finds_a_unit_in_two_clicks(demo, server, new_page, shot, artifacts):
    page = new_page(viewport=SCREEN)
    login(page, server, "demo-e2e", DEMO_PASSWORD)
    page.goto(f"{server}/admin/campaigns/{demo['campaign']}")
    page.wait_for_selector("#fig-ranking .main-svg")  # charts drawn after load: their height counts too
    page.wait_for_selector("#fig-heatmap .main-svg")
    shot(page, "overview")
    readme_shot(page, artifacts, "campaign-overview.png", page.locator("section[aria-labelledby=rank-h]"))
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height <= 3 * SCREEN["height"], height
    ranking = page.locator("#ranking-table tbody a")
    assert ranking.count() == 60 and demo["unit"] not in ranking.all_text_contents()  # the middle is not shown
    # click 1: the unit's committee in the roll-up; click 2: the unit in that committee's ranking
    page.locator("section[aria-labelledby=committee-h]").get_by_role("link", name=demo["committee"],
                                                                     exact=True).click()
    page.wait_for_url(re.compile(r"committee=\d+"))
    shot(page, "committee")
    assert page.evaluate("() => document.documentElement.scrollHeight") <= 3 * SCREEN["height"]
    page.locator("#ranking-table").get_by_role("link", name=demo["unit"], exact=True).click()
    page.wait_for_url(re.compile(rf"/admin/evaluations/{demo['evaluation']}$"))
    assert demo["unit"] in page.locator("h1").inner_text()


def test_all_units_are_one_click_from_the_default_view(demo, server, new_page):
    page = new_page(viewport=SCREEN)
    login(page, server, "demo-e2e", DEMO_PASSWORD)
    page.goto(f"{server}/admin/campaigns/{demo['campaign']}")
    page.route("**/plotly.min.js*", lambda route: route.abort())  # the table is the point here
    page.locator("#show-all").click()
    page.wait_for_url(re.compile(r"show=all"))
    assert page.locator("#ranking-table tbody tr").count() == demo["n_units"]
    last = page.locator("#ranking-table tbody tr").last
    assert last.locator("td").first.text_content() == "—" and "不作评判" in last.text_content()



def test_the_make_up_list_is_capped_at_ten_with_a_link_to_all(demo, server, new_page, shot):
    """The demo's make-up count (the KPI) decides: up to 10 rows shown, and "查看全部" only beyond 10."""
    page = new_page(viewport=SCREEN)
    login(page, server, "demo-e2e", DEMO_PASSWORD)
    page.route("**/plotly.min.js*", lambda route: route.abort())  # the list is the point here
    page.goto(f"{server}/admin/campaigns/{demo['campaign']}")
    total = int(re.search(r"(\d+)\s*个需补课", page.locator("ul.kpis").inner_text()).group(1))
    section = page.locator("section[aria-labelledby=makeup-h]")
    assert section.locator("table").first.locator("tbody tr").count() == min(total, 10)
    more = section.get_by_role("link", name=re.compile(r"查看全部 \d+ 个"))
    assert more.count() == (1 if total > 10 else 0)
    page.goto(f"{server}/admin/campaigns/{demo['campaign']}/makeup")  # linked when there are more than 10
    shot(page, "make-up-all")
    assert page.locator("table.data tbody tr").count() == total
