"""A streaming .xlsx writer for very large sheets (the raw ballots of a whole campaign).

openpyxl's write-only mode keeps memory flat but writes ~5–10k rows/s here and
sends nothing until the whole workbook is saved, so a million ballots take
minutes before the first byte (longer than a gunicorn sync worker may stay
silent). This writer produces the same kind of file — SpreadsheetML in a ZIP,
strings inline (no shared-string table growing in memory) — as a generator of
byte chunks: the download starts at once and memory does not grow with rows.

It knows just enough of the format for data sheets: text, numbers, dates and
booleans, a bold frozen header row. A sheet longer than Excel's 1,048,576 rows
continues on a new sheet ("title (2)") with the same header. Text cells are
neutralised against formula injection like every other export. Pure: rows in,
bytes out, no Flask.
"""
from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from analysis.exports import _sheet_title, neutralise

#: Excel's limit, header included.
MAX_ROWS = 1_048_576
#: Stay well below the 4 GiB a ZIP member may hold without ZIP64 (which some readers reject).
MAX_SHEET_BYTES = 3_500_000_000
_EPOCH = dt.date(1899, 12, 30)
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    # Every other .xml part is a worksheet, so this file need not know how many there will be.
    '<Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
# Styles: 0 normal, 1 bold (header), 2 date yyyy-mm-dd.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


class _Sink:
    """Write-only file object that hands written bytes back to the generator (no tell/seek: ZIP streams)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _text(value: str) -> str:
    """The part of an inline-string cell after its reference: neutralised, cleaned, escaped."""
    value = escape(ILLEGAL_CHARACTERS_RE.sub("", neutralise(value)))
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f' t="inlineStr"><is><t{space}>{value}</t></is></c>'


#: Distinct texts remembered per export (labels, unit and group names repeat on every row).
TEXT_CACHE_SIZE = 20_000


class _Cells:
    """Turns values into <c> elements; repeated texts are escaped once."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def cell(self, ref: str, value: Any) -> str:
        """One <c> element, or '' for an empty value."""
        if value is None:
            return ""
        if isinstance(value, str):
            if not value:
                return ""
            fragment = self.texts.get(value)
            if fragment is None:
                fragment = _text(value)
                if len(self.texts) < TEXT_CACHE_SIZE:
                    self.texts[value] = fragment
            return f'<c r="{ref}"{fragment}'
        if isinstance(value, (bool, np.bool_)):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, numbers.Integral):
            return f'<c r="{ref}"><v>{int(value)}</v></c>'
        if isinstance(value, (numbers.Real, decimal.Decimal)):
            number = float(value)
            return f'<c r="{ref}"><v>{number!r}</v></c>' if math.isfinite(number) else ""
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return f'<c r="{ref}" s="2"><v>{(value - _EPOCH).days}</v></c>'
        return self.cell(ref, str(value))


def _sheet_head() -> str:
    # No <dimension>: it is optional, and the row count is not known until the end.
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><sheetData>')


def stream_xlsx(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
                rows_per_chunk: int = 2000, max_rows: int = MAX_ROWS, compresslevel: int = 1) -> Iterator[bytes]:
    """Yield an .xlsx file as byte chunks from ``(title, header, rows)`` triples, one sheet each.

    ``rows`` may be any iterable (a database cursor); it is read once, in order.
    A chunk is yielded every ``rows_per_chunk`` rows. ``compresslevel`` 1 is
    several times faster than zlib's default and only a little larger.
    """
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
    archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
    archive.writestr("_rels/.rels", _ROOT_RELS)
    archive.writestr("xl/styles.xml", _STYLES)
    yield sink.take()
    titles: list[str] = []
    used: set[str] = set()
    cell = _Cells().cell
    for title, header, rows in sheets:
        letters = [get_column_letter(i) for i in range(1, len(header) + 1)]
        rows = iter(rows)
        part = 1
        while True:
            name = title if part == 1 else f"{title} ({part})"
            titles.append(_sheet_title(name, used))
            member = archive.open(f"xl/worksheets/sheet{len(titles)}.xml", "w")
            written = member.write(_sheet_head().encode())
            head = "".join(f'<c r="{letter}1" s="1"{_text(str(h))}' for letter, h in zip(letters, header))
            written += member.write(f'<row r="1">{head}</row>'.encode())
            number, buffer, more = 1, [], False
            for row in rows:
                number += 1
                cells = "".join([cell(f"{letter}{number}", value) for letter, value in zip(letters, row)])
                buffer.append(f'<row r="{number}">{cells}</row>')
                if len(buffer) >= rows_per_chunk:
                    written += member.write("".join(buffer).encode())
                    buffer = []
                    if sink.parts:  # the compressor may hold everything back for a while
                        yield sink.take()
                if number >= max_rows or written >= MAX_SHEET_BYTES:
                    more = True
                    break
            member.write(("".join(buffer) + "</sheetData></worksheet>").encode())
            member.close()
            yield sink.take()
            if not more:
                break
            # Only start a continuation sheet if there is a row left for it.
            try:
                first = next(rows)
            except StopIteration:
                break
            rows = _prepend(first, rows)
            part += 1
    if not titles:
        raise ValueError("stream_xlsx needs at least one sheet")
    sheets_xml = "".join(f'<sheet name="{escape(t, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, t in enumerate(titles, start=1))
    archive.writestr("xl/workbook.xml",
                     '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>{sheets_xml}</sheets></workbook>')
    rels = "".join(f'<Relationship Id="rId{i}" Target="worksheets/sheet{i}.xml" '
                   'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
                   for i in range(1, len(titles) + 1))
    styles_rel = (f'<Relationship Id="rId{len(titles) + 1}" Target="styles.xml" '
                  'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"/>')
    archive.writestr("xl/_rels/workbook.xml.rels",
                     '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     f'<Relationships xmlns="{_PKG_REL_NS}">{rels}{styles_rel}</Relationships>')
    archive.close()
    yield sink.take()


def _prepend(first, rest: Iterator) -> Iterator:
    yield first
    yield from rest
