"""The streaming XLSX writer: a valid workbook, values typed, text neutralised, long sheets continued."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from analysis.xlsx_stream import stream_xlsx


def _open(chunks) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(b"".join(chunks)))


def test_values_keep_their_types_and_text_is_made_safe():
    rows = [[1, 2.5, True, dt.date(2024, 5, 6), "满意", '=HYPERLINK("x")', "<b>&amp;</b>", " padded ", None, "a\x01b"]]
    wb = _open(stream_xlsx([("测评票", [f"c{i}" for i in range(10)], rows)]))
    ws = wb["测评票"]
    assert [c.value for c in ws[1]] == [f"c{i}" for i in range(10)]
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    values = [c.value for c in ws[2]]
    assert values[:3] == [1, 2.5, True]
    assert values[3] == dt.datetime(2024, 5, 6) and ws["D2"].number_format == "yyyy-mm-dd"
    assert values[4:] == ["满意", "'=HYPERLINK(\"x\")", "<b>&amp;</b>", " padded ", None, "ab"]


def test_numpy_and_decimal_numbers_are_numbers():
    import decimal

    import numpy as np

    rows = [[np.int64(3), np.float64(0.25), decimal.Decimal("2.5"), float("nan"), np.bool_(True)]]
    ws = _open(stream_xlsx([("s", list("abcde"), rows)]))["s"]
    assert [c.value for c in ws[2]] == [3, 0.25, 2.5, None, True]


def test_rows_beyond_the_limit_continue_on_a_new_sheet_with_the_header():
    wb = _open(stream_xlsx([("s", ["n"], ([i] for i in range(7))), ("t", ["m"], iter(()))], max_rows=4))
    assert wb.sheetnames == ["s", "s (2)", "s (3)", "t"]
    assert [[c.value for c in ws["A"]] for ws in wb.worksheets] == [["n", 0, 1, 2], ["n", 3, 4, 5], ["n", 6], ["m"]]


def test_a_sheet_that_fills_exactly_gets_no_empty_continuation():
    wb = _open(stream_xlsx([("s", ["n"], ([i] for i in range(3)))], max_rows=4))
    assert wb.sheetnames == ["s"]


def test_output_is_streamed_in_chunks_and_is_a_plain_zip():
    chunks = list(stream_xlsx([("s", ["n"], ([i] for i in range(10_000)))], rows_per_chunk=1000))
    assert len(chunks) > 10  # bytes flow while rows are read, not all at the end
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        assert archive.testzip() is None
        assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= set(archive.namelist())
        assert not any(info.extra for info in archive.infolist())  # no ZIP64 records


def test_no_sheets_is_an_error():
    with pytest.raises(ValueError):
        list(stream_xlsx([]))
