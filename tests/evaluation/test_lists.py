"""Lists that scale (issue 14): search, sort, pages and exports of the organiser's lists.

Through the test client on the real database: the named unit is found, the order follows the
header clicked, page 2 holds rows 51–100, a download holds the filtered rows only, a liaison sees
only their own units in a list and its export, and no argument a stranger sends gives a 500.
"""
from __future__ import annotations

import io
import itertools
import re

import pytest
from results_data import PASSWORD
from sqlalchemy import select, update

from evaluation.services import create_evaluation, create_user, issue_codes
from extensions import db
from tests.evaluation.list_helpers import csv_rows as _csv, signed_in as _client
from models import BallotCode, Campaign, CodeStatus, Unit, UnitKind

N_UNITS = 60  # more than one page of 50


@pytest.fixture()
def big(app, campaign):
    """The small campaign plus 60 units under 测试党委 and one other committee, each with an evaluation.

    Unit "第NN号单位" gets 1 + NN // 10 of 6 codes issued to 党员 used, so turnout rises with NN;
    别处单位 (under 别处党委) has the lowest turnout of all. Accounts: org, viewer, and liaison
    "li" of 测试党委.
    """
    with app.app_context():
        c = db.session.get(Campaign, campaign["campaign"])
        committee = db.session.get(Unit, campaign["committee"])
        units = [Unit(campaign=c, parent=committee, code=f"L{n:03d}", name=f"第{n:02d}号单位", kind=UnitKind.UNIT,
                      members=n) for n in range(1, N_UNITS + 1)]
        other = Unit(campaign=c, code="C2", name="别处党委", kind=UnitKind.COMMITTEE, members=5)
        elsewhere = Unit(campaign=c, parent=other, code="Z001", name="别处单位", kind=UnitKind.UNIT, members=5)
        db.session.add_all([*units, other, elsewhere])
        db.session.commit()
        for n, unit in enumerate([*units, elsewhere], 1):
            evaluation = create_evaluation(unit.id, "satisfaction", open_now=True)
            issue_codes(evaluation.id, "党员", 6)
            used = 0 if unit is elsewhere else min(6, 1 + n // 10)
            hashes = db.session.scalars(select(BallotCode.code_hash).where(
                BallotCode.evaluation_id == evaluation.id).limit(used)).all()
            db.session.execute(update(BallotCode).where(BallotCode.code_hash.in_(hashes))
                               .values(status=CodeStatus.USED))
        db.session.commit()
        create_user("org", PASSWORD, "organiser")
        create_user("viewer", PASSWORD, "viewer")
        create_user("li", PASSWORD, "liaison", campaign["committee"])
    return campaign


def _names(html: str) -> list[str]:
    return re.findall(r"第\d\d号单位(?=</)", html)  # the cell, not the confirm text


def test_units_search_finds_a_named_unit_and_the_page_holds_50(app, big):
    client = _client(app, "org")
    base = f"/admin/units?campaign={big['campaign']}"
    first = client.get(base).get_data(as_text=True)
    assert first.count("<tr") == 1 + 50 and "共 65 条" in first
    found = client.get(base + "&q=第42号").get_data(as_text=True)
    assert _names(found) == ["第42号单位"] and "共 1 条" in found
    assert "别处单位" in client.get(base + "&q=别处党委").get_data(as_text=True)  # by its parent's name
    assert "共 0 条" in client.get(base + "&q=no such unit").get_data(as_text=True)
    assert "共 0 条" in client.get(base + "&q=%25").get_data(as_text=True)  # "%" is a character, not a wildcard
    past_the_end = client.get(base + "&page=999").get_data(as_text=True)
    assert 'aria-current="page" class="current">2<' in past_the_end and "显示第 51–65 条" in past_the_end


def test_units_sort_order_and_page_two(app, big):
    client = _client(app, "org")
    base = f"/admin/units?campaign={big['campaign']}"
    by_members = _names(client.get(base + "&sort=members&dir=desc").get_data(as_text=True))
    assert by_members[:3] == ["第60号单位", "第59号单位", "第58号单位"]
    ascending = _names(client.get(base + "&q=号单位&sort=members&dir=asc").get_data(as_text=True))
    assert ascending[:2] == ["第01号单位", "第02号单位"]
    page_two = client.get(base + "&q=号单位&sort=members&dir=asc&page=2").get_data(as_text=True)
    assert _names(page_two) == [f"第{n:02d}号单位" for n in range(51, 61)]
    assert 'aria-current="page" class="current">2<' in page_two


def test_units_export_honours_the_search_and_filters(app, big):
    client = _client(app, "org")
    rows = _csv(client.get(f"/admin/units/export.csv?campaign={big['campaign']}&q=第4&sort=code"))
    assert rows[0][:5] == ["编码", "名称", "上级编码", "类型", "人数"]
    assert [r[1] for r in rows[1:]] == [f"第{n}号单位" for n in range(40, 50)]
    everything = _csv(client.get(f"/admin/units/export.csv?campaign={big['campaign']}"))
    assert len(everything) == 1 + 65  # all pages, not just the first 50
    xlsx = client.get(f"/admin/units/export.xlsx?campaign={big['campaign']}&kind=committee")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_new_campaign_is_above_the_list_and_a_bad_upload_error_is_at_the_top(app, big):
    client = _client(app, "org")
    html = client.get(f"/admin/units?campaign={big['campaign']}").get_data(as_text=True)
    assert html.index("新建活动") < html.index('<table class="data">')
    bad = client.post(f"/admin/units/import?campaign={big['campaign']}", content_type="multipart/form-data",
                      data={"file": (io.BytesIO(b"not,a,sheet\n"), "units.csv")})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert page.index('id="import-problem"') < page.index('<table class="data">')


def test_evaluations_list_search_sort_filter_and_export(app, big):
    client = _client(app, "org")
    base = f"/admin/campaigns/{big['campaign']}/evaluations"
    assert _names(client.get(base + "?q=第07号").get_data(as_text=True)) == ["第07号单位"]
    by_rate = client.get(base + "?sort=rate&dir=desc").get_data(as_text=True)
    assert _names(by_rate)[0] == "第50号单位"  # 6 of 6 codes used from 第50 on; ties by id
    assert _names(client.get(base + "?sort=rate").get_data(as_text=True))[0] == "第01号单位"  # 1 of 6
    rows = _csv(client.get(base.replace("/evaluations", "/evaluations.csv") + f"?committee={big['committee']}"))
    assert len(rows) == 1 + 61 and "别处单位" not in {r[2] for r in rows}
    assert "别处单位" in client.get(base + "?q=别处").get_data(as_text=True)


def test_turnout_worklist_lowest_first_by_committee_and_exported(app, big):
    client = _client(app, "org")
    base = f"/admin/campaigns/{big['campaign']}/worklist"
    html = client.get(base).get_data(as_text=True)
    assert html.index("别处单位") < html.index("第01号单位")  # 0 of 6: first
    mine = client.get(base + f"?committee={big['committee']}").get_data(as_text=True)
    assert "别处单位" not in mine and "第01号单位" in mine
    rows = _csv(client.get(base + f".csv?committee={big['committee']}"))
    rates = [float(r[6]) for r in rows[1:] if r[6]]
    assert rates == sorted(rates) and "别处单位" not in {r[1] for r in rows}


def test_turnout_list_pages_and_export_follow_the_search(app, big):
    client = _client(app, "org")
    base = f"/admin/campaigns/{big['campaign']}/turnout"
    html = client.get(base).get_data(as_text=True)
    assert html.count("data-turnout=") == 50 and "共 61 条" in html
    assert client.get(base + "?page=2").get_data(as_text=True).count("data-turnout=") == 11
    assert len(_csv(client.get(base + ".csv?q=第1"))) == 1 + 10
    live = client.get(base + ".json?q=第1").get_json()
    assert len(live["rows"]) == 10


def test_a_liaison_sees_only_their_units_in_lists_and_exports(app, big):
    client = _client(app, "li")
    campaign = big["campaign"]
    for path in (f"/admin/campaigns/{campaign}/evaluations", f"/admin/campaigns/{campaign}/turnout",
                 f"/admin/campaigns/{campaign}/worklist"):
        html = client.get(path + "?q=别处").get_data(as_text=True)
        assert "别处单位" not in html, path
        assert "别处党委" not in client.get(path).get_data(as_text=True), path  # not in the committee filter
    for path in (f"/admin/campaigns/{campaign}/evaluations.csv", f"/admin/campaigns/{campaign}/turnout.csv",
                 f"/admin/campaigns/{campaign}/worklist.csv"):
        rows = _csv(client.get(path))
        assert len(rows) > 50 and not any("别处单位" in cell for row in rows for cell in row), path
    # another committee's id in the URL widens nothing
    with app.app_context():
        other = db.session.scalar(select(Unit.id).where(Unit.code == "C2"))
    assert "别处单位" not in client.get(f"/admin/campaigns/{campaign}/worklist?committee={other}").get_data(as_text=True)
    assert client.get(f"/admin/units?campaign={campaign}").status_code == 403


BAD_ARGS = ["page=-1", "page=abc", "page=0", "page=99999999999999999999", "page=%EF%BC%91", "sort=DROP%20TABLE",
            "sort=", "dir=sideways", "q=" + "x" * 5000, "q=%00%01", "q=%25", "q=_", "q=\\", "committee=abc",
            "committee=-5", "committee=99999999999", "kind=nope", "state=nope", "status=nope", "campaign_id=3",
            "_external=1", "_anchor=x", "page=2&page=x"]


def test_bad_arguments_give_a_page_never_a_500(app, big):
    client = _client(app, "org")
    c = big["campaign"]
    for arg, path in itertools.product(BAD_ARGS, (f"/admin/units?campaign={c}&", f"/admin/units/export.csv?campaign={c}&",
                 f"/admin/campaigns/{c}/evaluations?", f"/admin/campaigns/{c}/evaluations.csv?",
                 f"/admin/campaigns/{c}/turnout?", f"/admin/campaigns/{c}/turnout.json?",
                 f"/admin/campaigns/{c}/worklist?", f"/admin/campaigns/{c}/worklist.xlsx?")):
        response = client.get(path + arg)
        assert response.status_code in (200, 400), (path + arg[:40], response.status_code)
