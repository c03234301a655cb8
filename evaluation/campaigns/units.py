"""Units (单位) of a campaign as plain service functions: the tree, edit, move, (de)activate.

The tree rules live here once and are shared with the import
(:mod:`evaluation.campaigns.importing`): a committee (党委 / 党工委) sits at the top or
under another committee; a unit (单位) under a committee or a unit, or at the
top; a branch (支部) under a committee or a unit — nothing sits under a branch.
An active unit never hangs under an inactive one: deactivating a unit
deactivates its whole subtree, and a unit is reactivated only under an active parent.

Every change is recorded in the audit log in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from extensions import db
from ids import get_by_id
from models import Campaign, Unit, UnitKind

from evaluation.accounts.audit import record
from evaluation.accounts.permissions import subtree_ids
from evaluation.services import ServiceError
from evaluation.text_checks import refuse_control

KIND_LABELS = {UnitKind.COMMITTEE: _l("党(工)委"), UnitKind.UNIT: _l("单位"), UnitKind.BRANCH: _l("支部")}
#: Kinds a parent may have, per kind of child (None: at the top of the tree).
ALLOWED_PARENTS: dict[UnitKind, set[Optional[UnitKind]]] = {
    UnitKind.COMMITTEE: {None, UnitKind.COMMITTEE},
    UnitKind.UNIT: {None, UnitKind.COMMITTEE, UnitKind.UNIT},
    UnitKind.BRANCH: {UnitKind.COMMITTEE, UnitKind.UNIT},
}
NAME_MAX, CODE_MAX, MEMBERS_MAX = 200, 40, 10_000_000


def parent_kind_error(kind: UnitKind, parent_kind: Optional[UnitKind]) -> Optional[str]:
    """Why a ``kind`` may not sit under a parent of ``parent_kind`` (None when it may), in the current language."""
    if parent_kind in ALLOWED_PARENTS[kind]:
        return None
    if parent_kind is None:
        return _("%(kind)s必须有上级单位", kind=KIND_LABELS[kind])
    return _("%(kind)s不能隶属于%(parent)s", kind=KIND_LABELS[kind], parent=KIND_LABELS[parent_kind])


@dataclass
class TreeRow:
    """One unit in tree order, with its depth (the move form's parent choices)."""

    unit: Unit
    depth: int


def campaign_or_error(campaign_id: Optional[int]) -> Campaign:
    """The campaign with this id, or a ServiceError."""
    campaign = db.session.get(Campaign, campaign_id) if campaign_id is not None else None
    if campaign is None:
        raise ServiceError(_("活动 %(id)s 不存在", id=campaign_id))
    return campaign


def tree_rows(campaign_id: int) -> list[TreeRow]:
    """The campaign's units depth-first (committee → unit → branch), siblings by code.

    One query; the tree is walked in memory. Units whose parent is missing are listed at the top.
    (The units page has its own narrower walk with counts: :func:`evaluation.campaigns.unit_list.tree_index`.)
    """
    units = list(db.session.scalars(select(Unit).where(Unit.campaign_id == campaign_id).order_by(Unit.code)))
    ids = {u.id for u in units}
    children: dict[Optional[int], list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id if unit.parent_id in ids else None, []).append(unit)
    rows: list[TreeRow] = []
    stack = [(u, 0) for u in reversed(children.get(None, []))]
    while stack:
        unit, depth = stack.pop()
        rows.append(TreeRow(unit, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(unit.id, [])))
    return rows


def create_campaign(name: str, starts_on: Optional[dt.date] = None, ends_on: Optional[dt.date] = None) -> Campaign:
    """Create a campaign (name unique, start not after end) and commit."""
    name = (name or "").strip()
    refuse_control(name)
    if not name or len(name) > 200:
        raise ServiceError(_("活动名称须为 1 到 %(max)s 个字符", max=200))
    if starts_on and ends_on and starts_on > ends_on:
        raise ServiceError(_("开始日期晚于结束日期"))
    if db.session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise ServiceError(_("活动“%(name)s”已存在", name=name))
    campaign = Campaign(name=name, starts_on=starts_on, ends_on=ends_on)
    db.session.add(campaign)
    db.session.flush()
    record("campaign_create", f"活动 {campaign.id} {name}", starts_on=starts_on, ends_on=ends_on)
    db.session.commit()
    return campaign


def _unit_or_error(unit_id: int) -> Unit:
    unit = get_by_id(Unit, unit_id)
    if unit is None:
        raise ServiceError(_("单位 %(id)s 不存在", id=unit_id))
    return unit


def _target(unit: Unit) -> str:
    return f"单位 {unit.code} {unit.name}"


def edit_unit(unit_id: int, name: str, kind: UnitKind, members: int) -> Unit:
    """Change a unit's name, kind and member count; the kind must still fit its parent and children."""
    unit = _unit_or_error(unit_id)
    name = (name or "").strip()
    refuse_control(name)
    if not name or len(name) > NAME_MAX:
        raise ServiceError(_("名称须为 1 到 %(max)s 个字符", max=NAME_MAX))
    if not 0 <= members <= MEMBERS_MAX:
        raise ServiceError(_("人数须为非负整数"))
    problem = parent_kind_error(kind, unit.parent.kind if unit.parent else None)
    for child in unit.children:
        problem = problem or parent_kind_error(child.kind, kind)
    if problem:
        raise ServiceError(_("类型不符合层级:%(problem)s", problem=problem))
    before = {"name": unit.name, "kind": unit.kind.value, "members": unit.members}
    after = {"name": name, "kind": kind.value, "members": members}
    changes = {field: [str(before[field]), str(after[field])] for field in before if before[field] != after[field]}
    if changes:
        unit.name, unit.kind, unit.members = name, kind, members
        record("unit_edit", _target(unit), op="edit", changes=changes)
    db.session.commit()
    return unit


def move_unit(unit_id: int, parent_id: Optional[int]) -> Unit:
    """Hang a unit (with its subtree) under another parent of the same campaign, or at the top.

    Refused when the new parent is the unit itself or below it (a cycle), has
    the wrong kind, or is inactive while the unit is active.
    """
    unit = _unit_or_error(unit_id)
    parent = None
    if parent_id is not None:
        parent = _unit_or_error(parent_id)
        if parent.campaign_id != unit.campaign_id:
            raise ServiceError(_("上级单位不属于同一活动"))
        if parent.id in subtree_ids(unit.id):
            raise ServiceError(_("不能移到自身或其下级单位之下(会形成循环)"))
        if unit.active and not parent.active:
            raise ServiceError(_("不能移到已停用的单位之下"))
    problem = parent_kind_error(unit.kind, parent.kind if parent else None)
    if problem:
        raise ServiceError(problem)
    if unit.parent_id != parent_id:
        old = unit.parent
        unit.parent = parent
        record("unit_edit", _target(unit), op="move", old_parent=old.code if old else None,
               new_parent=parent.code if parent else None)
    db.session.commit()
    return unit


def deactivation_count(unit_id: int) -> int:
    """How many units deactivating this one would change: the active units of its subtree, itself included."""
    ids = subtree_ids(_unit_or_error(unit_id).id)
    return db.session.scalar(select(func.count()).select_from(Unit)
                             .where(Unit.id.in_(ids), Unit.active.is_(True))) or 0


def set_active(unit_id: int, active: bool) -> int:
    """Deactivate a unit and its subtree, or reactivate one unit (its parent must be active).

    Returns how many units changed. Evaluations and ballots are kept either way.
    """
    unit = _unit_or_error(unit_id)
    if active:
        if unit.parent is not None and not unit.parent.active:
            raise ServiceError(_("上级单位已停用,请先启用上级单位"))
        changed = [unit] if not unit.active else []
    else:
        ids = subtree_ids(unit.id)
        changed = [u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids))) if u.active]
    for item in changed:
        item.active = active
    if changed:
        record("unit_edit", _target(unit), op="reactivate" if active else "deactivate", units=len(changed))
    db.session.commit()
    return len(changed)


def parent_choices(unit: Unit) -> list[tuple[int, str]]:
    """Units this unit could move under: same campaign, not in its subtree, of a fitting kind."""
    below = subtree_ids(unit.id)
    return [(row.unit.id, f"{'— ' * row.depth}{row.unit.code} {row.unit.name}")
            for row in tree_rows(unit.campaign_id)
            if row.unit.id not in below and parent_kind_error(unit.kind, row.unit.kind) is None]
