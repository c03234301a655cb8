"""CSV and XLSX exports of result frames, safe to open in Excel.

Unit names, item texts and free answers are typed by people we do not control. A cell
that starts with ``= + - @`` (or tab/CR) is run as a formula by spreadsheet programs
(CSV/formula injection), so every text cell — header included — passes through
:func:`neutralise`, which prefixes a single quote. Numbers are left alone: a negative
number is data, not a formula.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PERCENT_FORMAT = "0.0%"
#: Columns shown as percentages unless the caller says otherwise.
PERCENT_COLUMNS = frozenset({"rate", "ci_low", "ci_high", "threshold", "share"})
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def neutralise(value: Any) -> Any:
    """Prefix ``'`` to text starting with ``= + - @``, tab or CR; return anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with :func:`neutralise` applied to every text cell and header."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            safe[column] = values.map(neutralise)
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    return safe


def csv_chunks(frame: pd.DataFrame, chunk_rows: int = 1000) -> Iterator[str]:
    """Stream ``frame`` as CSV text chunks for a streaming HTTP response.

    The first chunk is a UTF-8 byte-order mark plus the header line: Excel on Windows
    reads a BOM-less UTF-8 CSV as the local code page and garbles Chinese. Rows follow in
    chunks of ``chunk_rows``; lines end in CRLF; floats are written with up to six
    significant digits; NaN becomes an empty field.
    """
    safe = neutralise_frame(frame)
    options = {"index": False, "lineterminator": "\r\n", "float_format": "%.6g"}
    yield "\ufeff" + safe.iloc[0:0].to_csv(**options)
    for start in range(0, len(safe), chunk_rows):  # chunks of rows, not one per ballot
        yield safe.iloc[start:start + chunk_rows].to_csv(header=False, **options)


def _is_percent(column: str) -> bool:
    """Default rule for percentage columns: the known names and anything ending in _rate."""
    return column in PERCENT_COLUMNS or column.endswith("_rate")


def _plain(value: Any) -> Any:
    """A cell value openpyxl accepts: Python scalars, None for NaN/NA, text made safe."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        # control characters make openpyxl raise; they carry no meaning in a report
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def _sheet_title(name: str, used: set[str]) -> str:
    """Excel sheet title: no []:*?/\\, at most 31 characters, unique in the workbook."""
    base = _SHEET_TITLE_FORBIDDEN.sub("_", str(name)).strip("'") or "Sheet"
    title, n = base[:31], 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def results_xlsx(levels: dict[str, pd.DataFrame],
                 percent_columns: Iterable[str] | None = None) -> bytes:
    """An .xlsx workbook with one sheet per level (e.g. '单位', '指标', '党委').

    Header row bold and frozen; percentage columns (``percent_columns``, by default
    rate, ci_low, ci_high, threshold, share and any ``*_rate``) formatted ``0.0%``;
    text cells neutralised. Written in openpyxl's write-only mode so memory stays flat
    however many rows there are.
    """
    if not levels:
        raise ValueError("results_xlsx needs at least one sheet")
    chosen = None if percent_columns is None else set(percent_columns)
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    header_font = Font(bold=True)
    for name, frame in levels.items():
        sheet = workbook.create_sheet(_sheet_title(name, used))
        sheet.freeze_panes = "A2"
        columns = [str(c) for c in frame.columns]
        for index, column in enumerate(columns, start=1):  # write-only: widths before rows
            width = max(10, min(40, 2 * len(column) + 2))  # CJK glyphs are two columns wide
            sheet.column_dimensions[get_column_letter(index)].width = width
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=neutralise(column))
            cell.font = header_font
            header.append(cell)
        sheet.append(header)
        percent_at = [i for i, c in enumerate(columns)
                      if (c in chosen if chosen is not None else _is_percent(c))]
        for row in frame.itertuples(index=False, name=None):
            values = [_plain(v) for v in row]
            for index in percent_at:
                if isinstance(values[index], (int, float)) and not isinstance(values[index], bool):
                    cell = WriteOnlyCell(sheet, value=values[index])
                    cell.number_format = PERCENT_FORMAT
                    values[index] = cell
            sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
