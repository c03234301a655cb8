"""Printed sheets embed their Chinese font, and the font never moves or covers a bubble.

The PDF of ``sheets print`` is parsed with pypdfium2: every font any text
object uses must be embedded (a printer would otherwise substitute its own),
the text must extract back as Chinese, and no drawn character may reach into
a bubble of the layout the reader uses. The layout itself must not depend on
the print font (the reader has no font file to ask).
"""
from __future__ import annotations

import ctypes
import json
import re

import pypdfium2
import pypdfium2.raw as pdfium
import pytest

from evaluation.sheets import fonts, layout as layout_module

PT = 25.4 / 72  # mm per point


def _print(runner, campaign, folder):
    """Two sheets through ``sheets print``: the PDF's bytes and the layout JSON."""
    folder.mkdir(exist_ok=True)
    out, layout_file = folder / "s.pdf", folder / "s.json"
    result = runner.invoke(args=["sheets", "print", str(campaign["evaluation"]), "--group", "党员", "--count", "2",
                                 "--out", str(out), "--layout", str(layout_file)])
    assert result.exit_code == 0, result.output
    return out.read_bytes(), json.loads(layout_file.read_text(encoding="utf-8"))


def _fonts(document) -> list[tuple[str, bool]]:
    """(base font name, embedded?) of the font of every text object on every page."""
    found = []
    for page in document:
        for obj in page.get_objects(filter=[pdfium.FPDF_PAGEOBJ_TEXT]):
            font = pdfium.FPDFTextObj_GetFont(obj.raw)
            size = pdfium.FPDFFont_GetBaseFontName(font, None, 0)
            name = ctypes.create_string_buffer(size)
            pdfium.FPDFFont_GetBaseFontName(font, name, size)
            found.append((name.value.decode(), bool(pdfium.FPDFFont_GetIsEmbedded(font))))
    return found


def test_every_font_of_a_printed_sheet_is_embedded(runner, campaign, tmp_path):
    pdf, _layout = _print(runner, campaign, tmp_path)
    document = pypdfium2.PdfDocument(pdf)
    used = _fonts(document)
    assert used, "the sheet draws text"
    assert [name for name, embedded in used if not embedded] == []
    # And in the file itself: every font dictionary has its font program (FontFile2 = TrueType), none is bare.
    assert b"/STSong-Light" not in pdf and b"/Helvetica" not in pdf
    descriptors = re.findall(rb"/Type /FontDescriptor", pdf)
    assert descriptors and len(re.findall(rb"/FontFile2 ", pdf)) == len(descriptors)
    # Chinese text comes back out (ToUnicode maps of the subsets): title, unit, group, instructions.
    text = document[0].get_textpage().get_text_range()
    assert "满意度测评表" in text and "第一单位" in text and "党员" in text and "涂满" in text


def test_drawn_text_stays_clear_of_every_bubble(runner, campaign, tmp_path):
    pdf, placed = _print(runner, campaign, tmp_path)
    document = pypdfium2.PdfDocument(pdf)
    page, height = document[0], placed["page_size"][1]
    textpage = page.get_textpage()
    boxes = []
    for i in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(i)
        if right > left:  # spaces have no box
            boxes.append((left * PT, height - top * PT, right * PT, height - bottom * PT))
    assert len(boxes) > 100
    for b in (b for b in placed["bubbles"] if b["page"] == 0):
        circle = (b["x"] - b["r"] - 0.3, b["y"] - b["r"] - 0.3, b["x"] + b["r"] + 0.3, b["y"] + b["r"] + 0.3)
        hits = [box for box in boxes if box[0] < circle[2] and box[2] > circle[0]
                and box[1] < circle[3] and box[3] > circle[1]]
        assert hits == [], (b, hits)
    assert all(0 < box[0] and box[2] < placed["page_size"][0] - 8 for box in boxes)  # nothing off the paper
    # The page number is wider in Micro Hei than STSong-Light measured it: drawn, it is squeezed to the measure.
    number = "第 1 页 / 共 1 页"
    text = textpage.get_text_range()
    first = text.index(number)
    drawn = (textpage.get_charbox(first + len(number) - 1)[2] - textpage.get_charbox(first)[0]) * PT
    assert layout_module.text_width(number, 9) - 1.0 < drawn <= layout_module.text_width(number, 9)


def test_text_is_squeezed_to_the_measured_width_and_missing_glyphs_fall_back():
    assert fonts.print_font() == fonts.PRINT_FONT, "the font from requirements.txt is installed"
    from reportlab.pdfbase.pdfmetrics import stringWidth

    wide = "第 1 页 / 共 2 页 ABC 123"  # Latin and digits: wider in Micro Hei than in STSong-Light
    pieces = fonts.runs(wide)
    assert pieces == [(fonts.PRINT_FONT, wide)]
    scale = fonts.squeeze(pieces, wide, 10)
    assert scale < 100
    assert stringWidth(wide, fonts.PRINT_FONT, 10) * scale / 100 == pytest.approx(layout_module.text_width(wide) / PT)
    # An Extension B ideograph Micro Hei lacks prints in STSong-Light, not as an empty box.
    assert fonts.runs("单位\U00020000一") == [(fonts.PRINT_FONT, "单位"), (fonts.METRICS_FONT, "\U00020000"),
                                             (fonts.PRINT_FONT, "一")]


def test_layout_does_not_depend_on_the_print_font(app, runner, campaign, tmp_path, monkeypatch):
    _pdf, with_font = _print(runner, campaign, tmp_path)
    # Without the font file (a machine that skipped requirements.txt): same bubbles, text not embedded.
    monkeypatch.setattr(fonts, "print_font", lambda: None)
    pdf, without = _print(runner, campaign, tmp_path / "without")
    assert without["bubbles"] == with_font["bubbles"]
    assert {embedded for _name, embedded in _fonts(pypdfium2.PdfDocument(pdf))} == {False}


def test_only_the_pinned_font_file_is_accepted(tmp_path, monkeypatch):
    other = tmp_path / "wqy-microhei.ttc"
    other.write_bytes(b"not the font")
    monkeypatch.setattr(fonts, "SYSTEM_FILES", (str(other),))
    monkeypatch.setattr("importlib.resources.files", lambda name: (_ for _ in ()).throw(ImportError(name)))
    assert fonts.font_file() is None
