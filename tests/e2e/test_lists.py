"""The units list at the demo campaign's size in a real browser: found from the search box, short.

Data: the demo campaign's unit tree (14 committees, 272 units, 440 branches: 726 rows) built
by the demo's own code, without its ballots, through the function-scoped ``app`` fixture.
Before issue 14 this page was 41,000 px tall and nothing on it searched.
"""
from __future__ import annotations

import random
import re

from .conftest import login
from .seed import PASSWORD

SCREEN = {"width": 1366, "height": 900}
UNIT = "江南街道第07社区"


def _demo_units(app) -> int:
    """The demo's unit tree in a campaign of its own, and an organiser; returns the campaign id."""
    from evaluation.demo.campaign import _build_tree
    from evaluation.services import create_user
    from extensions import db
    from models import Campaign

    with app.app_context():
        campaign = Campaign(name="单位列表演示")
        db.session.add(campaign)
        _build_tree(campaign, random.Random(2009))
        db.session.commit()
        create_user("lists-organiser", PASSWORD, "organiser")
        return campaign.id


def _height(page) -> int:
    return page.evaluate("() => document.documentElement.scrollHeight")


def test_a_named_unit_is_found_from_the_units_page_which_stays_short(app, server, new_page, shot, axe):
    campaign_id = _demo_units(app)
    page = new_page(viewport=SCREEN, bypass_csp=True)  # axe goes in as an inline script
    login(page, server, "lists-organiser", PASSWORD)
    page.goto(f"{server}/admin/units?campaign={campaign_id}")
    shot(page, "units")
    assert re.search(r"单位 726 个", page.locator("p.meta").first.inner_text())
    assert page.locator("table.data tbody tr").count() == 50
    assert _height(page) <= 3 * SCREEN["height"], _height(page)
    serious, _undecided = axe(page, "units")
    assert serious == [], serious  # the search box, sortable headers and pager are labelled

    page.get_by_role("searchbox", name=re.compile("搜索")).fill(UNIT)
    page.get_by_role("button", name="搜索", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]q="))
    shot(page, "found")
    names = page.locator("table.data tbody td:nth-child(2)").all_inner_texts()
    assert UNIT in names and all(UNIT in name for name in names), names  # the unit and its branches
    assert _height(page) <= 3 * SCREEN["height"]
