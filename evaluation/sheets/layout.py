"""Where everything sits on a printed sheet, in millimetres from the page's top-left corner.

One pure function, :func:`layout`, places a questionnaire's items on A4 or A5
pages; the printer draws exactly this and the reader measures exactly this, so
the two can never disagree. It depends only on the questionnaire (frozen once
its evaluation opens) and the paper size — never on the unit or group names,
which are printed in a fixed-height header — so the reader can rebuild it from
the code alone.

Each page carries four ArUco markers (OpenCV's 4×4 dictionary) in its corners.
Their ids say the paper and the page: ``base + 4·page + corner`` with base 0
for A4 and 100 for A5, so a page scanned upside down or out of order is still
known. Free-text and fill-in items are not printed: a scan cannot read
handwriting, and the sheet says so.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

from models import ItemKind

from .fonts import METRICS_FONT, register_metrics

PAPERS = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}
MARKER_BASE = {"A4": 0, "A5": 100}
MARKER_SIZE = 12.0       # mm, the black square of an ArUco marker including its border cells
MARKER_INSET = 8.0       # mm from the paper edge to the marker's outer edge
MAX_PAGES = 25           # 4 ids per page, 100 ids per paper size
BUBBLE_R = 2.5           # mm, radius of an answer circle
QR_SIZE = 30.0           # mm, the QR's side with its quiet zone: 0.8 mm modules survive a blurred 150 dpi photo
TEXT_PT = 10.0
LINE = 4.6               # mm per line of item text
HEADER = {"A4": 62.0, "A5": 72.0}  # mm from the top where the items start (the header's fixed height)
FOOTER = 22.0            # mm kept free at the bottom (markers and the page number)
READABLE = (ItemKind.SCALE, ItemKind.SINGLE, ItemKind.MULTIPLE)


@dataclass(frozen=True)
class Bubble:
    """One answer circle: its page, item, option and centre/radius in mm."""

    page: int
    item_id: int
    option_id: int
    x: float
    y: float
    r: float


@dataclass(frozen=True)
class ItemBox:
    """One printed item: its page, number, wrapped text lines, the top of its block and its bubbles."""

    page: int
    item_id: int
    number: int
    kind: str
    lines: tuple[str, ...]
    top: float
    bottom: float
    bubbles: tuple[Bubble, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """The whole sheet: paper, page size, pages, items (in order) and the items left off paper."""

    questionnaire_id: int
    paper: str
    width: float
    height: float
    pages: int
    items: tuple[ItemBox, ...]
    unprinted: tuple[int, ...]

    def marker_ids(self, page: int) -> tuple[int, int, int, int]:
        """The ids of the top-left, top-right, bottom-right and bottom-left markers of ``page``."""
        first = MARKER_BASE[self.paper] + 4 * page
        return first, first + 1, first + 2, first + 3

    def marker_corners(self, page: int) -> dict[int, list[tuple[float, float]]]:
        """Each marker id of ``page`` → its four corners in mm (clockwise from top-left, as OpenCV gives them)."""
        return marker_corners(self.paper, page)

    def qr_box(self) -> tuple[float, float, float, float]:
        """The QR code's square (x, y, w, h) in mm, the same on every page."""
        return qr_box(self.paper)

    def on_page(self, page: int) -> list[ItemBox]:
        """The items printed on ``page``."""
        return [box for box in self.items if box.page == page]

    def as_json(self) -> dict:
        """The layout file of ``sheets print --layout``: every bubble with page, item, option, centre, radius (mm)."""
        return {"questionnaire_id": self.questionnaire_id, "paper": self.paper, "unit": "mm",
                "page_size": [self.width, self.height], "pages": self.pages,
                "markers": {str(p): {str(k): v for k, v in self.marker_corners(p).items()} for p in range(self.pages)},
                "qr": list(self.qr_box()),
                "bubbles": [asdict(b) for box in self.items for b in box.bubbles],
                "unprinted_items": list(self.unprinted)}


def marker_corners(paper: str, page: int) -> dict[int, list[tuple[float, float]]]:
    """The markers of ``page`` on ``paper``: id → four corners in mm, clockwise from top-left."""
    width, height = PAPERS[paper]
    s, i = MARKER_SIZE, MARKER_INSET
    origins = [(i, i), (width - i - s, i), (width - i - s, height - i - s), (i, height - i - s)]
    first = MARKER_BASE[paper] + 4 * page
    return {first + k: [(x, y), (x + s, y), (x + s, y + s), (x, y + s)] for k, (x, y) in enumerate(origins)}


def qr_box(paper: str) -> tuple[float, float, float, float]:
    """The QR code's square (x, y, w, h) in mm on ``paper``, the same on every page."""
    width = PAPERS[paper][0]
    return (width - MARKER_INSET - QR_SIZE, MARKER_INSET + MARKER_SIZE + 2.0, QR_SIZE, QR_SIZE)


def code_box(paper: str) -> tuple[float, float, float, float]:
    """The QR and the printed code under it (x, y, w, h in mm): all the code-entry screen shows."""
    x, y, w, h = qr_box(paper)
    return (x - 4.0, y - 1.0, w + 5.0, h + 8.0)


def which_page(marker_id: int) -> Optional[tuple[str, int]]:
    """The (paper, page) a marker id belongs to, or None for an id no sheet prints."""
    for paper, base in MARKER_BASE.items():
        if base <= marker_id < base + 4 * MAX_PAGES:
            return paper, (marker_id - base) // 4
    return None


def text_width(text: str, size: float = TEXT_PT) -> float:
    """Width of ``text`` in mm as the layout measures it: ReportLab's built-in ``STSong-Light`` widths.

    Never the embedded print font's: these widths ship inside ReportLab, so the
    printer and the reader (which has no font file to ask) place every bubble
    alike, and the printer squeezes its text to them (see :mod:`.fonts`).
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    register_metrics()
    return stringWidth(text, METRICS_FONT, size) * 25.4 / 72


def wrap(text: str, width: float, size: float = TEXT_PT) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` mm at ``size`` pt (by character: Chinese has no spaces)."""
    lines, current = [], ""
    for ch in text:
        if ch == "\n" or (current and text_width(current + ch, size) > width):
            lines.append(current)
            current = "" if ch == "\n" else ch
        else:
            current += ch
    if current or not lines:
        lines.append(current)
    return lines


def layout(view, paper: str = "A4") -> Layout:
    """Place the items of questionnaire ``view`` (surveys.structure.QuestionnaireView) on ``paper``.

    Raises ValueError when the paper is unknown or the sheet would need more
    than :data:`MAX_PAGES` pages.
    """
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}")
    width, height = PAPERS[paper]
    left, right = MARKER_INSET + 2.0, width - MARKER_INSET - 2.0
    bottom = height - FOOTER
    boxes, unprinted = [], []
    page, y, number = 0, HEADER[paper], 0
    for item in view.items:
        if item.kind not in READABLE or item.scale is None:
            unprinted.append(item.id)
            continue
        number += 1
        note = "(可多选)" if item.kind is ItemKind.MULTIPLE else ""
        lines = wrap(f"{number}. {item.text}{note}", right - left)
        options = item.scale.options
        per_row = max(1, min(len(options), int((right - left - 6) // _slot(options))))
        rows = -(-len(options) // per_row)
        need = len(lines) * LINE + rows * 8.0 + 3.0
        if y + need > bottom:
            page, y = page + 1, HEADER[paper]  # every page has the same header: markers, QR, title
            if page >= MAX_PAGES:
                raise ValueError("questionnaire too long for a printed sheet")
        top = y
        y += len(lines) * LINE + 1.0
        bubbles, slot = [], (right - left - 6) / per_row
        for k, option in enumerate(options):
            row, col = divmod(k, per_row)
            cx = left + 6 + col * slot + BUBBLE_R
            cy = y + row * 8.0 + BUBBLE_R + 0.5
            bubbles.append(Bubble(page, item.id, option.id, round(cx, 2), round(cy, 2), BUBBLE_R))
        y += rows * 8.0 + 2.0
        boxes.append(ItemBox(page, item.id, number, item.kind.value, tuple(lines), round(top, 2), round(y, 2),
                             tuple(bubbles), tuple(o.label for o in options)))
    return Layout(view.id, paper, width, height, page + 1, tuple(boxes), tuple(unprinted))


def _slot(options) -> float:
    """Width in mm one option needs: circle, gap, its label."""
    return 2 * BUBBLE_R + 4.0 + max(text_width(o.label) for o in options)


def fits(view, paper: str) -> Optional[Layout]:
    """The layout on ``paper`` when the questionnaire fits one page of it, else None."""
    try:
        placed = layout(view, paper)
    except ValueError:
        return None
    return placed if placed.pages == 1 else None
