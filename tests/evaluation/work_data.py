"""Accounts and helpers for the campaign-work tests (suggestions, reports, rectification, stages).

Built on the ``campaign`` fixture: committee 测试党委 → 第一单位 (``units[0]``), 第二单位
(``units[1]``). ``make_accounts`` adds an organiser, a viewer and a liaison for each unit.
"""
from __future__ import annotations

from results_data import PASSWORD, login  # noqa: F401  (re-exported for the tests)

from extensions import db


def make_accounts(app, campaign: dict) -> dict:
    """organiser ``org``, viewer ``view``, liaison ``l1`` (第一单位) and ``l2`` (第二单位)."""
    from evaluation.services import create_user

    u1, u2 = campaign["units"]
    with app.app_context():
        create_user("org", PASSWORD, "organiser")
        create_user("view", PASSWORD, "viewer")
        create_user("l1", PASSWORD, "liaison", u1)
        create_user("l2", PASSWORD, "liaison", u2)
    return {"u1": u1, "u2": u2, "campaign": campaign["campaign"]}


def switch(client, username: str) -> None:
    """Sign out whoever is signed in and sign ``username`` in."""
    client.post("/logout")
    login(client, username)


def audit_actions(app) -> list[tuple[str, str, str]]:
    """(action, target, detail) of every audit entry, oldest first."""
    from models import AuditLog

    with app.app_context():
        return [(a.action, a.target, a.detail) for a in db.session.scalars(db.select(AuditLog).order_by(AuditLog.id))]


def rows(app, model, *where) -> list:
    """Every row of ``model`` matching ``where``, detached (attributes loaded)."""
    with app.app_context():
        found = list(db.session.scalars(db.select(model).where(*where).order_by(model.id)))
        for row in found:
            db.session.expunge(row)
        return found
