"""Tests for analysis.exports: formula injection, CSV streaming, XLSX layout."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.exports import csv_chunks, neutralise, results_xlsx


@pytest.mark.parametrize("text", ["=cmd()", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_formula_starts(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["甲单位", "a=b", "", 0.5, -3, None])
def test_neutralise_leaves_other_values(value):
    assert neutralise(value) == value


def units_frame() -> pd.DataFrame:
    return pd.DataFrame({"unit": ["=cmd()", "乙单位"], "n_ballots": [12, -1],
                         "overall_rate": [0.52, np.nan], "needs_makeup": [True, False]})


def test_csv_starts_with_bom_and_neutralises_text():
    chunks = list(csv_chunks(units_frame()))
    assert chunks[0] == "\ufeffunit,n_ballots,overall_rate,needs_makeup\r\n"
    body = "".join(chunks[1:])
    assert body == "'=cmd(),12,0.52,True\r\n乙单位,-1,,False\r\n"  # -1 stays a number


def test_csv_streams_in_chunks_and_neutralises_header():
    frame = pd.DataFrame({"=evil": range(2500)})
    chunks = list(csv_chunks(frame, chunk_rows=1000))
    assert len(chunks) == 4  # header + 1000 + 1000 + 500
    assert chunks[0] == "\ufeff'=evil\r\n"
    back = pd.read_csv(io.StringIO("".join(chunks).lstrip("\ufeff")))
    assert back["'=evil"].tolist() == list(range(2500))


def test_xlsx_has_frozen_header_percent_format_and_safe_text():
    items = pd.DataFrame({"text": ["@x"], "rate": [0.6], "ci_low": [0.23]})
    data = results_xlsx({"单位/明细": units_frame(), "指标": items})
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["单位_明细", "指标"]
    sheet = book["单位_明细"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == ["unit", "n_ballots", "overall_rate", "needs_makeup"]
    assert sheet["A1"].font.b
    assert sheet["A2"].value == "'=cmd()" and sheet["A2"].data_type == "s"
    assert sheet["C2"].value == pytest.approx(0.52) and sheet["C2"].number_format == "0.0%"
    assert sheet["C3"].value is None                      # NaN → empty cell
    assert sheet["B2"].number_format == "General" and sheet["B3"].value == -1
    assert sheet["D2"].value is True
    other = book["指标"]
    assert other.freeze_panes == "A2"
    assert other["A2"].value == "'@x"
    assert other["B2"].number_format == "0.0%" and other["C2"].number_format == "0.0%"


def test_xlsx_explicit_percent_columns_and_control_characters():
    frame = pd.DataFrame({"share": [0.5], "ratio": [0.25], "note": ["a\x07b"]})
    sheet = load_workbook(io.BytesIO(results_xlsx({"x": frame}, percent_columns=["ratio"])))["x"]
    assert sheet["A2"].number_format == "General" and sheet["B2"].number_format == "0.0%"
    assert sheet["C2"].value == "ab"


def test_xlsx_needs_a_sheet():
    with pytest.raises(ValueError):
        results_xlsx({})
