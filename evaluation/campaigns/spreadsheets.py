"""Read an uploaded CSV or XLSX file into rows of text, without ever crashing on it.

Whatever arrives — a real workbook, a CSV saved by Excel in GBK, an old
``.xls``, a truncated or hostile file — either comes back as rows of stripped
strings or raises :class:`SpreadsheetError` with a message in the current
language. XLSX files are opened with openpyxl in read-only (streaming) mode,
after their ZIP directory has been checked so that a small upload cannot
inflate into gigabytes (a "zip bomb") in memory.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from typing import Iterator

from flask_babel import gettext as _

#: Rows read at most (the header included); a campaign has a few hundred units.
MAX_ROWS = 5000
#: Columns read at most per row.
MAX_COLUMNS = 30
#: Total uncompressed size an XLSX may claim (a 5,000-row sheet is well under 10 MB).
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024
_WHITESPACE = " \t\r\n\u3000\ufeff\xa0"


class SpreadsheetError(ValueError):
    """The file cannot be read as a table; the message says why."""


def cell_text(value) -> str:
    """A cell as text: integral floats without ``.0`` (codes typed as numbers), dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value).strip(_WHITESPACE)


def read_rows(data: bytes) -> list[list[str]]:
    """The rows of a CSV or XLSX file as lists of stripped strings (blank rows kept).

    The format is recognised from the content, not the file name: an XLSX is a
    ZIP archive. Raises :class:`SpreadsheetError` for anything unreadable.
    """
    if not data:
        raise SpreadsheetError(_("文件为空"))
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SpreadsheetError(_("不支持旧版 .xls 文件,请在 Excel 中另存为 .xlsx 或 CSV"))
    rows = list(_xlsx_rows(data) if data[:4] == b"PK\x03\x04" else _csv_rows(data))
    return [[cell_text(v) for v in row[:MAX_COLUMNS]] for row in rows]


def _too_many() -> SpreadsheetError:
    return SpreadsheetError(_("文件行数超过 %(max)s 行", max=MAX_ROWS))


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Excel writes for "CSV" on Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError(_("无法识别文件编码,请保存为 UTF-8 编码的 CSV 或 .xlsx"))


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    if "\x00" in text:
        raise SpreadsheetError(_("文件不是 CSV 或 .xlsx 表格"))
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)  # comma unless the header says otherwise
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if number > MAX_ROWS:
                raise _too_many()
            yield row
    except csv.Error as error:
        raise SpreadsheetError(_("CSV 格式错误:%(error)s", error=error)) from None


def _check_zip(data: bytes) -> None:
    """Refuse archives that are not XLSX or that would inflate beyond reason."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise SpreadsheetError(_("文件已损坏,无法作为 .xlsx 打开")) from None
    if sum(i.file_size for i in infos) > MAX_XLSX_UNCOMPRESSED or len(infos) > 1000:
        raise SpreadsheetError(_("文件解压后过大"))
    if not any(i.filename.startswith("xl/") for i in infos):
        raise SpreadsheetError(_("压缩文件不是 .xlsx 工作簿"))


def _xlsx_rows(data: bytes) -> Iterator[list]:
    """Rows of the first worksheet, streamed; any failure inside openpyxl becomes a SpreadsheetError."""
    from openpyxl import load_workbook

    _check_zip(data)
    workbook = None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if number > MAX_ROWS:
                raise _too_many()
            yield list(row)
    except SpreadsheetError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of error on a bad file
        raise SpreadsheetError(_("文件已损坏或不是有效的 .xlsx 工作簿")) from None
    finally:
        if workbook is not None:
            workbook.close()
