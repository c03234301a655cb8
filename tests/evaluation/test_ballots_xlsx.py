"""Raw ballots as XLSX: organisers only, one row per ballot, anonymous, the same answers as the CSV."""
from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import openpyxl
import pytest

from tests.evaluation.results_data import FORMULA_TEXT, HTML_TEXT, PASSWORD, SCRIPT_NAME, login, seed_results


@pytest.fixture()
def seeded(app, campaign):
    return seed_results(app, campaign)


def test_only_organisers_get_the_ballots_workbook(app, client, seeded):
    from evaluation.services import create_user

    url = f"/admin/campaigns/{seeded['campaign']}/ballots.xlsx"
    assert client.get(url).status_code == 302  # to the sign-in page
    with app.app_context():
        create_user("viewer1", PASSWORD, "viewer")
    login(client, "viewer1")
    assert client.get(url).status_code == 403
    client.post("/logout")
    login(client, seeded["organiser"])
    assert client.get("/admin/campaigns/9999/ballots.xlsx").status_code == 404


def test_one_row_per_ballot_with_the_csv_answers(app, client, seeded):
    from extensions import db
    from models import Evaluation

    with app.app_context():  # unit A's groups (6 and 4) meet a minimum of 4; unit B (5 of 8) stays out
        db.session.get(Evaluation, seeded["a"]).min_ballots = 4
        db.session.commit()
    login(client, seeded["organiser"])
    response = client.get(f"/admin/campaigns/{seeded['campaign']}/ballots.xlsx")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert unquote(response.headers["Content-Disposition"].split("''")[1]) == "测试活动-测评票.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["satisfaction"]
    rows = list(workbook["satisfaction"].iter_rows(values_only=True))
    header, body, note = rows[0], rows[1:-1], rows[-1]
    assert note[0].startswith("另有 5 张测评票未导出") and not any(note[1:])
    assert header[:5] == ("测评票 ballot_id", "测评编号 evaluation_id", "单位 unit", "测评主体 group",
                          "提交日期 submitted_on")
    assert header[5].startswith("1. ") and len(header) == 5 + 7  # six rated items and the comment box
    assert len(body) == 10 and len({r[0] for r in body}) == 10
    assert all(r[4].hour == r[4].minute == 0 for r in body)  # the day only
    # Every answer of the CSV is in the workbook, in its ballot's row and its item's column.
    data = client.get(f"/admin/campaigns/{seeded['campaign']}/ballots.csv").data.decode("utf-8-sig")
    from_csv = {(r["ballot_id"], int(r["item_position"])): r["option"] or r["text"]
                for r in csv.DictReader(io.StringIO(data, newline="")) if r["evaluation_id"]}
    from_xlsx = {(r[0], position): r[4 + position] for r in body for position in range(1, 8)
                 if r[4 + position] is not None}
    assert from_xlsx == from_csv
    texts = sorted(v for (_, position), v in from_xlsx.items() if position == 7)
    assert texts == sorted(["'" + FORMULA_TEXT, HTML_TEXT])
    assert not [r for r in body if r[1] == seeded["b"]]  # not judged: left out
    raw = response.data
    for code in seeded["codes"]:  # no code in any spelling (the ZIP is compressed: check the cells too)
        assert code.encode() not in raw
        assert all(code.replace("-", "") not in str(v) for r in body for v in r)


def test_a_campaign_without_evaluations_gives_an_empty_sheet(app, client, seeded):
    from models import Campaign

    with app.app_context():
        from extensions import db

        empty = Campaign(name="空活动")
        db.session.add(empty)
        db.session.commit()
        campaign_id = empty.id
    login(client, seeded["organiser"])
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/admin/campaigns/{campaign_id}/ballots.xlsx").data))
    assert [list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets] == [
        [("测评票 ballot_id", "测评编号 evaluation_id", "单位 unit", "测评主体 group", "提交日期 submitted_on")]]
