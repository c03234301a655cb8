"""No link a role cannot follow is shown to it (issue 14, point 3): every link on the campaign
overview's tabs and a unit page answers, for the organiser, a viewer and a committee liaison.
"""
from __future__ import annotations

import re

import pytest
from results_data import PASSWORD, login, seed_results

from evaluation.services import create_user

HREF = re.compile(r'<a href="(/admin/[^"#]+)"')


@pytest.fixture()
def people(app, campaign):
    ids = seed_results(app, campaign)
    with app.app_context():
        create_user("viewer1", PASSWORD, "viewer")
        create_user("liaison1", PASSWORD, "liaison", ids["unit_a"])
    return ids


@pytest.mark.parametrize("who", ["organiser1", "viewer1", "liaison1"])
def test_every_link_on_the_tabs_and_the_unit_page_opens(app, people, who):
    client = app.test_client()
    login(client, who)
    pages = [f"/admin/campaigns/{people['campaign']}", f"/admin/evaluations/{people['a']}"]
    links = set()
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        links |= {href.replace("&amp;", "&") for href in HREF.findall(html)}
    assert links
    refused = {href: status for href in sorted(links)
               if (status := client.get(href, buffered=True).status_code) not in (200, 302)}
    assert refused == {}, refused
    exports = {href for href in links if href.endswith((".csv", ".xlsx")) or ".csv?" in href or ".xlsx?" in href}
    # results × 2 pages (a liaison's own units: issue 14, point 3), raw ballots × 2 (organisers only)
    expected = {"organiser1": 6, "viewer1": 4, "liaison1": 4}[who]
    assert len(exports) == expected, sorted(exports)
