"""整改落实 (四明确一承诺): a unit's rectification items, overdue checks and the make-up link.

Each item names the project, the goal and deadline, the measures, who is responsible
and the public commitment, sorted by how hard it is (立即解决 / 一段时间解决 / 自身难以
解决). Organisers edit every unit's items, a liaison those of their own subtree.
An item may answer a make-up decision (补课): that links the unit's rectification to
its second satisfaction evaluation, and the overview counts the items done.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from extensions import db
from models import MakeUp, RectificationItem, Unit

from evaluation.accounts.audit import record
from evaluation.days import local_today
from evaluation.services import N_, ServiceError, refusal
from evaluation.text_checks import refuse_control

CATEGORIES = {
    "immediate": _l("立即解决"),
    "period": _l("一段时间解决"),
    "hard": _l("自身难以解决"),
}
STATUSES = {"planned": _l("未开始"), "in_progress": _l("正在进行"), "done": _l("已完成")}
#: Field name → label, for refusals that name a field.
FIELD_LABELS = {"project": _l("整改项目"), "goal": _l("整改目标"), "measures": _l("具体措施"),
                "responsible": _l("责任人"), "commitment": _l("公开承诺")}
#: Longest text per field (characters); the model's String columns set the short ones.
LIMITS = {"project": 200, "goal": 2000, "measures": 2000, "responsible": 100, "commitment": 2000}
FIELDS = ("project", "goal", "deadline", "measures", "responsible", "commitment", "category", "status",
          "done_on", "makeup_id")


def is_overdue(item: RectificationItem, today: Optional[dt.date] = None) -> bool:
    """Past its deadline and not done (the deadline day itself is not overdue)."""
    today = today or local_today()
    return item.deadline is not None and item.deadline < today and item.status != "done"


def unit_items(unit_id: int) -> list[RectificationItem]:
    """A unit's items: by category (immediate first), then deadline, then id."""
    order = case({key: n for n, key in enumerate(CATEGORIES)}, value=RectificationItem.category, else_=9)
    return list(db.session.scalars(
        select(RectificationItem).where(RectificationItem.unit_id == unit_id)
        .order_by(order, RectificationItem.deadline.is_(None), RectificationItem.deadline, RectificationItem.id)))


def unit_makeups(unit_id: int) -> list[MakeUp]:
    """The make-up decisions about a unit, newest first (choices for an item's link)."""
    return list(db.session.scalars(select(MakeUp).where(MakeUp.unit_id == unit_id).order_by(MakeUp.id.desc())))


def save(unit: Unit, values: dict[str, Any], user, item: Optional[RectificationItem] = None) -> RectificationItem:
    """Create (``item`` None) or update an item from checked form values.

    ``done_on`` is filled with today when the status becomes done without a date, and
    cleared when the item is no longer done. A make-up link must be one of the unit's
    own decisions.
    """
    data = {key: values.get(key) for key in FIELDS}
    refuse_control(*(data[key] for key in LIMITS))
    for key, limit in LIMITS.items():
        data[key] = (data[key] or "").strip()
        if len(data[key]) > limit:
            raise ServiceError(refusal(N_("%(field)s过长(最多 %(limit)s 字)"), field=FIELD_LABELS[key], limit=limit))
    if not data["project"]:
        raise ServiceError(refusal(N_("请填写整改项目")))
    if data["category"] not in CATEGORIES:
        raise ServiceError(refusal(N_("请选择类别")))
    if data["status"] not in STATUSES:
        raise ServiceError(refusal(N_("请选择状态")))
    if data["makeup_id"]:
        if data["makeup_id"] not in {m.id for m in unit_makeups(unit.id)}:
            raise ServiceError(refusal(N_("补课决定不属于该单位")))
    else:
        data["makeup_id"] = None
    if data["status"] == "done":
        data["done_on"] = data["done_on"] or local_today()
    else:
        data["done_on"] = None
    created = item is None
    if created:
        item = RectificationItem(campaign_id=unit.campaign_id, unit_id=unit.id)
        db.session.add(item)
    for key, value in data.items():
        setattr(item, key, value)
    db.session.flush()
    record("rectification_save", f"unit:{unit.id}", user, item_id=item.id, created=created,
           status=item.status, category=item.category)
    db.session.commit()
    return item


def delete(item: RectificationItem, user) -> None:
    """Remove an item (e.g. entered twice); the audit log keeps its id and project."""
    record("rectification_delete", f"unit:{item.unit_id}", user, item_id=item.id, project=item.project)
    db.session.delete(item)
    db.session.commit()


def makeup_progress(makeup_ids: list[int]) -> dict[int, dict[str, int]]:
    """Items done and in total per make-up decision, one grouped query."""
    if not makeup_ids:
        return {}
    rows = db.session.execute(
        select(RectificationItem.makeup_id, func.count(),
               func.sum(case((RectificationItem.status == "done", 1), else_=0)))
        .where(RectificationItem.makeup_id.in_(makeup_ids)).group_by(RectificationItem.makeup_id))
    return {int(m): {"total": int(n), "done": int(d or 0)} for m, n, d in rows}


def campaign_rows(campaign_id: int, unit_ids: Optional[set[int]] = None,
                  today: Optional[dt.date] = None) -> list[dict]:
    """Per unit with items: total, done, overdue and per category, one grouped query."""
    today = today or local_today()
    overdue = (RectificationItem.deadline < today) & (RectificationItem.status != "done")
    query = (select(Unit.id, Unit.name, func.count(),
                    func.sum(case((RectificationItem.status == "done", 1), else_=0)),
                    func.sum(case((overdue, 1), else_=0)),
                    *[func.sum(case((RectificationItem.category == key, 1), else_=0)) for key in CATEGORIES])
             .join(Unit, Unit.id == RectificationItem.unit_id)
             .where(RectificationItem.campaign_id == campaign_id)
             .group_by(Unit.id, Unit.name).order_by(Unit.id))
    if unit_ids is not None:
        query = query.where(RectificationItem.unit_id.in_(unit_ids))
    rows = []
    for unit_id, name, total, done, late, *per_category in db.session.execute(query):
        rows.append({"unit_id": unit_id, "unit": name, "total": int(total), "done": int(done or 0),
                     "overdue": int(late or 0),
                     "categories": {k: int(v or 0) for k, v in zip(CATEGORIES, per_category)}})
    return rows
