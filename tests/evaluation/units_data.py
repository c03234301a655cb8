"""Unit sheets and upload helpers shared by the units and rater-group tests."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from results_data import PASSWORD, login
from sqlalchemy import func, select

from extensions import db
from models import AuditLog, Campaign, Unit

ZH = ["编码", "名称", "上级编码", "类型", "人数"]
EN = ["code", "name", "parent code", "kind", "members"]


def sheet_300() -> list[list]:
    """10 committees, 90 units (9 each), 200 branches spread over the units: 300 rows."""
    rows = []
    for c in range(1, 11):
        rows.append([f"C{c:02d}", f"第{c}党委", "", "党委", 0])
    for u in range(1, 91):
        rows.append([f"U{u:03d}", f"第{u}单位", f"C{(u - 1) // 9 + 1:02d}", "单位", 20 + u % 7])
    for b in range(1, 201):
        rows.append([f"B{b:03d}", f"第{b}支部", f"U{(b - 1) % 90 + 1:03d}", "支部", 5 + b % 11])
    return rows


def as_csv(header, rows, encoding="utf-8-sig") -> bytes:
    """A CSV file of ``header`` and ``rows`` in ``encoding`` (Excel's UTF-8 with BOM by default)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(header, rows, title: str | None = None) -> bytes:
    """An XLSX workbook of ``header`` and ``rows``, optionally below a title row."""
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_organiser(app, client) -> int:
    """Sign ``client`` in as a new organiser 'org' and create an empty campaign; returns its id."""
    from evaluation.services import create_user

    with app.app_context():
        create_user("org", PASSWORD, "organiser")
        campaign = Campaign(name="导入测试")
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id
    login(client, "org")
    return campaign_id


def upload(client, campaign_id: int, data: bytes, filename: str = "units.xlsx"):
    """POST a unit sheet to the import of a campaign."""
    return client.post(f"/admin/units/import?campaign={campaign_id}", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename)})


def unit_count(app, campaign_id: int) -> int:
    """Units stored for a campaign."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Unit).where(Unit.campaign_id == campaign_id))


def audit_actions(app, action: str) -> list[AuditLog]:
    """Audit entries of one action, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
