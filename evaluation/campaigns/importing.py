"""Import a campaign's unit tree from a CSV or XLSX sheet: preview with per-row errors, then all or nothing.

Columns (English or Chinese headers, any order): ``code`` 编码, ``name`` 名称,
``parent code`` 上级编码, ``kind`` 类型 (committee / unit / branch, or 党委 /
党工委 / 单位 / 支部), ``members`` 人数. The header may sit below a title row.

:func:`parse_upload` turns the file into raw rows; :func:`check_rows` finds
every problem of every row against the sheet and the units the campaign already
has (it is run again at confirmation, because the campaign may have changed
meanwhile); :func:`apply_import` writes all new units in one transaction or none.
A row whose code already exists in the campaign with the very same data is
left as it is, so importing the same sheet twice is harmless.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from flask_babel import gettext as _, ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import Unit, UnitKind

from evaluation.accounts.audit import record
from evaluation.services import ServiceError
from evaluation.campaigns.spreadsheets import SpreadsheetError, read_rows
from evaluation.text_checks import CONTROL
from evaluation.campaigns.units import CODE_MAX, KIND_LABELS, MEMBERS_MAX, NAME_MAX, campaign_or_error, parent_kind_error

FIELDS = ("code", "name", "parent", "kind", "members")
REQUIRED = ("code", "name", "kind")
HEADERS = {
    "code": {"code", "unitcode", "编码", "单位编码", "代码", "单位代码"},
    "name": {"name", "unitname", "名称", "单位名称"},
    "parent": {"parentcode", "parent", "上级编码", "上级单位编码", "上级代码", "上级单位代码"},
    "kind": {"kind", "type", "类型", "单位类型"},
    "members": {"members", "membercount", "人数", "党员人数", "党员数"},
}
KIND_WORDS = {
    "committee": UnitKind.COMMITTEE, "党委": UnitKind.COMMITTEE, "党工委": UnitKind.COMMITTEE,
    "党(工)委": UnitKind.COMMITTEE, "党\uff08工\uff09委": UnitKind.COMMITTEE,
    "unit": UnitKind.UNIT, "单位": UnitKind.UNIT,
    "branch": UnitKind.BRANCH, "支部": UnitKind.BRANCH, "党支部": UnitKind.BRANCH,
}
# Notes in brackets, spaces, underscores and colons (ASCII or full-width) do not matter in a header.
_HEADER_NOISE = re.compile("[(\uff08][^)\uff09]*[)\uff09]|[\\s_\\-*:\uff1a]+")
_INTEGER = re.compile(r"[+]?\d+(\.0+)?")


class UnitSheetError(ServiceError):
    """The upload cannot be previewed at all (unreadable file, missing columns, no rows)."""


@dataclass
class CheckedRow:
    """One data row of the sheet with what it will become and everything wrong with it."""

    line: int
    code: str
    name: str
    parent: str
    kind_text: str
    members_text: str
    kind: Optional[UnitKind] = None
    members: Optional[int] = None
    existing: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class Preview:
    """The checked rows of an upload and their counts."""

    rows: list[CheckedRow]

    @property
    def errors(self) -> list[CheckedRow]:
        """Rows with at least one error."""
        return [r for r in self.rows if r.errors]

    @property
    def new(self) -> list[CheckedRow]:
        """Valid rows that will create a unit."""
        return [r for r in self.rows if not r.existing and not r.errors]


def _header_key(text: str) -> str:
    return _HEADER_NOISE.sub("", text).lower()


def _find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]]:
    """(index of the header row, field → column) among the first rows; UnitSheetError if none fits."""
    for index, row in enumerate(rows[:10]):
        columns: dict[str, int] = {}
        for column, text in enumerate(row):
            key = _header_key(text)
            for name, words in HEADERS.items():
                if key in words:
                    if name in columns:
                        raise UnitSheetError(_("表头“%(text)s”重复", text=text))
                    columns[name] = column
        if all(name in columns for name in REQUIRED):
            return index, columns
        if len(columns) >= 2:
            missing = "、".join(n for n in REQUIRED if n not in columns)
            raise UnitSheetError(_("缺少必需的列:%(missing)s(需要 编码、名称、上级编码、类型、人数)", missing=missing))
    raise UnitSheetError(_("找不到表头行(需要 编码、名称、上级编码、类型、人数 或 code, name, parent code, kind, members)"))


def parse_upload(data: bytes) -> list[dict]:
    """The data rows of an uploaded sheet as dicts of text with their sheet line numbers.

    Blank rows are skipped; line numbers are the spreadsheet's own (the header
    row counts), so an organiser can find a reported row in Excel.
    """
    try:
        table = read_rows(data)
    except SpreadsheetError as error:
        raise UnitSheetError(str(error)) from None
    header_index, columns = _find_header(table)
    rows = []
    for line, cells in enumerate(table[header_index + 1:], start=header_index + 2):
        if not any(cells):
            continue
        rows.append({"line": line, **{name: (cells[columns[name]] if name in columns and columns[name] < len(cells)
                                             else "") for name in FIELDS}})
    if not rows:
        raise UnitSheetError(_("文件中没有数据行"))
    return rows


def _parse_members(text: str) -> tuple[Optional[int], Optional[str]]:
    """(members, error): empty is 0; whole numbers only, not negative."""
    if text == "":
        return 0, None
    if text.startswith("-") and _INTEGER.fullmatch(text[1:]):
        return None, _("人数“%(text)s”不能为负数", text=text)
    if not _INTEGER.fullmatch(text):
        return None, _("人数“%(text)s”不是整数", text=text)
    # Count the digits before converting: int() refuses more than 4,300 of them and
    # float() turns a few hundred into infinity; either used to be a 500 (found by tests/test_fuzz_imports.py).
    whole = text.lstrip("+").split(".")[0]
    if len(whole.lstrip("0")) > len(str(MEMBERS_MAX)):
        return None, _("人数“%(text)s”过大", text=text)
    value = int(whole)
    if value > MEMBERS_MAX:
        return None, _("人数“%(text)s”过大", text=text)
    return value, None


def _basic_checks(row: CheckedRow) -> None:
    """Checks that need only the row itself."""
    if any(CONTROL.search(text) for text in (row.code, row.name, row.parent, row.kind_text, row.members_text)):
        row.errors.append(_("含有无法保存的控制字符"))
    if not row.code:
        row.errors.append(_("缺少编码"))
    elif len(row.code) > CODE_MAX:
        row.errors.append(_("编码超过 %(max)s 个字符", max=CODE_MAX))
    if not row.name:
        row.errors.append(_("缺少名称"))
    elif len(row.name) > NAME_MAX:
        row.errors.append(_("名称超过 %(max)s 个字符", max=NAME_MAX))
    if not row.kind_text:
        row.errors.append(_("缺少类型"))
    else:
        row.kind = KIND_WORDS.get(row.kind_text.lower())
        if row.kind is None:
            row.errors.append(_("类型“%(text)s”无法识别(应为 党委/党工委、单位 或 支部)", text=row.kind_text))
    row.members, problem = _parse_members(row.members_text)
    if problem:
        row.errors.append(problem)


def _cycle(row: CheckedRow, by_code: dict[str, CheckedRow]) -> Optional[list[str]]:
    """The chain of codes if following this row's parents within the sheet comes back to it."""
    chain, node = [row.code], row
    while node.parent and node.parent in by_code and len(chain) <= len(by_code):
        node = by_code[node.parent]
        chain.append(node.code)
        if node.code == row.code:
            return chain
    return None


def check_rows(campaign_id: int, raw_rows: list[dict]) -> Preview:
    """Check every row against the sheet and the campaign's existing units; nothing is written."""
    existing = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.campaign_id == campaign_id))}
    rows = [CheckedRow(r["line"], r["code"], r["name"], r["parent"], r["kind"], r["members"]) for r in raw_rows]
    first_line: dict[str, int] = {}
    for row in rows:
        _basic_checks(row)
        if row.code and row.code in first_line:
            row.errors.append(_("编码 %(code)s 与第 %(line)s 行重复", code=row.code, line=first_line[row.code]))
        first_line.setdefault(row.code, row.line)
    by_code = {r.code: r for r in rows if r.code and first_line[r.code] == r.line}
    for row in rows:
        _context_checks(row, by_code, existing)
    return Preview(rows)


def _context_checks(row: CheckedRow, by_code: dict[str, CheckedRow], existing: dict[str, Unit]) -> None:
    """Checks against the other rows and the campaign: parent, kind fit, cycles, existing codes."""
    if row.parent and row.parent == row.code:
        row.errors.append(_("上级编码不能是本单位自己的编码"))
        return
    current = existing.get(row.code)
    if current is not None and row.kind is not None and row.members is not None:
        differences = [label for label, same in (
            (_("名称"), current.name == row.name), (_("类型"), current.kind is row.kind),
            (_("人数"), current.members == row.members),
            (_("上级编码"), (current.parent.code if current.parent else "") == row.parent)) if not same]
        if differences:
            row.errors.append(_("编码 %(code)s 已存在于本活动(%(name)s,%(kind)s),但%(fields)s不同;如需修改请在单位页面编辑",
                                code=row.code, name=current.name, kind=KIND_LABELS[current.kind],
                                fields=_("、").join(differences)))
            return
        row.existing = True
        return
    parent_kind: Optional[UnitKind] = None
    if row.parent:
        in_sheet, in_campaign = by_code.get(row.parent), existing.get(row.parent)
        if in_sheet is None and in_campaign is None:
            row.errors.append(_("上级编码 %(code)s 不存在(本表和本活动中都没有)", code=row.parent))
            return
        if in_campaign is not None:
            parent_kind = in_campaign.kind
            if not in_campaign.active:
                row.errors.append(_("上级单位 %(code)s 已停用", code=row.parent))
        else:
            parent_kind = in_sheet.kind
            chain = _cycle(row, by_code)
            if chain:
                row.errors.append(_("上级关系形成循环:%(chain)s", chain=" → ".join(chain)))
                return
        if parent_kind is None:
            return  # the parent row has its own error about its kind
    if row.kind is not None:
        problem = parent_kind_error(row.kind, parent_kind)
        if problem:
            row.errors.append(_("上级类型不符:%(problem)s", problem=problem))


@dataclass
class ImportSummary:
    """What an import did."""

    created: int
    unchanged: int


def apply_import(campaign_id: int, raw_rows: list[dict], filename: str = "") -> ImportSummary:
    """Check the rows again and create every new unit in one transaction (all or nothing).

    Raises :class:`ServiceError` when any row has an error or the campaign
    changed under us (another organiser imported the same codes first).
    """
    campaign = campaign_or_error(campaign_id)
    preview = check_rows(campaign_id, raw_rows)
    if preview.errors:
        raise ServiceError(ngettext("有 %(num)s 行存在错误,未导入任何单位", "有 %(num)s 行存在错误,未导入任何单位", len(preview.errors)))
    units = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.campaign_id == campaign_id))}
    pending = list(preview.new)
    try:
        while pending:  # parents first; check_rows guarantees there is no cycle
            ready = [r for r in pending if not r.parent or r.parent in units]
            for row in ready:
                units[row.code] = Unit(campaign_id=campaign.id, code=row.code, name=row.name, kind=row.kind,
                                       members=row.members, parent=units.get(row.parent), active=True)
                db.session.add(units[row.code])
            pending = [r for r in pending if r not in ready]
            if not ready:
                raise ServiceError(_("上级关系无法排序"))
        summary = ImportSummary(created=len(preview.new), unchanged=len(preview.rows) - len(preview.new))
        record("units_import", f"活动 {campaign.id} {campaign.name}", file=filename[:100], rows=len(preview.rows),
               created=summary.created, unchanged=summary.unchanged)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(_("导入时发现编码已被他人导入,未导入任何单位,请重新上传")) from None
    except Exception:
        db.session.rollback()
        raise
    return summary
