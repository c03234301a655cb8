"""Builders for the evaluation-management tests (bulk evaluations, codes and slips, paper ballots).

``build_units`` makes a campaign of many units quickly (bulk inserts, like the
demo), so the bulk operations are tried at a realistic size.
"""
from __future__ import annotations

from sqlalchemy import insert, select

from extensions import db

from tests.evaluation.results_data import PASSWORD, login

GROUPS = ("党员", "群众代表", "服务对象")

__all__ = ["GROUPS", "PASSWORD", "build_units", "login", "make_user", "audit_rows"]


def build_units(app, n_units: int = 30, n_committees: int = 2, name: str = "批量活动") -> dict:
    """A campaign with ``n_committees`` committees and ``n_units`` units spread over them, three groups.

    Returns ids: campaign, committees (list), units (list), by_committee (id → unit ids), groups (name → id).
    """
    from models import Campaign, RaterGroup, Unit, UnitKind

    with app.app_context():
        campaign = Campaign(name=name)
        db.session.add(campaign)
        db.session.flush()
        committees = list(db.session.scalars(insert(Unit).returning(Unit.id, sort_by_parameter_order=True), [
            {"campaign_id": campaign.id, "code": f"C{c:02d}", "name": f"第{c}党委", "kind": UnitKind.COMMITTEE,
             "members": 0, "active": True} for c in range(1, n_committees + 1)]))
        rows = [{"campaign_id": campaign.id, "parent_id": committees[u % n_committees], "code": f"U{u:03d}",
                 "name": f"单位{u:03d}", "kind": UnitKind.UNIT, "members": 20, "active": True}
                for u in range(n_units)]
        units = list(db.session.scalars(insert(Unit).returning(Unit.id, sort_by_parameter_order=True), rows))
        groups = {}
        for group_name in GROUPS:
            group = RaterGroup(campaign_id=campaign.id, name=group_name)
            db.session.add(group)
            db.session.flush()
            groups[group_name] = group.id
        db.session.commit()
        by_committee = {c: [u for i, u in enumerate(units) if committees[i % n_committees] == c] for c in committees}
        return {"campaign": campaign.id, "committees": committees, "units": units, "by_committee": by_committee,
                "groups": groups}


def make_user(app, username: str, role: str = "organiser", unit_id: int | None = None) -> str:
    """Create an account with the shared test password; return its name."""
    from evaluation.services import create_user

    with app.app_context():
        create_user(username, PASSWORD, role, unit_id)
    return username


def audit_rows(app, action: str) -> list:
    """The audit entries of one action, oldest first."""
    from models import AuditLog

    with app.app_context():
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
