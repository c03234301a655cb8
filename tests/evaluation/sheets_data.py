"""Printed sheets for the scan tests: the PDF, its layout and the codes on it, then marked scans of them."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

import pypdfium2

from tests.evaluation import sheet_scans


@dataclass
class Printed:
    """Sheets printed for a test: the PDF, the layout and the plain codes in page order."""

    pdf: bytes
    layout: object
    codes: list[str]


def print_sheets(app, evaluation_id: int, n: int, group: str = "党员") -> Printed:
    """Issue ``n`` codes as printed sheets; the codes are read back from the PDF's text, as a person would."""
    from evaluation.sheets.issuing import print_sheets as issue_and_print

    with app.app_context():
        printed = issue_and_print(evaluation_id, group, n, base_url="http://test")
    document = pypdfium2.PdfDocument(printed.pdf)
    codes = [re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", document[i].get_textpage().get_text_range()).group(0)
             for i in range(0, len(document), printed.layout.pages)]
    return Printed(printed.pdf, printed.layout, codes)


def scans(printed: Printed, answers: list[dict], seed: int = 1, dpi: int = 150, styles=("fill", "tick", "cross"),
          extra=None) -> list:
    """Page images of the printed sheets marked with ``answers`` (item id → option ids), rotated a little.

    ``extra`` maps a sheet index to a function(image, layout, rnd) drawing more on it (a faint mark, a
    damaged QR).
    """
    rnd = random.Random(seed)
    pages = sheet_scans.render(printed.pdf, dpi)
    out = []
    for index, image in enumerate(pages):
        sheet = index // printed.layout.pages
        for box in printed.layout.on_page(index % printed.layout.pages):
            for bubble in box.bubbles:
                if bubble.option_id in answers[sheet].get(box.item_id, ()):
                    sheet_scans.mark(image, bubble.x, bubble.y, bubble.r, rnd.choice(styles), dpi, rnd)
        if extra and sheet in extra:
            extra[sheet](image, printed.layout, rnd)
        out.append(sheet_scans.distort(image, rnd, rotate=3.0, noise=4.0))
    return out


def some_answers(app, evaluation_id: int, n: int, seed: int = 2) -> list[dict]:
    """``n`` ballots' answers: one option per printed item, chosen at random (item id → (option id,))."""
    from extensions import db
    from models import Evaluation, ItemKind

    rnd = random.Random(seed)
    with app.app_context():
        items = [i for i in db.session.get(Evaluation, evaluation_id).questionnaire.items if i.kind is not ItemKind.TEXT]
        return [{i.id: (rnd.choice(i.scale.options).id,) for i in items} for _ in range(n)]
