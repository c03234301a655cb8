"""Disclosure control on every surface and for every role: the attacks of issue 12, point 4.

A lone 群众代表 beside nine 党员, a unit of six ballots, and the subtraction of
shown groups from pooled figures, tried as organiser, viewer and liaison through
the unit page, the overview (with its rater-group filter), the API, the CLI,
CSV/XLSX, the printed report and the raw ballots export.
"""
from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from extensions import db
from tests.evaluation.results_data import PASSWORD, _submit, login, make_token

ROLES = ("organiser", "viewer", "liaison")


@pytest.fixture()
def lone(app, campaign):
    """第一单位: 9 党员 (all 满意) and one 群众代表 (all 不满意, comment "孤独的意见"); 第二单位: 6 ballots, all 满意.

    The second unit's 100% rests on six people: it must rank last, without a rate.
    """
    from evaluation.services import create_evaluation, create_user
    from surveys import box

    with app.app_context():
        first = campaign["evaluation"]
        second = create_evaluation(campaign["units"][1], "satisfaction", ["党员"], open_now=True).id
        for _ in range(9):
            _submit(app, first, "党员", [0] * 6, None)
        _submit(app, first, "群众代表", [3] * 6, "孤独的意见")
        for _ in range(6):
            _submit(app, second, "党员", [0] * 6, None)
        box.close([first, second])
        create_user("organiser", PASSWORD, "organiser")
        create_user("viewer", PASSWORD, "viewer")
        create_user("liaison", PASSWORD, "liaison", campaign["committee"])
    return {"first": first, "second": second, "campaign": campaign["campaign"],
            "group": campaign["groups"]["群众代表"], "party": campaign["groups"]["党员"]}


def _signed_in(app, role: str):
    client = app.test_client()
    login(client, role)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_a_lone_rater_is_never_shown_by_group(app, lone, role):
    client = _signed_in(app, role)
    page = client.get(f"/admin/evaluations/{lone['first']}").get_data(as_text=True)
    # option shares only pooled over all ten raters, never by group (n = 1)
    shares = page.split('id="shares-h"')[1].split("</section>")[0]
    assert "全体测评人" in shares and "群众代表" not in shares and "党员" not in shares
    comments = page.split('<ul class="comments">')[1].split("</ul>")[0]
    assert "孤独的意见" in comments and "群众代表" not in comments  # the comment, never its group
    # the pooled figures stay: 9 of 10 satisfied on every item
    assert "90.0%" in page
    token = make_token(app, role + "-api", role, None if role != "liaison" else lone_unit(app, lone))
    document = client.get(f"/api/v1/evaluations/{lone['first']}/results",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
    assert all(item["groups"] == [] for item in document["units"][0]["items"])


def lone_unit(app, lone) -> int:
    from models import Evaluation

    with app.app_context():
        return db.session.get(Evaluation, lone["first"]).unit_id


@pytest.mark.parametrize("role", ROLES)
def test_subtracting_the_shown_group_from_the_pooled_figures_finds_nothing(app, lone, role):
    """Filtering the overview by 党员 (9 ballots) beside the pooled view would give the lone 群众代表 by subtraction."""
    client = _signed_in(app, role)
    base = f"/admin/campaigns/{lone['campaign']}?questionnaire=satisfaction"
    for group in (lone["party"], lone["group"]):
        page = client.get(f"{base}&group={group}").get_data(as_text=True)
        row = page.split('href="/admin/evaluations/%d"' % lone["first"])[1].split("</tr>")[0]
        assert "%" not in row, (group, row)  # no rate for the unit under either group's filter
    workbook = client.get(f"/admin/evaluations/{lone['first']}/results.xlsx")
    if workbook.status_code == 200:
        book = openpyxl.load_workbook(io.BytesIO(workbook.data))
        groups = book[book.sheetnames[-1]]
        assert groups.max_row <= 1 or all(r[0].value is None for r in groups.iter_rows(min_row=2))


def _values(array) -> list:
    """A plotly JSON array as a list: plain, or typed (``{"dtype", "bdata"}``, base64), as plotly 6+ writes numbers."""
    if isinstance(array, dict):
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array or [])


def _rows(table: str) -> list[str]:
    return [row for row in table.split("<tr")[1:] if "/admin/evaluations/" in row]


@pytest.mark.parametrize("role", ROLES)
def test_a_unit_of_six_ranks_last_without_a_rate_everywhere(app, lone, role):
    client = _signed_in(app, role)
    overview = client.get(f"/admin/campaigns/{lone['campaign']}?questionnaire=satisfaction").get_data(as_text=True)
    # the ranking table: the judged unit first with rank 1, the unit of six last, no rank, no rate
    table = overview.split('id="ranking-table"')[1].split("</table>")[0]
    first, second = _rows(table)
    assert f'/admin/evaluations/{lone["first"]}"' in first and f'/admin/evaluations/{lone["second"]}"' in second
    assert '<td class="num">1</td>' in first and '<td class="num">—</td>' in second
    assert "%" not in second and "row-muted" in second and "不作评判" in second
    chart = overview.split('data-target="fig-ranking"')
    figure = json.loads(chart[1].split(">", 1)[1].split("</script>")[0])
    grey = [t for t in figure["data"] if t["marker"]["color"] == "#c7c7c7"][0]
    assert [x for x in _values(grey["x"]) if x == x and x is not None] == [] and len(_values(grey["y"])) == 1
    drawn = [x for trace in figure["data"] for x in _values(trace.get("x"))]
    assert 1.0 not in drawn and 0.9 in [round(x, 6) for x in drawn if x == x]  # the six ballots' 100% nowhere
    # plotly draws the first category at the bottom: the unit of six is the lowest bar
    assert figure["layout"]["yaxis"]["categoryarray"][0] == _values(grey["y"])[0]
    report = client.get(f"/admin/campaigns/{lone['campaign']}/report?questionnaire=satisfaction")
    assert report.status_code == 200
    printed = report.get_data(as_text=True).split("<h2 class=\"page-break\">")[1].split("</table>")[0]
    first, second = _rows(printed)
    assert f'/admin/evaluations/{lone["second"]}"' in second and "%" not in second and "100.0%" not in printed


@pytest.mark.parametrize("role", ROLES)
def test_a_unit_of_six_has_no_rate_in_the_exports(app, lone, role):
    client = _signed_in(app, role)
    data = client.get(f"/admin/campaigns/{lone['campaign']}/results.csv").data.decode("utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(data, newline="")) if r["evaluation_id"] == str(lone["second"])]
    assert len(rows) == 1 and rows[0]["judged"] == "False"
    assert rows[0]["overall_rate"] == "" and rows[0]["rate"] == "" and rows[0]["n_unsatisfactory"] == ""
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/admin/campaigns/{lone['campaign']}/results.xlsx").data))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    rate = next(i for i, h in enumerate(header) if h.endswith(" overall_rate"))
    ident = next(i for i, h in enumerate(header) if h.endswith(" evaluation_id"))
    [row] = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[ident] == lone["second"]]
    assert row[rate] is None


def test_raw_exports_leave_out_a_unit_with_a_small_group_and_say_so(app, lone):
    client = _signed_in(app, "organiser")
    data = client.get(f"/admin/campaigns/{lone['campaign']}/ballots.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    assert not [r for r in rows if r["evaluation_id"]]        # 第一单位 has a lone 群众代表, 第二单位 6 < 8
    assert rows[-1]["ballot_id"].startswith("另有 16 张测评票未导出")


def test_a_unit_whose_groups_are_large_enough_shows_its_breakdown(app, campaign):
    """The control is not a blanket: 8 党员 and 8 群众代表 show per-group figures and option shares."""
    from evaluation.services import create_user
    from surveys import box

    with app.app_context():
        for _ in range(8):
            _submit(app, campaign["evaluation"], "党员", [0] * 6, None)
            _submit(app, campaign["evaluation"], "群众代表", [3] * 6, None)
        box.close([campaign["evaluation"]])
        create_user("organiser", PASSWORD, "organiser")
    client = _signed_in(app, "organiser")
    client.get("/lang/en")
    page = client.get(f"/admin/evaluations/{campaign['evaluation']}").get_data(as_text=True)
    assert 'data-target="fig-shares"' in page and "option shares per indicator, by rater group" in page
    token = make_token(app, "organiser")
    document = client.get(f"/api/v1/evaluations/{campaign['evaluation']}/results",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
    groups = {g["group"]: g for g in document["units"][0]["items"][0]["groups"]}
    assert (groups["党员"]["rate"], groups["群众代表"]["rate"]) == (1.0, 0.0)
