"""Codes and slips: shown once (slips with QR codes, and the same codes as CSV), counts afterwards,
voiding, turnout, the per-request cap, and liaisons limited to their own units.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import re

import pytest
from sqlalchemy import inspect, select, text

from evaluation.codes.slips import SLIP_LIMIT, qr_svg
from extensions import db
from models import AuditLog, Ballot, BallotCode, CodeBatch, CodeStatus, Evaluation
from tests.evaluation.manage_data import audit_rows, login, make_user
from tests.evaluation.html_forms import confirm_step

CODE = re.compile(r'<p class="slip-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</p>')
QR = re.compile(r'<svg[^>]*class="qr"')
CSV_LINK = re.compile(r'href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)" download="([^"]+)"')


@pytest.fixture()
def org(app, client, campaign):
    make_user(app, "org")
    login(client, "org")
    return campaign


def _issue(client, evaluation_id: int, group_ids, count: int, output: str = "slips", nonce: str = ""):
    return client.post(f"/admin/evaluations/{evaluation_id}/codes",
                       data={"groups": group_ids, "count": count, "output": output, "nonce": nonce,
                             "confirm": count * len(group_ids)})  # the total the confirmation page states


def _csv_rows(raw: str) -> list[dict]:
    assert raw.startswith("\ufeff")  # Excel needs the BOM to read UTF-8
    return list(csv.DictReader(io.StringIO(raw[1:])))


def test_slip_sheet_shows_n_qr_codes_and_n_grouped_codes_that_each_work(client, org):
    group = org["groups"]["党员"]
    response = _issue(client, org["evaluation"], [group], 7)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    codes = CODE.findall(html)
    assert len(codes) == len(set(codes)) == 7
    assert len(QR.findall(html)) == 7
    assert html.count('class="slip-sheet"') == 1 and "第一单位" in html and "党员" in html
    for code in codes:
        # The QR code on the page is exactly the one for the absolute /v/<code> link.
        assert str(qr_svg(f"http://localhost/v#{code}")) in html
        assert client.post("/v", data={"code": code}, follow_redirects=True).status_code == 200


def test_slips_are_split_into_pages_of_ten(client, org):
    html = _issue(client, org["evaluation"], list(org["groups"].values()), 8).get_data(as_text=True)
    assert len(CODE.findall(html)) == 24 and html.count('class="slip-sheet"') == 3


def test_csv_link_on_the_slip_page_holds_the_same_codes(client, org):
    html = _issue(client, org["evaluation"], [org["groups"]["群众代表"]], 5).get_data(as_text=True)
    encoded, filename = CSV_LINK.search(html).groups()
    rows = _csv_rows(base64.b64decode(encoded).decode("utf-8"))
    assert len(rows) == 5 and filename.endswith(".csv")
    assert {r["code"] for r in rows} == set(CODE.findall(html))
    assert {r["group"] for r in rows} == {"群众代表"} and {r["unit"] for r in rows} == {"第一单位"}
    assert all(r["url"] == f"http://localhost/v#{r['code']}" for r in rows)


def test_csv_only_button_returns_exactly_n_codes(client, org, code_status):
    response = _issue(client, org["evaluation"], [org["groups"]["服务对象"]], 6, output="csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    rows = _csv_rows(response.get_data(as_text=True))
    assert len(rows) == len({r["code"] for r in rows}) == 6
    assert {code_status(r["code"]) for r in rows} == {CodeStatus.UNUSED}


def _every_stored_value(app) -> str:
    """Every cell of every table, as one string (to search for a leaked plain code)."""
    with app.app_context():
        parts = []
        for table in inspect(db.engine).get_table_names():
            for row in db.session.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(" ".join(str(v) for v in row))
        return "\n".join(parts)


def test_after_issuing_only_counts_remain(app, client, org):
    html = _issue(client, org["evaluation"], [org["groups"]["党员"]], 4).get_data(as_text=True)
    codes = CODE.findall(html)
    stored = _every_stored_value(app).upper()
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
    later = client.get(f"/admin/evaluations/{org['evaluation']}/codes")
    page = later.get_data(as_text=True)
    assert later.status_code == 200
    assert not CODE.search(page) and "<svg" not in page
    for code in codes:
        assert code not in page and code.replace("-", "") not in page
    assert re.search(r'<td class="num">4</td><td class="num">0</td>', page)  # issued 4, used 0
    [entry] = audit_rows(app, "codes_issue")
    assert json.loads(entry.detail)["codes"] == 4
    assert not any(code.replace("-", "") in entry.detail for code in codes)


def test_a_reload_of_the_issuing_post_issues_nothing_more(app, client, org, count_rows):
    first = _issue(client, org["evaluation"], [org["groups"]["党员"]], 3, nonce="once")
    again = _issue(client, org["evaluation"], [org["groups"]["党员"]], 3, nonce="once")
    assert first.status_code == 200 and again.status_code == 409
    assert "已经发放" in again.get_data(as_text=True) and not CODE.search(again.get_data(as_text=True))
    assert count_rows(CodeBatch) == 1 and count_rows(BallotCode) == 3


def test_the_issuing_form_carries_a_fresh_nonce(client, org):
    page = client.get(f"/admin/evaluations/{org['evaluation']}/codes").get_data(as_text=True)
    nonces = re.findall(r'name="nonce" type="hidden" value="([^"]+)"', page)
    assert len(nonces) == 1 and len(nonces[0]) >= 16


def test_bulk_issue_for_every_unit_of_a_committee(app, client, org, count_rows):
    from evaluation.services import create_evaluation

    with app.app_context():
        create_evaluation(org["units"][1], "satisfaction", ["党员", "群众代表"])
    groups = [org["groups"]["党员"], org["groups"]["群众代表"], org["groups"]["服务对象"]]
    response = client.post(f"/admin/campaigns/{org['campaign']}/codes",
                           data={"questionnaire": "satisfaction", "scope": f"c{org['committee']}",
                                 "groups": groups, "count": 2, "output": "slips", "confirm": 10})
    html = response.get_data(as_text=True)
    # unit 1 has three groups, unit 2 two: five batches of two codes
    assert response.status_code == 200 and len(CODE.findall(html)) == 10 and len(QR.findall(html)) == 10
    assert count_rows(CodeBatch) == 5 and count_rows(BallotCode) == 10
    assert html.count("第二单位") == 4
    [entry] = audit_rows(app, "codes_issue")
    assert json.loads(entry.detail)["codes"] == 10 and entry.target == f"campaign:{org['campaign']}"


@pytest.mark.parametrize("count, output", [(SLIP_LIMIT + 1, "slips"), (2600, "csv")])
def test_requests_over_the_cap_are_refused_and_store_nothing(client, org, count_rows, count, output):
    groups = [org["groups"]["党员"], org["groups"]["群众代表"]]
    response = _issue(client, org["evaluation"], groups, count, output)
    assert response.status_code == 400
    assert "一次最多发放" in response.get_data(as_text=True)
    assert count_rows(BallotCode) == 0 and count_rows(CodeBatch) == 0


@pytest.mark.parametrize("form, message", [
    ({"groups": [], "count": 3}, "请至少选择一个测评主体"),
    ({"groups": ["GROUP"], "count": 0}, "须为 1 到 5000"),
    ({"groups": ["GROUP"], "count": "many"}, "请输入整数"),
    ({"groups": ["99999"], "count": 3}, "所选项无效"),
])
def test_bad_issuing_forms_are_refused_in_chinese(client, org, count_rows, form, message):
    form = {k: ([org["groups"]["党员"]] if v == ["GROUP"] else v) for k, v in form.items()}
    response = client.post(f"/admin/evaluations/{org['evaluation']}/codes", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert count_rows(BallotCode) == 0


def test_void_a_batch(app, client, org, answers_for, count_rows, code_status, count_ballots):
    codes = CODE.findall(_issue(client, org["evaluation"], [org["groups"]["党员"]], 3).get_data(as_text=True))
    assert client.post("/v", data={**(answers_for(org["evaluation"])), "code": codes[0], "ballot": "1"}).status_code == 303
    with app.app_context():
        batch_id = db.session.scalar(select(CodeBatch.id))
    asked = client.post(f"/admin/batches/{batch_id}/void")  # irreversible: the first post only asks
    assert asked.status_code == 200 and f"作废第 {batch_id} 批中 2 个未使用的测评码" in asked.get_data(as_text=True)
    assert code_status(codes[1]) is CodeStatus.UNUSED and not audit_rows(app, "codes_void")
    assert client.post(f"/admin/batches/{batch_id}/void", data={"confirm": "3"}).status_code == 200  # not what was stated
    assert code_status(codes[1]) is CodeStatus.UNUSED
    response = confirm_step(client, asked.get_data(as_text=True), f"/admin/batches/{batch_id}/void", 2)
    assert response.status_code == 303
    assert "已作废 2 个" in client.get(response.headers["Location"]).get_data(as_text=True)
    for code in codes[1:]:
        voided = client.post("/v", data={"code": code}, follow_redirects=True)
        assert voided.status_code == 410 and "测评码已作废" in voided.get_data(as_text=True)
    assert client.post("/v", data={"code": codes[0]}, follow_redirects=True).status_code == 409  # the used one keeps its ballot
    assert count_ballots() == 1 and code_status(codes[0]) is CodeStatus.USED
    [entry] = audit_rows(app, "codes_void")
    assert entry.target == f"batch:{batch_id}" and json.loads(entry.detail)["unused_voided"] == 2
    assert client.post("/admin/batches/999999/void").status_code == 404


def test_turnout_counts_follow_the_ballots(app, client, org, answers_for):
    from evaluation.codes.slips import turnout_rows

    codes = CODE.findall(_issue(client, org["evaluation"], [org["groups"]["党员"]], 4).get_data(as_text=True))

    def used_issued():
        with app.app_context():
            [row] = turnout_rows(org["campaign"], evaluation_id=org["evaluation"])
            return row["used"], row["issued"]

    assert used_issued() == (0, 4)
    client.post("/v", data={**(answers_for(org["evaluation"])), "code": codes[0], "ballot": "1"})
    assert used_issued() == (1, 4)
    page = client.get(f"/admin/campaigns/{org['campaign']}/turnout").get_data(as_text=True)
    assert "第一单位" in page and "25%" in page
    assert "25%" in client.get(f"/admin/evaluations/{org['evaluation']}/codes").get_data(as_text=True)


def test_live_turnout_json_follows_the_ballots_as_the_page_refreshes_them(app, client, org, answers_for):
    """turnout.json (read by static/js/turnout.js every 15 s) gives the page's rows and totals, unstored."""
    codes = CODE.findall(_issue(client, org["evaluation"], [org["groups"]["党员"]], 4).get_data(as_text=True))
    url = f"/admin/campaigns/{org['campaign']}/turnout.json"
    page = client.get(f"/admin/campaigns/{org['campaign']}/turnout").get_data(as_text=True)
    key = f"{org['evaluation']}:党员"
    assert f'data-turnout="{key}"' in page and 'src="/static/js/turnout.js?v=' in page
    assert f'data-source="{url}"' in page
    before = client.get(url)
    assert before.status_code == 200 and before.headers["Cache-Control"] == "no-store"
    assert before.get_json() == {"issued": 4, "used": 0, "rate": "0%",
                                 "rows": [{"key": key, "issued": 4, "used": 0, "rate": "0%"}]}
    client.post("/v", data={**(answers_for(org["evaluation"])), "code": codes[0], "ballot": "1"})
    client.post("/v", data={**(answers_for(org["evaluation"])), "code": codes[1], "ballot": "1"})
    after = client.get(url).get_json()
    assert (after["used"], after["rate"], after["rows"][0]["used"], after["rows"][0]["rate"]) == (2, "50%", 2, "50%")


def test_closed_evaluations_get_no_codes(app, client, org, count_rows):
    from models import EvaluationStatus

    with app.app_context():
        db.session.get(Evaluation, org["evaluation"]).status = EvaluationStatus.CLOSED
        db.session.commit()
    response = _issue(client, org["evaluation"], [org["groups"]["党员"]], 2)
    assert response.status_code == 400 and "测评已结束" in response.get_data(as_text=True)
    assert count_rows(BallotCode) == 0


# --- liaisons and viewers -----------------------------------------------------------------------

@pytest.fixture()
def liaison(app, client, campaign):
    """A liaison of 第一单位, signed in; 第二单位 has an evaluation too."""
    from evaluation.services import create_evaluation

    with app.app_context():
        other = create_evaluation(campaign["units"][1], "satisfaction", open_now=True).id
    make_user(app, "liaison1", "liaison", campaign["units"][0])
    login(client, "liaison1")
    return {**campaign, "other": other}


def test_liaison_issues_and_prints_for_their_own_unit(client, liaison, count_rows):
    response = _issue(client, liaison["evaluation"], [liaison["groups"]["党员"]], 3)
    assert response.status_code == 200 and len(CODE.findall(response.get_data(as_text=True))) == 3
    assert client.get(f"/admin/evaluations/{liaison['evaluation']}/codes").status_code == 200


def test_liaison_cannot_touch_another_units_codes(app, client, liaison, count_rows):
    assert client.get(f"/admin/evaluations/{liaison['other']}/codes").status_code == 404
    assert _issue(client, liaison["other"], [liaison["groups"]["党员"]], 3).status_code == 404
    assert count_rows(BallotCode) == 0
    with app.app_context():
        batch = CodeBatch(evaluation_id=liaison["other"], rater_group_id=liaison["groups"]["党员"], count=0)
        db.session.add(batch)
        db.session.commit()
        batch_id = batch.id
    assert client.post(f"/admin/batches/{batch_id}/void").status_code == 403


def test_liaison_bulk_issue_covers_only_their_units(app, client, liaison, count_rows):
    response = client.post(f"/admin/campaigns/{liaison['campaign']}/codes",
                           data={"questionnaire": "satisfaction", "scope": "all",
                                 "groups": [liaison["groups"]["党员"]], "count": 2, "output": "csv", "confirm": 2})
    rows = _csv_rows(response.get_data(as_text=True))
    assert len(rows) == 2 and {r["unit"] for r in rows} == {"第一单位"}
    with app.app_context():
        assert set(db.session.scalars(select(BallotCode.evaluation_id))) == {liaison["evaluation"]}
    # the committee is not theirs: choosing it is an invalid choice
    refused = client.post(f"/admin/campaigns/{liaison['campaign']}/codes",
                          data={"questionnaire": "satisfaction", "scope": f"c{liaison['committee']}",
                                "groups": [liaison["groups"]["党员"]], "count": 2})
    assert refused.status_code == 400 and count_rows(BallotCode) == 2


def test_liaison_turnout_shows_only_their_units(app, client, liaison, issue):
    issue(liaison["other"], "党员", 2)
    issue(liaison["evaluation"], "党员", 2)
    page = client.get(f"/admin/campaigns/{liaison['campaign']}/turnout").get_data(as_text=True)
    assert "第一单位" in page and "第二单位" not in page
    live = client.get(f"/admin/campaigns/{liaison['campaign']}/turnout.json").get_json()
    assert [row["key"] for row in live["rows"]] == [f"{liaison['evaluation']}:党员"] and live["issued"] == 2


def test_viewer_reads_turnout_but_cannot_issue(app, client, campaign):
    make_user(app, "viewer1", "viewer")
    login(client, "viewer1")
    assert client.get(f"/admin/campaigns/{campaign['campaign']}/turnout").status_code == 200
    assert client.get(f"/admin/campaigns/{campaign['campaign']}/turnout.json").status_code == 200
    assert client.get(f"/admin/evaluations/{campaign['evaluation']}/codes").status_code == 403
    assert client.get(f"/admin/campaigns/{campaign['campaign']}/codes").status_code == 403
    assert _issue(client, campaign["evaluation"], [campaign["groups"]["党员"]], 2).status_code == 403


def test_audit_entries_never_hold_a_code(app, client, org):
    codes = CODE.findall(_issue(client, org["evaluation"], [org["groups"]["党员"]], 3).get_data(as_text=True))
    with app.app_context():
        details = " ".join(a.detail + a.target for a in db.session.scalars(select(AuditLog)))
        hashes = set(db.session.scalars(select(BallotCode.code_hash)))
    assert not any(c.replace("-", "") in details or c in details for c in codes)
    assert not any(h in details for h in hashes)


def test_bulk_slips_print_one_unit_per_sheet_in_chinese_whatever_the_interface(app, client, org):
    """Slips go to raters: Chinese on paper with the organiser's interface in English, no sheet mixing units."""
    from evaluation.services import create_evaluation

    with app.app_context():
        create_evaluation(org["units"][1], "satisfaction", ["党员", "群众代表"])
    client.get("/lang/en")
    groups = [org["groups"]["党员"], org["groups"]["群众代表"], org["groups"]["服务对象"]]
    html = client.post(f"/admin/campaigns/{org['campaign']}/codes",
                       data={"questionnaire": "satisfaction", "scope": f"c{org['committee']}",
                             "groups": groups, "count": 2, "output": "slips", "confirm": 10}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Print slips" in html  # the interface stays English
    sheets = html.split('<section class="slip-sheet"')[1:]
    # unit 1: 3 groups × 2 = 6 slips, unit 2: 2 × 2 = 4: two sheets, not one sheet of ten
    units = [set(re.findall(r'<p class="slip-unit">([^<]+)</p>', sheet)) for sheet in sheets]
    assert [len(CODE.findall(sheet)) for sheet in sheets] == [6, 4] and all(len(u) == 1 for u in units)
    assert units[0] != units[1]
    for sheet in sheets:
        assert "测评主体:" in sheet and "每码限用一次,无记名" in sheet
        assert "Rater group" not in sheet and "one use" not in sheet.lower()
