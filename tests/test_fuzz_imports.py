"""Property-based fuzzing of the unit import (单位导入): random and malformed CSV and XLSX unit sheets.

Every sheet goes through the real endpoints as a signed-in organiser — the upload
(``POST /admin/units/import``), its preview (``GET /admin/units/import/<token>``) and
the confirmation (``POST``), which is sent even when the preview shows errors, as a
forged request would be. Properties, for every input:

* never a 500: an upload is previewed (302), refused with a reason (400) or too large (413);
* every refusal and every row error is shown in Chinese;
* units are imported only when the whole sheet is valid, and then all of its rows in one
  step; a refused sheet leaves the unit count exactly as it was;
* a sheet built valid (any header language, column order, encoding, delimiter, title row,
  blank rows, padding, formula-looking text) imports exactly its units and parent links, and
  one broken on purpose (duplicate codes, cycles, unknown parents, bad kinds, negative or
  non-numeric or huge member counts, control characters, over-long cells, missing columns)
  imports nothing.
"""
from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass

import pytest
from fuzz_files import damaged_files, foreign_archives, hostile_workbooks, lying_zip_bomb, upload_requests
from fuzz_sheets import BREAKAGES, REFUSALS, sheets, write_csv, write_xlsx
from fuzz_tally import fuzzed  # noqa: F401  (fixture)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from extensions import db
from models import Campaign, Unit

FUZZ = settings(max_examples=110, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
PASSWORD = "correct-horse-1"
CJK = re.compile("[\u4e00-\u9fff]")
CAMPAIGN_NUMBERS = itertools.count(1)


# --- the endpoints ---------------------------------------------------------------------------------


@pytest.fixture()
def org(app, client, tmp_path):
    """The test client signed in as an organiser; pending imports kept under tmp_path."""
    from evaluation.services import create_user

    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    with app.app_context():
        create_user("fuzz-org", PASSWORD, "organiser")
    assert client.post("/login", data={"username": "fuzz-org", "password": PASSWORD}).status_code == 302
    return client


def new_campaign(app) -> int:
    with app.app_context():
        campaign = Campaign(name=f"导入模糊测试 {next(CAMPAIGN_NUMBERS)}")
        db.session.add(campaign)
        db.session.commit()
        return campaign.id


def unit_counts(app, campaign_id: int) -> tuple[int, int]:
    """(units of this campaign, units of all campaigns)."""
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Unit))
        mine = db.session.scalar(select(func.count()).select_from(Unit).where(Unit.campaign_id == campaign_id))
        return mine, total


def upload(client, campaign_id, data: bytes, filename: str):
    return client.post(f"/admin/units/import?campaign={campaign_id}", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename)})


def refusals(html: str) -> list[str]:
    """The reasons a page gives: its field errors, else the message of the error page."""
    return (re.findall(r'<div class="errors"[^>]*><ul>\s*((?:<li>.*?</li>\s*)+)</ul>', html, re.S)
            or re.findall(r'<section class="card notice">\s*<h1>.*?</h1>\s*<p>(.*?)</p>', html, re.S))


def assert_refusal_in_chinese(response) -> None:
    html = response.get_data(as_text=True)
    if response.status_code == 413:
        assert "提交内容过大" in html
    reasons = refusals(html)
    assert reasons and all(CJK.search(r) for r in reasons), html[:2000]


@dataclass
class Outcome:
    campaign_id: int
    status: int
    errors: int | None = None  # rows with errors in the preview
    new: int | None = None  # units the preview would create
    imported: int = 0


def import_sheet(app, client, fuzzed, data: bytes, filename: str) -> Outcome:  # noqa: F811
    """Upload, preview and (forged or not) confirm one sheet into a fresh campaign, checking the properties."""
    campaign_id = new_campaign(app)
    _, total_before = unit_counts(app, campaign_id)
    response = upload(client, campaign_id, data, filename)
    fuzzed("unit import: upload")
    assert response.status_code in (302, 400, 413), response.status_code
    outcome = Outcome(campaign_id, response.status_code)
    if response.status_code != 302:
        assert_refusal_in_chinese(response)
    else:
        location = response.headers["Location"]
        preview = client.get(location)
        fuzzed("unit import: preview")
        html = preview.get_data(as_text=True)
        assert preview.status_code == 200, preview.status_code
        assert "<script>alert" not in html and "<b>" not in html  # names and codes from the sheet are inert
        assert "root:x:0" not in html  # an external entity in a workbook is never resolved
        bad = re.search(r"有 (\d+) 行存在错误,未导入任何单位", html)
        good = re.search(r"全部 (\d+) 行均无错误。确认后将在一次操作中导入 (\d+) 个新单位", html)
        assert bool(bad) != bool(good)
        if bad:
            outcome.errors, outcome.new = int(bad.group(1)), 0
            [listing] = re.findall(r'<ul class="errors">(.*?)</ul>', html, re.S)
            rows = re.findall(r"<li>(.*?)</li>", listing, re.S)
            assert len(rows) == outcome.errors
            messages = [re.match(r"第 \d+ 行(?:\(编码 .*?\))?:(.*)$", r, re.S) for r in rows]
            assert all(m and CJK.search(m.group(1)) for m in messages), rows[:3]
            assert "确认导入" not in html
        else:
            outcome.errors, outcome.new = 0, int(good.group(2))
        confirm = client.post(location)  # sent even when the page offers no button
        fuzzed("unit import: confirm")
        assert confirm.status_code == 302, confirm.status_code
        if outcome.errors:
            assert confirm.headers["Location"].endswith(location)
            assert "未导入任何单位" in client.get(location).get_data(as_text=True)
    mine, total = unit_counts(app, campaign_id)
    outcome.imported = mine
    assert total == total_before + mine  # no other campaign changed
    assert mine == (outcome.new or 0)  # all rows of a valid sheet, or nothing
    return outcome


def test_fuzzed_unit_sheets_import_all_or_nothing_and_never_500(app, org, fuzzed):  # noqa: F811
    """Each kind of damage gets its own run, so each is tried whatever hypothesis favours."""
    for damage in [None, *BREAKAGES, *REFUSALS]:
        check_sheets(app, org, fuzzed, damage)


def check_sheets(app, client, fuzzed, damage: str | None) -> None:  # noqa: F811
    """Upload sheets with ``damage`` (None: valid ones) and check what each imported."""
    @settings(FUZZ, max_examples=30 if damage is None else 6)
    @given(sheets(damage), st.sampled_from(["utf-8-sig", "utf-8", "gb18030", "gbk"]), st.sampled_from([",", ";", "\t"]),
           st.sampled_from(["\r\n", "\n"]))
    def check(example, encoding, delimiter, newline):
        sheet, fmt = example
        encoding = sheet.encoding or encoding
        event(f"{fmt} {sheet.expect}")
        for damage in sheet.damage:
            event(damage)
        data = write_xlsx(sheet) if fmt == "xlsx" else write_csv(sheet, encoding, delimiter, newline)
        outcome = import_sheet(app, client, fuzzed, data, f"units.{fmt}")
        if sheet.expect == "refused":
            assert outcome.status == 400
        elif sheet.expect == "invalid":
            assert outcome.imported == 0
            assert outcome.status == 400 or outcome.errors, "a broken sheet was accepted"
        else:
            assert outcome.status == 302 and outcome.errors == 0, "a valid sheet was refused"
            with app.app_context():
                stored = db.session.scalars(select(Unit).where(Unit.campaign_id == outcome.campaign_id)).all()
                assert {u.code: (u.parent.code if u.parent else "") for u in stored} == sheet.units

    check()


def test_fuzzed_files_damaged_foreign_or_hostile_are_refused_cleanly(app, org, fuzzed):  # noqa: F811
    """Damaged, foreign and hostile files: never a 500, never /etc/passwd on a page, all or nothing."""
    @settings(FUZZ, max_examples=100)
    @given(st.one_of(damaged_files(), foreign_archives(), hostile_workbooks()),
           st.sampled_from(["units.xlsx", "units.csv", "units.xls", "名单.txt", ""]))
    def check(data, filename):
        outcome = import_sheet(app, org, fuzzed, data, filename or "x")
        if outcome.status == 302:
            page = org.get(f"/admin/units?campaign={outcome.campaign_id}").get_data(as_text=True)
            assert "root:x:0" not in page and "<script>alert" not in page

    check()
    outcome = import_sheet(app, org, fuzzed, lying_zip_bomb(), "bomb.xlsx")
    assert outcome.status == 400 and outcome.imported == 0


def test_fuzzed_upload_requests_and_tokens_never_500_and_store_nothing(app, org, fuzzed):  # noqa: F811
    """Malformed upload requests get 400/404/413 in Chinese, odd tokens 404; no unit is ever written."""
    campaign_id = new_campaign(app)
    assert app.config["UPLOAD_MAX"] == 2 * 1024 * 1024

    @settings(FUZZ, max_examples=90)
    @given(upload_requests(), st.one_of(st.just(str(campaign_id)), st.integers(-5, 2**63).map(str),
                                        st.text(max_size=8)),
           st.one_of(st.text(max_size=30), st.from_regex(r"[A-Za-z0-9_-]{22,64}", fullmatch=True)))
    def check(kwargs, campaign, token):
        oversized = kwargs.pop("oversized", False)
        response = org.post("/admin/units/import", query_string={"campaign": campaign}, **kwargs)
        fuzzed("unit import: upload request shape")
        assert response.status_code in (302, 400, 404, 413), response.status_code
        if oversized:
            assert response.status_code in (404, 413)
        if response.status_code in (400, 404, 413):
            assert_refusal_in_chinese(response)
        for method in ("GET", "POST"):
            answer = org.open(f"/admin/units/import/{token}", method=method)
            fuzzed("unit import: preview/confirm token")
            assert answer.status_code in (404, 405, 308), (method, token, answer.status_code)
        assert unit_counts(app, campaign_id)[1] == 0

    check()
