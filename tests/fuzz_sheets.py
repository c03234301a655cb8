"""Unit sheets for the import fuzz tests (``tests/test_fuzz_imports.py``): built valid, then perhaps broken.

:func:`sheets` draws a valid unit tree and writes it the many ways a real sheet
arrives (English or Chinese headers with notes, any column order, extra
columns, a title row, blank rows, padding, number formats); with a ``damage``
named in :data:`BREAKAGES` it breaks some rows so that nothing may be imported,
with one named in :data:`REFUSALS` it breaks the file so the upload is refused.
:func:`write_csv` and :func:`write_xlsx` turn a :class:`Sheet` into bytes.
"""
from __future__ import annotations

import csv
import io
import string
from dataclasses import dataclass, field

from hypothesis import strategies as st
from openpyxl import Workbook

from models import UnitKind

CONTROL_CHARS = [chr(c) for c in range(32) if chr(c) not in "\t\n\r"]
NAME_MAX, CODE_MAX, MEMBERS_MAX = 200, 40, 10_000_000
CODE_ALPHABET = string.ascii_uppercase + string.digits + "-_./"
# Printable text an XLSX can hold (XML 1.0 has no C0 controls, surrogates, U+FFFE or U+FFFF).
SAFE_CHARS = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")
PADDING = st.sampled_from(["", "", " ", "\u3000", "\xa0", "  \t"])
HEADER_WORDS = {
    "code": ["code", "Code", "UNIT CODE", "unit_code", "编码", "单位编码", "代码", "*编码", "编码(必填)"],
    "name": ["name", "Name", "unit name", "名称", "单位名称", "名称(全称)"],
    "parent": ["parent code", "Parent", "parent_code", "上级编码", "上级单位编码", "上级代码:"],
    "kind": ["kind", "Type", "KIND", "类型", "单位类型", "类型(党委/单位/支部)"],
    "members": ["members", "Member count", "人数", "党员人数(人)", "党员数"],
}
KIND_WORDS = {UnitKind.COMMITTEE: ["committee", "Committee", "党委", "党工委", "党(工)委", "党(工)委"],
              UnitKind.UNIT: ["unit", "UNIT", "单位"], UnitKind.BRANCH: ["branch", "Branch", "支部", "党支部"]}
ALLOWED_PARENTS = {UnitKind.COMMITTEE: {None, UnitKind.COMMITTEE},
                   UnitKind.UNIT: {None, UnitKind.COMMITTEE, UnitKind.UNIT},
                   UnitKind.BRANCH: {UnitKind.COMMITTEE, UnitKind.UNIT}}
HOSTILE_TEXT = ['=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3",
                "<script>alert(1)</script>", "'; DROP TABLE unit; --", "{{ 7*7 }}", "\u202eevil"]


@dataclass
class Sheet:
    """A unit sheet as rows of cells, what it should do, and how it is written to bytes."""

    header: list[str]
    rows: list[list]
    expect: str = "valid"  # valid: imports every unit; invalid: imports nothing; refused: upload says 400
    units: dict[str, str] = field(default_factory=dict)  # code → parent code, when valid
    title: str | None = None
    encoding: str | None = None  # forced (a refusal by encoding), else drawn by the test
    damage: list[str] = field(default_factory=list)  # what was broken, for --hypothesis-show-statistics


@st.composite
def unit_trees(draw) -> list[dict]:
    """A valid tree of 1–10 units: unique codes, kinds that fit their parents."""
    n = draw(st.integers(1, 10))
    codes = draw(st.lists(st.text(CODE_ALPHABET, min_size=1, max_size=8), min_size=n, max_size=n, unique=True))
    units: list[dict] = []
    for code in codes:
        kind = draw(st.sampled_from(list(UnitKind)))
        parents = [u for u in units if u["kind"] in ALLOWED_PARENTS[kind]]
        if not parents and None not in ALLOWED_PARENTS[kind]:
            kind = UnitKind.COMMITTEE
        options = ([None] if None in ALLOWED_PARENTS[kind] else []) + parents
        parent = draw(st.sampled_from(options))
        name = draw(st.one_of(st.text(SAFE_CHARS, min_size=1, max_size=30), st.sampled_from(HOSTILE_TEXT)))
        name = name.strip(" \t\r\n\u3000\ufeff\xa0") or "某单位"
        units.append({"code": code, "name": name[:NAME_MAX], "kind": kind,
                      "parent": parent["code"] if parent else "", "members": draw(st.integers(0, MEMBERS_MAX))})
    return draw(st.permutations(units))  # children may come before their parents


def _members_cell(draw, n: int):
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(n))
    return draw(st.sampled_from([n, str(n), f"{n}.0", f"+{n}", f"{n:08d}", fullwidth] + ([""] if n == 0 else [])))


def _kind_cell(draw, kind: UnitKind) -> str:
    return draw(PADDING) + draw(st.sampled_from(KIND_WORDS[kind])) + draw(PADDING)


BROKEN_MEMBERS = st.one_of(
    st.sampled_from(["-3", "-0", "abc", "3.5", "1e3", "0x10", "NaN", "inf", "½", "--1", "1,000", "+-1", "10000001"]),
    st.integers(8, 6000).map(lambda k: "9" * k),  # int() refuses more than 4,300 digits
    st.integers(300, 800).map(lambda k: "1" * k + ".0"))  # float() makes these infinite
BREAKAGES = ["duplicate code", "unknown parent", "own parent", "cycle", "bad kind", "no code", "no name",
             "no kind", "bad members", "control character", "long code", "long name", "branch at the top",
             "unit under a branch", "markup in a code"]
REFUSALS = ["no code column", "no name column", "no kind column", "duplicated column", "header only", "utf-16"]


@st.composite
def sheets(draw, damage: str | None) -> tuple[Sheet, str]:
    """A unit sheet and its file format: valid (``damage`` None), with rows broken the way named
    (one of BREAKAGES, perhaps with more), or unacceptable as a whole (one of REFUSALS)."""
    units = draw(unit_trees())
    fields = ["code", "name", "kind"]
    if any(u["parent"] for u in units) or draw(st.booleans()):
        fields.append("parent")
    if draw(st.booleans()) or any(u["members"] for u in units) and draw(st.booleans()):
        fields.append("members")
    extra = draw(st.lists(st.sampled_from(["备注", "联系人", "note", "电话", "x"]), max_size=3, unique=True))
    columns = draw(st.permutations(fields + extra))
    header = [draw(st.sampled_from(HEADER_WORDS[c])) if c in HEADER_WORDS else c for c in columns]
    rows = []
    for u in units:
        cells = {"code": draw(PADDING) + u["code"] + draw(PADDING), "name": u["name"],
                 "kind": _kind_cell(draw, u["kind"]),
                 "parent": u["parent"] and draw(PADDING) + u["parent"] + draw(PADDING),
                 "members": _members_cell(draw, u["members"])}
        rows.append([cells[c] if c in cells else draw(st.one_of(st.text(SAFE_CHARS, max_size=20),
                                                                st.sampled_from(HOSTILE_TEXT),
                                                                st.integers(1000, 12000).map(lambda k: "长" * k)))
                     for c in columns])
    sheet = Sheet(header, rows, units={u["code"]: u["parent"] for u in units})
    if draw(st.booleans()):
        title = draw(st.text(string.ascii_letters + "二〇〇九年单位名单 ", min_size=1, max_size=20))
        sheet.title = title.strip() or "名单"  # no delimiter in it: the CSV reader sniffs the first line
    if damage in BREAKAGES:
        sheet.damage = [damage] + draw(st.lists(st.sampled_from(BREAKAGES), max_size=2))
        for how in sheet.damage:
            _break(draw, sheet, columns, how)
        sheet.expect = "invalid"
    elif damage in REFUSALS:
        sheet.damage = [damage]
        _refuse(draw, sheet, columns, damage)
        sheet.expect = "refused"
    for _ in range(draw(st.integers(0, 2))):  # blank rows anywhere below the header
        sheet.rows.insert(draw(st.integers(0, len(sheet.rows))), [""] * len(columns))
    has_control = any(isinstance(c, str) and any(ch in c for ch in CONTROL_CHARS) for r in sheet.rows for c in r)
    fmt = "csv" if has_control or sheet.expect == "refused" else draw(st.sampled_from(["csv", "xlsx"]))
    return sheet, fmt


def _break(draw, sheet: Sheet, columns: list[str], how: str) -> None:
    """Make at least one row of the sheet wrong in the way named."""
    at = {c: i for i, c in enumerate(columns)}
    row = draw(st.sampled_from(sheet.rows))

    def new_row(code, name, kind, parent="", members="1"):
        cells = {"code": code, "name": name, "kind": kind, "parent": parent, "members": members}
        return [cells.get(c, "") for c in columns]

    if how in ("unknown parent", "own parent", "cycle", "branch at the top", "unit under a branch") and \
            "parent" not in at or how == "bad members" and "members" not in at:
        how = "bad kind"  # without the column this cannot happen; break the kind instead
    if how == "duplicate code":
        sheet.rows.append(list(row))
    elif how in ("unknown parent", "own parent", "cycle", "branch at the top", "unit under a branch"):
        if how == "unknown parent":
            row[at["parent"]] = "no-such-parent"
        elif how == "own parent":
            row[at["parent"]] = row[at["code"]]
        elif how == "cycle":
            ring = draw(st.lists(st.sampled_from(sheet.rows), min_size=1, max_size=4, unique_by=id))
            for this, following in zip(ring, ring[1:] + ring[:1]):
                this[at["parent"]] = following[at["code"]]
        elif how == "branch at the top":
            sheet.rows.append(new_row("top-branch", "顶层支部", "支部"))
        else:
            sheet.rows += [new_row("c-x", "某党委", "党委"), new_row("b-x", "某支部", "支部", "c-x"),
                           new_row("u-x", "支部下的单位", "单位", "b-x")]
    if how == "bad kind":
        row[at["kind"]] = draw(st.sampled_from(["小组", "group", "党委会", "1", "=1+1", "支 部"]))
    elif how in ("no code", "no name", "no kind"):
        row[at[how[3:]]] = draw(st.sampled_from(["", " ", "\u3000"]))
    elif how == "bad members":
        row[at["members"]] = draw(BROKEN_MEMBERS)
    elif how == "control character":
        column = draw(st.sampled_from([c for c in columns if c in HEADER_WORDS]))
        text = str(row[at[column]])
        spot = draw(st.integers(0, len(text)))
        row[at[column]] = text[:spot] + draw(st.sampled_from(CONTROL_CHARS)) + text[spot:] + "x"
    elif how == "markup in a code":  # shown in the error list: "第 n 行(编码 …)"
        sheet.rows += [new_row("<b>X</b>", "<script>alert(1)</script>", "党委")] * 2
    elif how == "long code":
        row[at["code"]] = "C" * draw(st.integers(CODE_MAX + 1, 200))
    elif how == "long name":
        row[at["name"]] = "名" * draw(st.sampled_from([NAME_MAX + 1, 5000, 140_000]))


def _refuse(draw, sheet: Sheet, columns: list[str], how: str) -> None:
    """Make the whole file unacceptable: a required column missing or twice, no data rows, a bad encoding."""
    if how.startswith("no ") and how.endswith(" column"):
        index = columns.index(how[3:-7])
        del sheet.header[index]
        for row in sheet.rows:
            del row[index]
        columns.remove(how[3:-7])
    elif how == "duplicated column":
        column = draw(st.sampled_from([c for c in columns if c in HEADER_WORDS]))
        sheet.header.append(draw(st.sampled_from(HEADER_WORDS[column])))
        for row in sheet.rows:
            row.append(row[columns.index(column)])
        columns.append(column)
    elif how == "header only":
        sheet.rows.clear()
    sheet.units = {}
    if how == "utf-16":
        sheet.encoding = "utf-16"


def write_csv(sheet: Sheet, encoding: str, delimiter: str, newline: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    if sheet.title:
        writer.writerow([sheet.title] + [""] * (len(sheet.header) - 1))  # Excel pads every row
    writer.writerow(sheet.header)
    writer.writerows([str(c) for c in row] for row in sheet.rows)
    text = out.getvalue()
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:  # GBK lacks some characters; Excel would write GB18030
        return text.encode("gb18030")


def write_xlsx(sheet: Sheet) -> bytes:
    book = Workbook()
    page = book.active
    lines = ([[sheet.title]] if sheet.title else []) + [sheet.header] + sheet.rows
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line, start=1):
            cell = page.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "=": what a typed cell holds
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
