"""Printed answer sheets: ``sheets print`` issues codes, writes one sheet per code and the bubble layout."""
from __future__ import annotations

import json

import pypdfium2
import zxingcpp

from models import BallotCode, Evaluation, ItemKind
from extensions import db
from tests.evaluation import sheet_scans


def test_print_issues_codes_and_writes_sheets_and_layout(app, runner, campaign, tmp_path, count_rows, code_status):
    out, layout_file = tmp_path / "s.pdf", tmp_path / "s.json"
    result = runner.invoke(args=["sheets", "print", str(campaign["evaluation"]), "--group", "党员", "--count", "3",
                                 "--out", str(out), "--layout", str(layout_file), "--base-url", "https://cp.example"])
    assert result.exit_code == 0, result.output
    assert count_rows(BallotCode) == 3
    document = pypdfium2.PdfDocument(out.read_bytes())
    assert len(document) == 3  # the satisfaction questionnaire fits one A4 page
    text = document[0].get_textpage().get_text_range()
    assert "满意度测评表" in text and "第一单位" in text and "党员" in text and "涂满" in text
    layout = json.loads(layout_file.read_text(encoding="utf-8"))
    with app.app_context():
        items = [i for i in db.session.get(Evaluation, campaign["evaluation"]).questionnaire.items]
        expected = {(i.id, o.id) for i in items if i.kind is not ItemKind.TEXT for o in i.scale.options}
        text_items = [i.id for i in items if i.kind is ItemKind.TEXT]
    assert {(b["item_id"], b["option_id"]) for b in layout["bubbles"]} == expected
    assert layout["unprinted_items"] == text_items and layout["unit"] == "mm"
    assert all(b["r"] > 2 and 0 < b["x"] < 210 and 0 < b["y"] < 297 for b in layout["bubbles"])
    # The QR carries the ballot link with the printed code, and that code is one just issued.
    page = sheet_scans.render(out.read_bytes(), 150)[0]
    link = zxingcpp.read_barcodes(page)[0].text
    assert link.startswith("https://cp.example/v#")
    assert code_status(link.split("#")[1]) is not None
    assert link.split("#")[1] in text
    assert link.split("#")[1] not in result.output  # the code is on paper only, never on the terminal


def test_print_refuses_unknown_group_and_a5_that_does_not_fit(app, runner, campaign, tmp_path, count_rows):
    result = runner.invoke(args=["sheets", "print", str(campaign["evaluation"]), "--group", "无此主体",
                                 "--count", "2", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "测评主体" in result.output
    a5 = runner.invoke(args=["sheets", "print", str(campaign["evaluation"]), "--group", "党员", "--count", "1",
                             "--paper", "A5", "--out", str(tmp_path / "a5.pdf")])
    # Either it fits one A5 page and is printed, or it is refused before any code is issued.
    assert (a5.exit_code == 0 and count_rows(BallotCode) == 1) or (a5.exit_code != 0 and count_rows(BallotCode) == 0)
