"""Size of the printed sheets' PDF per sheet, and which fonts it embeds (issue 16, "Chinese fonts embedded").

Prints 1, 10 and 150 sheets of the satisfaction questionnaire through the real
printer (``evaluation.sheets.issuing.print_sheets``) into a scratch SQLite
database and reports bytes per PDF and per sheet, and every font the PDF uses
with whether it is embedded (pypdfium2). ReportLab embeds one subset of the
TrueType font per document, so its cost is shared by all the sheets of a batch.
Run:

    python -m bench.sheet_pdf_size
"""
from __future__ import annotations

import ctypes
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import make_app, print_facts  # noqa: E402


def fonts_of(pdf: bytes) -> set[tuple[str, bool]]:
    """(base font name, embedded?) of every font a text object of ``pdf`` uses."""
    import pypdfium2
    import pypdfium2.raw as pdfium

    found = set()
    document = pypdfium2.PdfDocument(pdf)
    for page in document:
        for obj in page.get_objects(filter=[pdfium.FPDF_PAGEOBJ_TEXT]):
            font = pdfium.FPDFTextObj_GetFont(obj.raw)
            size = pdfium.FPDFFont_GetBaseFontName(font, None, 0)
            name = ctypes.create_string_buffer(size)
            pdfium.FPDFFont_GetBaseFontName(font, name, size)
            found.add((name.value.decode(), bool(pdfium.FPDFFont_GetIsEmbedded(font))))
    return found


def main() -> None:
    print_facts("sheet PDF size")
    workdir = Path(tempfile.mkdtemp(prefix="ceping-sheet-size-"))
    app = make_app(f"sqlite:///{workdir / 'size.sqlite'}", SCAN_DIR=str(workdir / "scans"))
    with app.app_context():
        from evaluation.services import create_evaluation, get_or_create_groups
        from evaluation.sheets.issuing import print_sheets
        from extensions import db
        from models import Campaign, Unit, UnitKind
        from surveys.catalog import load_catalog

        db.create_all()
        load_catalog()
        campaign = Campaign(name="size")
        unit = Unit(campaign=campaign, code="S1", name="中共某某区委组织部机关党支部", kind=UnitKind.UNIT, members=10)
        db.session.add_all([campaign, unit])
        get_or_create_groups(campaign, ["党员"])
        db.session.commit()
        evaluation = create_evaluation(unit.id, "satisfaction", open_now=True).id
        for count in (1, 10, 150):
            t0 = time.perf_counter()
            pdf = print_sheets(evaluation, "党员", count, base_url="http://bench").pdf
            took = time.perf_counter() - t0
            print(f"{count:4d} sheets: {len(pdf):9,d} bytes = {len(pdf) / count / 1024:6.1f} KiB per sheet "
                  f"({took:.2f} s); fonts {sorted(fonts_of(pdf))}")


if __name__ == "__main__":
    main()
