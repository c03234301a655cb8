"""Results CSV/XLSX and raw ballots CSV downloads: access, layout, safety, streaming."""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

import openpyxl
import pytest

from extensions import db

from tests.evaluation.results_data import (
    COMMITTEE_NAME, FORMULA_TEXT, HTML_TEXT, N_ANSWERS, PASSWORD, SCRIPT_NAME, login, seed_results,
)

BOM = b"\xef\xbb\xbf"


@pytest.fixture()
def seeded(app, campaign):
    return seed_results(app, campaign)


@pytest.fixture()
def organiser(client, seeded):
    """The test client signed in as the seeded organiser."""
    login(client, seeded["organiser"])
    return client


def read_csv(data: bytes) -> list[dict]:
    assert data.startswith(BOM)
    return list(csv.DictReader(io.StringIO(data[len(BOM):].decode("utf-8"), newline="")))


def urls(ids: dict) -> list[str]:
    c, a = ids["campaign"], ids["a"]
    return [f"/admin/campaigns/{c}/results.csv", f"/admin/campaigns/{c}/results.xlsx",
            f"/admin/evaluations/{a}/results.csv", f"/admin/evaluations/{a}/results.xlsx",
            f"/admin/campaigns/{c}/ballots.csv"]


# --- access ---------------------------------------------------------------------------------------


def test_exports_need_sign_in(client, seeded):
    for url in urls(seeded):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_liaison_gets_own_results_not_ballots_and_viewer_gets_results_but_not_ballots(app, client, seeded):
    from evaluation.services import create_user

    with app.app_context():
        create_user("liaison1", PASSWORD, "liaison", seeded["unit_a"])
        create_user("viewer1", PASSWORD, "viewer")
    login(client, "liaison1")
    # evaluation A is the liaison's own unit; raw ballots stay for organisers
    assert [client.get(u).status_code for u in urls(seeded)] == [200, 200, 200, 200, 403]
    assert client.get(f"/admin/evaluations/{seeded['b']}/results.csv").status_code == 404  # not their unit
    client.post("/logout")
    login(client, "viewer1")
    assert [client.get(u).status_code for u in urls(seeded)] == [200, 200, 200, 200, 403]


def test_unknown_ids_are_404(organiser, seeded):
    for url in ("/admin/campaigns/9999/results.csv", "/admin/campaigns/9999/results.xlsx",
                "/admin/evaluations/9999/results.csv", "/admin/evaluations/9999/results.xlsx",
                "/admin/campaigns/9999/ballots.csv",
                f"/admin/campaigns/{seeded['campaign']}/results.csv?questionnaire=meeting"):
        assert organiser.get(url).status_code == 404, url


# --- results CSV ----------------------------------------------------------------------------------


def test_campaign_results_csv_rows_figures_and_safety(organiser, seeded):
    response = organiser.get(f"/admin/campaigns/{seeded['campaign']}/results.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="campaign-') and disposition.isascii()
    display = unquote(disposition.split("filename*=UTF-8''")[1])
    assert display == "测试活动-satisfaction-测评结果.csv"

    data = response.data
    assert b"\r\n" in data
    rows = read_csv(data)
    assert len(rows) == 7  # unit A's 6 items, and one row for unit B (not judged: no item figures)
    a_rows = [r for r in rows if r["unit_id"] == str(seeded["unit_a"])]
    assert [r["rate"] for r in a_rows] == ["1", "0.5", "0.6", "0.5", "", "0.3"]
    assert [r["n_valid"] for r in a_rows] == ["10", "10", "10", "8", "0", "10"]
    assert [r["unsatisfactory"] for r in a_rows] == ["False", "True", "False", "True", "False", "True"]
    assert {r["overall_rate"] for r in a_rows} == {"0.58"} and {r["needs_makeup"] for r in a_rows} == {"True"}
    assert a_rows[2]["ci_low"] == "0.312674" and a_rows[2]["ci_high"] == "0.83182"
    # formula in the committee name: neutralised; a <script> unit name is plain text in a CSV cell
    assert {r["committee"] for r in rows} == {"'" + COMMITTEE_NAME}
    b_rows = [r for r in rows if r["unit_id"] == str(seeded["unit_b"])]
    assert {r["unit"] for r in b_rows} == {SCRIPT_NAME} and {r["judged"] for r in b_rows} == {"False"}
    assert [(r["item_id"], r["rate"], r["overall_rate"]) for r in b_rows] == [("", "", "")]  # withheld


def test_evaluation_results_csv_lists_a_unit_without_ballots(app, organiser, seeded):
    from evaluation.services import create_evaluation

    with app.app_context():
        empty = create_evaluation(seeded["unit_a"], "meeting").id
    rows = read_csv(organiser.get(f"/admin/evaluations/{empty}/results.csv").data)
    assert len(rows) == 1
    assert (rows[0]["n_ballots"], rows[0]["judged"], rows[0]["item_id"], rows[0]["rate"]) == ("0", "False", "", "")
    rows = read_csv(organiser.get(f"/admin/evaluations/{seeded['a']}/results.csv").data)
    assert [r["item_position"] for r in rows] == ["1", "2", "3", "4", "5", "6"]


# --- results XLSX ---------------------------------------------------------------------------------


def test_campaign_results_xlsx_sheets_header_and_formats(organiser, seeded):
    response = organiser.get(f"/admin/campaigns/{seeded['campaign']}/results.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="campaign-' in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["单位 units", "指标 items", "党(工)委 committees"]
    assert all(sheet.freeze_panes == "A2" for sheet in book.worksheets)

    units = book["单位 units"]
    header = [c.value for c in units[1]]
    assert header[:5] == ["测评编号 evaluation_id", "党(工)委编号 committee_id", "党(工)委 committee",
                          "单位编号 unit_id", "单位 unit"]
    assert units.max_row == 3 and all(c.font.bold for c in units[1])
    rate_col = header.index("综合满意率 overall_rate")
    first = units[2]
    assert first[rate_col].value == pytest.approx(0.58) and first[rate_col].number_format == "0.0%"
    assert first[header.index("党(工)委 committee")].value == "'" + COMMITTEE_NAME
    assert units[3][header.index("单位 unit")].value == SCRIPT_NAME

    items = book["指标 items"]
    header = [c.value for c in items[1]]
    assert items.max_row == 8  # header, unit A's 6 items, one row for unit B (not judged: no figures)
    rate = [items.cell(row=r, column=header.index("满意率 rate") + 1) for r in range(2, 8)]
    values = [c.value for c in rate]
    assert values[4] is None  # item 5: unknown only, not rated
    assert [v for v in values if v is not None] == pytest.approx([1.0, 0.5, 0.6, 0.5, 0.3])
    assert {c.number_format for c in rate if c.value is not None} == {"0.0%"}

    committees = book["党(工)委 committees"]
    header = [c.value for c in committees[1]]
    row = {h: c.value for h, c in zip(header, committees[2])}
    assert row["党(工)委 committee"] == "'" + COMMITTEE_NAME
    assert (row["单位数 n_units"], row["评判单位数 n_judged"], row["需补课单位数 n_makeup"]) == (2, 1, 1)
    assert row["平均综合满意率 mean_overall_rate"] == pytest.approx(0.58)
    assert committees.cell(row=2, column=header.index("平均综合满意率 mean_overall_rate") + 1).number_format == "0.0%"


def test_evaluation_results_xlsx_has_group_sheet(organiser, seeded):
    book = openpyxl.load_workbook(io.BytesIO(organiser.get(f"/admin/evaluations/{seeded['a']}/results.xlsx").data))
    assert book.sheetnames == ["单位 units", "指标 items", "测评主体 groups"]
    groups = book["测评主体 groups"]
    header = [c.value for c in groups[1]]
    rows = [{h: c.value for h, c in zip(header, r)} for r in groups.iter_rows(min_row=2)]
    # 党员 6 and 群众代表 4 ballots are below min_ballots 8: no group's figures leave the system
    assert rows == [] or all(r["测评主体 group"] is None for r in rows)


# --- raw ballots CSV ------------------------------------------------------------------------------


def _raw_rules(app, seeded) -> None:
    """Unit A's groups (6 and 4 ballots) meet a minimum of 4: its ballots may be exported; B's 5 of 8 may not."""
    from models import Evaluation

    with app.app_context():
        db.session.get(Evaluation, seeded["a"]).min_ballots = 4
        db.session.commit()


def test_ballots_csv_is_anonymous_dated_and_neutralised(app, organiser, seeded):
    _raw_rules(app, seeded)
    response = organiser.get(f"/admin/campaigns/{seeded['campaign']}/ballots.csv")
    assert response.status_code == 200 and response.is_streamed
    assert unquote(response.headers["Content-Disposition"].split("''")[1]) == "测试活动-测评票.csv"
    data = response.data
    every = read_csv(data)
    rows = [r for r in every if r["evaluation_id"]]
    assert list(rows[0]) == ["ballot_id", "evaluation_id", "unit", "group", "submitted_on", "item_position",
                             "item", "option", "text"]
    # unit B (5 ballots < 8: not judged) is left out, and the last line says so
    assert len(rows) == N_ANSWERS - 5 * 6 and len(every) == len(rows) + 1
    assert every[-1]["ballot_id"].startswith("另有 5 张测评票未导出")
    assert len({r["ballot_id"] for r in rows}) == 10
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["submitted_on"]) for r in rows)  # the day, no time
    text = data.decode("utf-8")
    for code in seeded["codes"]:  # no code, in any spelling
        assert code not in text and code.replace("-", "") not in text
    texts = sorted(r["text"] for r in rows if r["text"])
    assert texts == sorted(["'" + FORMULA_TEXT, HTML_TEXT])
    a_first_item = [r for r in rows if r["evaluation_id"] == str(seeded["a"]) and r["item_position"] == "3"]
    assert sorted(r["option"] for r in a_first_item) == ["不满意"] * 4 + ["基本满意"] * 6
    assert not [r for r in rows if r["evaluation_id"] == str(seeded["b"])]


def test_ballots_are_fetched_from_the_database_in_batches(app, organiser, seeded):
    from evaluation.results.raw_ballots import ballot_csv_chunks
    from extensions import db

    _raw_rules(app, seeded)
    exported = N_ANSWERS - 5 * 6  # unit B left out

    seen = {"options": None, "partitions": []}
    real_execute = db.session.execute

    class CountingResult:
        """Passes the result through, noting the size of each batch the export pulls."""

        def __init__(self, result):
            self.result = result

        def partitions(self):
            for rows in self.result.partitions():
                seen["partitions"].append(len(rows))
                yield rows

    def spy(statement, *args, **kwargs):
        seen["options"] = statement.get_execution_options()
        return CountingResult(real_execute(statement, *args, **kwargs))

    with app.test_request_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(db.session, "execute", spy)
        chunks = list(ballot_csv_chunks(seeded["campaign"], batch=7))
    # yield_per: fetched 7 rows at a time (a server-side cursor on PostgreSQL), never all at once
    assert seen["options"]["yield_per"] == 7
    assert seen["partitions"] == [7] * (exported // 7) + [exported % 7]
    # header, then one chunk per batch, then the line saying what was left out
    assert len(chunks) == 1 + len(seen["partitions"]) + 1
    assert [c.count("\r\n") for c in chunks] == [1] + seen["partitions"] + [1]
    download = organiser.get(f"/admin/campaigns/{seeded['campaign']}/ballots.csv").data
    assert "".join(chunks).encode("utf-8") == download
