"""Scanned answer sheets in a real browser: upload a small PDF, watch the progress, resolve one review item.

Its own gunicorn (the session server has no scan directory of the test's own)
on the test database, filled through the function-scoped ``app`` fixture.
"""
from __future__ import annotations

import os
import re

import pytest
from conftest import start_server, stop_server  # tests/conftest.py

from tests.evaluation import sheet_scans
from tests.evaluation.sheets_data import print_sheets, scans, some_answers

from .conftest import LAPTOP, login

PASSWORD = "sheets-e2e-password"


@pytest.fixture()
def scan_server(browser, app, database_url, tmp_path):
    """A gunicorn with a private scan directory of this test's own."""
    folder = tmp_path / "scans"
    proc, base = start_server(database_url, workers=2, extra_env={"CEPING_SCAN_DIR": str(folder)})
    yield base, folder
    stop_server(proc)


def test_upload_follow_progress_and_resolve_a_review_item(app, campaign, scan_server, new_page, shot, tmp_path,
                                                          code_status):
    from evaluation.services import create_user
    from models import CodeStatus

    base, folder = scan_server
    with app.app_context():
        create_user("sheets-e2e", PASSWORD, "organiser")
    evaluation = campaign["evaluation"]
    printed = print_sheets(app, evaluation, 3)
    answers = some_answers(app, evaluation, 3)
    first = printed.layout.items[0]
    for a in answers:
        a[first.item_id] = (first.bubbles[0].option_id,)

    def faint(image, layout, rnd):
        bubble = layout.items[0].bubbles[-1]
        sheet_scans.mark(image, bubble.x, bubble.y, bubble.r, "faint", 150, rnd)

    pdf = tmp_path / "stack.pdf"
    pdf.write_bytes(sheet_scans.to_pdf(scans(printed, answers, extra={2: faint})))

    page = new_page(**LAPTOP)
    login(page, base, "sheets-e2e", PASSWORD)
    page.goto(f"{base}/admin/evaluations/{evaluation}/sheets")
    page.get_by_label(re.compile("扫描文件")).set_input_files(str(pdf))
    page.get_by_role("button", name="上传并读取").click()
    page.wait_for_url(re.compile(r"/admin/sheets/[0-9a-f]+$"))
    page.locator("#sheets-count", has_text="已读完").wait_for()  # the script posted step after step
    shot(page, "progress-finished")
    assert page.locator("progress").get_attribute("value") == "3"
    summary = page.locator("#sheets-summary").text_content()
    assert "已计入 / stored 2" in summary and "待复核 / to review 1" in summary
    page.get_by_role("link", name="复核待定的测评表").click()
    page.wait_for_selector("img.sheet-crop")
    shot(page, "review-item")
    assert page.locator("img.sheet-crop").count() == 1
    assert page.locator("img.sheet-crop").evaluate("img => img.naturalWidth > 0")
    html = page.content()
    assert all(code not in html and code.replace("-", "") not in html for code in printed.codes)
    page.locator(f"input[name=item_{first.item_id}][value='{first.bubbles[0].option_id}']").check()
    page.get_by_role("button", name="按此计入").click()
    page.wait_for_selector("text=这张表已计入")
    shot(page, "stored")
    assert all(code_status(c) is CodeStatus.USED for c in printed.codes)
    assert [f for _, _, fs in os.walk(folder) for f in fs if not f.startswith(".lock")] == []
