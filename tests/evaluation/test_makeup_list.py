"""The overview's make-up list is capped (issue 14): the first 10 rows and a link to all of them.

At the 272-unit demo the uncapped list made the overview 2,673 px tall, close to its 2,700 px
limit; a campaign with 12 units needing make-up shows 10 on the overview, and the link opens a
page listing all 12 under the same filters.
"""
from __future__ import annotations

import re

import pytest
from results_data import PASSWORD, _submit, login

from evaluation.services import create_evaluation, create_user
from extensions import db
from models import Campaign, Unit, UnitKind

N_MAKEUP = 12
BALLOTS = 8  # the default min_ballots: each unit is judged


@pytest.fixture()
def failing(app, campaign):
    """12 units under 测试党委 with 8 ballots of 不满意 each (all need make-up); an organiser and a viewer."""
    from surveys import box

    with app.app_context():
        c = db.session.get(Campaign, campaign["campaign"])
        units = [Unit(campaign=c, parent_id=campaign["committee"], code=f"M{n:02d}", name=f"补课{n:02d}单位",
                      kind=UnitKind.UNIT, members=10) for n in range(1, N_MAKEUP + 1)]
        db.session.add_all(units)
        db.session.commit()
        evaluations = [create_evaluation(unit.id, "satisfaction", ["党员"], open_now=True).id for unit in units]
        for evaluation_id in evaluations:
            for _ in range(BALLOTS):
                _submit(app, evaluation_id, "党员", [3] * 6, None)
        box.close(evaluations)
        create_user("org", PASSWORD, "organiser")
        create_user("viewer", PASSWORD, "viewer")
    return campaign


def _makeup_names(html: str) -> list[str]:
    """Units linked in the make-up table (the overview's make-up section, or the whole make-up page)."""
    marker = 'aria-labelledby="makeup-h"'
    section = html.split(marker, 1)[1].split("</section>", 1)[0] if marker in html else html
    return re.findall(r">(补课\d\d单位)</a>", section)


def test_the_overview_shows_ten_make_up_rows_and_links_to_all(app, client, failing):
    login(client, "org")
    overview = client.get(f"/admin/campaigns/{failing['campaign']}").get_data(as_text=True)
    assert len(_makeup_names(overview)) == 10
    link = re.search(r'<a href="([^"]*/makeup[^"]*)">查看全部 12 个</a>', overview)
    assert link, "no link to the full make-up list"
    url = link.group(1).replace("&amp;", "&")
    full = client.get(url)
    html = full.get_data(as_text=True)
    assert full.status_code == 200 and "questionnaire=satisfaction" in url
    assert sorted(_makeup_names(html)) == [f"补课{n:02d}单位" for n in range(1, N_MAKEUP + 1)]
    assert "共 12 个单位需要补课" in html and html.count("决定补课并开启第二轮") == N_MAKEUP


def test_the_full_list_follows_the_filters_and_the_readers_role(app, client, failing):
    login(client, "viewer")
    html = client.get(f"/admin/campaigns/{failing['campaign']}/makeup").get_data(as_text=True)
    assert len(_makeup_names(html)) == N_MAKEUP and "决定补课并开启第二轮" not in html  # a viewer cannot decide
    other = client.get(f"/admin/campaigns/{failing['campaign']}/makeup?committee=999999999&questionnaire=x")
    assert other.status_code == 200  # unknown filters fall back to "all"
    assert client.get("/admin/campaigns/999999/makeup").status_code == 404


def test_a_short_make_up_list_has_no_link(app, client, campaign):
    from results_data import seed_results

    seed_results(app, campaign)
    login(client, "organiser1")
    overview = client.get(f"/admin/campaigns/{campaign['campaign']}").get_data(as_text=True)
    assert "需要补课的单位" in overview and "查看全部" not in overview  # one unit needs make-up: no link
