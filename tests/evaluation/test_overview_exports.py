"""Exports and filters seen by a committee liaison (issue 14, point 3): their own units only.

The seeded campaign (results_data) has 测试党委 with 第一单位 (evaluation A, judged) and 第二单位
(B, five ballots: not judged); a second committee 别处党委 with 别处单位 (evaluation C, no ballots)
is added here. The liaison is bound to 第一单位.
"""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from results_data import PASSWORD, login, seed_results

from extensions import db


@pytest.fixture()
def world(app, campaign):
    from evaluation.services import create_evaluation, create_user
    from models import Campaign, Unit, UnitKind

    ids = seed_results(app, campaign)
    with app.app_context():
        c = db.session.get(Campaign, ids["campaign"])
        other = Unit(campaign=c, code="C2", name="别处党委", kind=UnitKind.COMMITTEE, members=5)
        elsewhere = Unit(campaign=c, parent=other, code="U3", name="别处单位", kind=UnitKind.UNIT, members=5)
        db.session.add_all([other, elsewhere])
        db.session.commit()
        ids["c"] = create_evaluation(elsewhere.id, "satisfaction", ["党员"], open_now=True).id
        ids["other_committee"] = other.id
        create_user("liaison1", PASSWORD, "liaison", ids["unit_a"])
    return ids


def _csv_units(response) -> set[str]:
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline=""))
    return {row["evaluation_id"] for row in rows}


def test_liaison_exports_hold_only_their_units(app, client, world):
    login(client, "liaison1")
    base = f"/admin/campaigns/{world['campaign']}"
    assert _csv_units(client.get(f"{base}/results.csv")) == {str(world["a"])}
    # another committee in the URL narrows nothing for them: still only their own unit, never the other's
    assert _csv_units(client.get(f"{base}/results.csv?committee={world['other_committee']}")) == {str(world["a"])}
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}/results.xlsx").data))
    names = {cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert "第一单位" in names and "别处单位" not in names and "别处党委" not in names
    assert client.get(f"/admin/evaluations/{world['a']}/results.xlsx").status_code == 200
    assert client.get(f"/admin/evaluations/{world['c']}/results.csv").status_code == 404


def test_organiser_exports_follow_the_committee_filter(app, client, world):
    login(client, "organiser1")
    base = f"/admin/campaigns/{world['campaign']}"
    everything = {str(world[k]) for k in ("a", "b", "c")}
    assert _csv_units(client.get(f"{base}/results.csv")) == everything
    assert _csv_units(client.get(f"{base}/results.csv?committee={world['committee']}")) == {str(world["a"]),
                                                                                            str(world["b"])}
    # a bad or unknown committee narrows nothing and never fails
    for bad in ("abc", "999999", str(world["unit_a"]), "-1", "99999999999999999999"):
        assert _csv_units(client.get(f"{base}/results.csv?committee={bad}")) == everything, bad


def test_the_overview_export_links_carry_the_committee(app, client, world):
    login(client, "organiser1")
    html = client.get(f"/admin/campaigns/{world['campaign']}?committee={world['committee']}").get_data(as_text=True)
    assert f"results.csv?questionnaire=satisfaction&amp;committee={world['committee']}" in html


def test_liaison_filter_lists_only_their_committee_and_ignores_another(app, client, world):
    login(client, "liaison1")
    base = f"/admin/campaigns/{world['campaign']}"
    html = client.get(base).get_data(as_text=True)
    select = html.split('name="committee"')[1].split("</select>")[0]
    assert f'value="{world["committee"]}"' in select and "别处党委" not in select
    # picking another committee (by URL) shows their own units, not an empty "no make-up" page
    other = client.get(f"{base}?committee={world['other_committee']}")
    assert other.status_code == 200
    page = other.get_data(as_text=True)
    assert "第一单位" in page and "别处" not in page and "没有单位需要补课" not in page


def test_a_unit_not_judged_comes_last_in_the_campaign_exports_even_with_the_lower_id(app, client, campaign):
    """第一单位 (lower id) has 5 ballots: not judged; 第二单位 has 8, all 满意: judged. Exports rank, not sort by id."""
    from evaluation.services import create_evaluation, create_user
    from results_data import _submit
    from surveys import box

    with app.app_context():
        small = campaign["evaluation"]
        judged = create_evaluation(campaign["units"][1], "satisfaction", ["党员"], open_now=True).id
        for _ in range(5):
            _submit(app, small, "党员", [0] * 6, None)
        for _ in range(8):
            _submit(app, judged, "党员", [1] * 6, None)
        box.close([small, judged])
        create_user("organiser1", PASSWORD, "organiser")
    login(client, "organiser1")
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/admin/campaigns/{campaign['campaign']}/results.csv").data.decode("utf-8-sig"), newline="")))
    assert [r["evaluation_id"] for r in rows][0] == str(judged) and rows[-1]["evaluation_id"] == str(small)
    assert rows[-1]["overall_rate"] == "" and rows[-1]["judged"] == "False"
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/admin/campaigns/{campaign['campaign']}/results.xlsx").data))
    units = [row for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert [u[0] for u in units] == [judged, small] and units[-1][-3] is None  # overall_rate withheld
