"""Printable answer sheets (纸质测评表) as one PDF: a sheet per code, drawn from :mod:`.layout`.

Everything is black on white in vector form (markers, circles, QR), so a plain
office laser printer reproduces it. The text is drawn in an embedded TrueType
font (WenQuanYi Micro Hei, subset to the glyphs used) at the widths the layout
measured, so it prints alike everywhere and never reaches a bubble (see
:mod:`.fonts`). The plain codes exist only in the PDF this returns.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Sequence

import segno

from . import fonts
from .layout import BUBBLE_R, LINE, MARKER_INSET, MARKER_SIZE, TEXT_PT, Layout, wrap

MM = 72 / 25.4
INSTRUCTIONS = (
    "填涂说明:请用黑色或蓝色笔把所选项的圆圈涂满(●),每题只选一项(注明可多选的除外)。",
    "如需更改:在原选项上画 ×,再涂满新选项,此票将由工作人员人工核对。不填的题视为未作答。",
    "请勿折叠,请勿在四角黑块和二维码上书写。本表不记名,二维码只用于计票,不能查到填表人。",
)
UNPRINTED = "意见和建议等文字题不在纸质表上作答,可凭本表二维码在线填写。"


@dataclass(frozen=True)
class SheetText:
    """What one sheet prints besides its items: the plain code, its link, and the header words."""

    code: str      # grouped for print: K7QX-M3PD-9TWR
    url: str       # the QR's link, <base>/v#CODE
    title: str
    unit: str
    group: str


def marker_cells(marker_id: int):
    """The 6×6 black/white cells of ArUco marker ``marker_id`` (4×4 dictionary, one-cell border)."""
    import cv2

    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_250)
    image = cv2.aruco.generateImageMarker(dictionary, marker_id, 6, borderBits=1)
    return image < 128


def render(sheets: Sequence[SheetText], placed: Layout) -> bytes:
    """One PDF holding every sheet in ``sheets`` (each ``placed.pages`` pages long)."""
    from reportlab.pdfgen.canvas import Canvas

    # The canvas's initial font would otherwise be Helvetica: a font in every page's resources that is never
    # embedded (a printer's preflight lists it). A TrueType initial font adds nothing until text uses it.
    initial = fonts.print_font() or fonts.METRICS_FONT
    out = io.BytesIO()
    pdf = Canvas(out, pagesize=(placed.width * MM, placed.height * MM), pageCompression=1, initialFontName=initial)
    pdf.setTitle(sheets[0].title if sheets else "")
    for sheet in sheets:
        for page in range(placed.pages):
            _page(pdf, sheet, placed, page)
            pdf.showPage()
    pdf.save()
    return out.getvalue()


def _y(placed: Layout, y_mm: float) -> float:
    """ReportLab measures from the bottom; the layout from the top."""
    return (placed.height - y_mm) * MM


def _text(pdf, placed: Layout, x: float, y: float, text: str, size: float = TEXT_PT) -> None:
    fonts.draw(pdf, x * MM, _y(placed, y), text, size)


def _page(pdf, sheet: SheetText, placed: Layout, page: int) -> None:
    _markers(pdf, placed, page)
    _qr(pdf, sheet, placed)
    qr_x = placed.qr_box()[0]
    left = MARKER_INSET + MARKER_SIZE + 3.0
    title = wrap(sheet.title, qr_x - left - 3.0)[:2]
    for k, line in enumerate(title):
        _text(pdf, placed, left, MARKER_INSET + 5.0 + 6.0 * k, line, 13)
    _text(pdf, placed, left, MARKER_INSET + 18.0, f"单位:{sheet.unit[:40]}    测评主体:{sheet.group[:20]}", 9.5)
    notes = list(INSTRUCTIONS) + ([UNPRINTED] if placed.unprinted else [])
    lines = [part for note in notes for part in wrap(note, qr_x - MARKER_INSET - 6.0, 7.5)]
    for k, line in enumerate(lines):  # the header's height (layout.HEADER) leaves room for all of them
        _text(pdf, placed, MARKER_INSET + 2.0, MARKER_INSET + 23.5 + 3.5 * k, line, 7.5)
    for box in placed.on_page(page):
        _item(pdf, placed, box)
    _text(pdf, placed, placed.width / 2 - 12.0, placed.height - MARKER_INSET - 4.0,
          f"第 {page + 1} 页 / 共 {placed.pages} 页", 9)


def _markers(pdf, placed: Layout, page: int) -> None:
    pdf.setFillGray(0)
    cell = MARKER_SIZE / 6
    for marker_id, corners in placed.marker_corners(page).items():
        x0, y0 = corners[0]
        for r, row in enumerate(marker_cells(marker_id)):
            for c, black in enumerate(row):
                if black:
                    pdf.rect((x0 + c * cell) * MM, _y(placed, y0 + (r + 1) * cell), cell * MM + 0.05, cell * MM + 0.05,
                             stroke=0, fill=1)


def _qr(pdf, sheet: SheetText, placed: Layout) -> None:
    x, y, size, _h = placed.qr_box()
    qr = segno.make(sheet.url, error="m", micro=False)
    rows = list(qr.matrix_iter(scale=1, border=4))
    module = size / len(rows)
    pdf.setFillGray(0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect((x + c * module) * MM, _y(placed, y + (r + 1) * module), module * MM + 0.05,
                         module * MM + 0.05, stroke=0, fill=1)
    _text(pdf, placed, x - 2.0, y + size + 4.0, sheet.code, 9)


def _item(pdf, placed: Layout, box) -> None:
    for k, line in enumerate(box.lines):
        _text(pdf, placed, MARKER_INSET + 2.0, box.top + 3.6 + k * LINE, line)
    pdf.setLineWidth(0.6)
    pdf.setStrokeGray(0)
    for bubble, label in zip(box.bubbles, box.labels):
        pdf.circle(bubble.x * MM, _y(placed, bubble.y), BUBBLE_R * MM, stroke=1, fill=0)
        _text(pdf, placed, bubble.x + BUBBLE_R + 1.5, bubble.y + 1.3, label, 9)
