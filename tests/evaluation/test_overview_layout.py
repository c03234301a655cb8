"""The overview of the 272-unit demo campaign (issue 14, point 1): short, in order, sliced.

One demo campaign (``evaluation.demo``) is built for the module; the tests only read it.
The page opens with the figures, the make-up list and the per-committee roll-up; the
ranking and heatmap show the top and bottom 30 by default, one committee when one is
picked, every unit after "all"; ballots per day sit beside the roll-up.
"""
from __future__ import annotations

import json
import re

import pytest
from conftest import _empty_all_tables

from extensions import db

ROW = re.compile(r'<tr class="[^"]*">\s*<td class="num">([^<]*)</td>\s*<td><a href="/admin/evaluations/(\d+)">')


@pytest.fixture(scope="module")
def demo(database_url):
    """The demo campaign in the test database, and an app to read it with; emptied after the module."""
    from app import create_app
    from evaluation.demo.campaign import build_demo
    from evaluation.services import create_user
    from surveys.catalog import load_catalog

    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with application.app_context():
        load_catalog()
        summary = build_demo()
        create_user("demo", "ceping-demo", "organiser")
    yield application, summary.campaign_id
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    _empty_all_tables(database_url)


def _page(demo, query: str = "") -> str:
    application, campaign_id = demo
    client = application.test_client()
    assert client.post("/login", data={"username": "demo", "password": "ceping-demo"}).status_code == 302
    response = client.get(f"/admin/campaigns/{campaign_id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _ranking(html: str) -> list[tuple[str, int]]:
    table = html.split('id="ranking-table"')[1].split("</table>")[0]
    return [(rank, int(ev)) for rank, ev in ROW.findall(table)]


def _figure(html: str, target: str) -> dict:
    return json.loads(html.split(f'data-target="{target}">')[1].split("</script>")[0])


def test_the_overview_opens_with_figures_makeup_and_committees(demo):
    html = _page(demo)
    order = [html.index(marker) for marker in ('class="kpis"', 'id="makeup-h"', 'id="committee-h"',
                                               'id="daily-h"', 'id="rank-h"', 'data-target="fig-heatmap"')]
    assert order == sorted(order)
    assert "<strong>272</strong> 个单位" in html
    # light: the default page is a fraction of the 656 KB it was, and carries no table of all 272 units
    assert len(html.encode()) < 250_000


def test_the_default_ranking_shows_the_top_and_bottom_30_with_a_link_to_all(demo):
    html = _page(demo)
    rows = _ranking(html)
    assert len(rows) == 60
    assert [r for r, _ in rows[:30]] == [str(n) for n in range(1, 31)]
    judged_tail = [int(r) for r, _ in rows[30:] if r != "—"]
    assert judged_tail == sorted(judged_tail) and judged_tail[0] > 200  # the worst ones, still in rank order
    assert [r for r, _ in rows[-2:]] == ["—", "—"]  # the demo's two units not judged come last, unranked
    ranking = _figure(html, "fig-ranking")
    assert len(ranking["layout"]["yaxis"]["categoryarray"]) == 60
    assert len(_figure(html, "fig-heatmap")["data"][0]["y"]) == 58  # judged units only: no rate is drawn
    link = re.search(r'<a href="([^"]+)" id="show-all">', html).group(1).replace("&amp;", "&")
    assert "show=all" in link
    everything = _ranking(_page(demo, link[link.index("?"):]))
    assert len(everything) == 272 and everything[:30] == rows[:30] and everything[-30:] == rows[30:]


def test_a_committee_shows_its_units_only(demo):
    html = _page(demo)
    committee = re.search(r'<option value="(\d+)" >([^<]+)</option>', html)
    committee_id, name = committee.group(1), committee.group(2)
    size = int(re.search(rf'committee={committee_id}">{re.escape(name)}</a></td>\s*<td class="num">(\d+)</td>',
                         html).group(1))
    picked = _page(demo, f"?committee={committee_id}")
    rows = _ranking(picked)
    assert len(rows) == size and 0 < size < 60
    table = picked.split('id="ranking-table"')[1].split("</table>")[0]
    assert set(re.findall(r"</a></td>\s*<td>([^<]+)</td>", table)) == {name}
    assert f'<option value="{committee_id}" selected>' in picked and 'id="show-all"' not in picked
    assert "<details open><summary>" in picked  # the committee's table is open: its units one click away


@pytest.mark.parametrize("query", ["?committee=abc", "?committee=99999999", "?committee=-3", "?show=%00",
                                   "?group=x&questionnaire=nope&show=1", "?committee=99999999999999999999999"])
def test_bad_arguments_fall_back_to_the_default(demo, query):
    application, campaign_id = demo
    client = application.test_client()
    client.post("/login", data={"username": "demo", "password": "ceping-demo"})
    response = client.get(f"/admin/campaigns/{campaign_id}{query}")
    assert response.status_code in (200, 400, 404)
    if response.status_code == 200:
        assert len(_ranking(response.get_data(as_text=True))) == 60


def test_ballots_per_day_add_up_to_the_ballots_counted(demo):
    html = _page(demo)
    total = int(re.search(r"<strong>([\d,]+)</strong> 张测评票", html).group(1).replace(",", ""))
    section = html.split('id="daily-h"')[1].split("</section>")[0]
    days = [(day, int(n)) for day, n in re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td class=\"num\">(\d+)</td>",
                                                   section)]
    assert len(days) >= 2 and sum(n for _, n in days) == total
    assert [d for d, _ in days] == sorted(d for d, _ in days)
    assert "fig-daily" in section
