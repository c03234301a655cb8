"""Rater groups (测评主体) of a campaign: add, rename, set or clear the weight.

A weight is optional: with no weight on any group a rate is pooled over all
ballots; with weights, each group's rate counts in proportion to its weight
(docs/design.md, the scoring contract, rule 3). So a weight is a positive, finite
number, or nothing at all. Changes are audited as ``groups_edit``.
"""
from __future__ import annotations

import math
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import func, select

from extensions import db
from models import Ballot, RaterGroup

from evaluation.accounts.audit import record
from evaluation.services import ServiceError
from evaluation.text_checks import refuse_control
from evaluation.campaigns.units import campaign_or_error

NAME_MAX = 60
WEIGHT_MAX = 1000.0


def parse_weight(text: Optional[str]) -> Optional[float]:
    """'' → None (no weight); otherwise a positive finite number up to WEIGHT_MAX, or ServiceError."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        weight = float(text)
    except ValueError:
        raise ServiceError(_("权重“%(text)s”不是数字", text=text)) from None
    if not math.isfinite(weight) or weight <= 0 or weight > WEIGHT_MAX:
        raise ServiceError(_("权重须为大于 0、不超过 %(max)s 的数,或留空", max=f"{WEIGHT_MAX:g}"))
    return weight


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    refuse_control(name)
    if not name or len(name) > NAME_MAX:
        raise ServiceError(_("名称须为 1 到 %(max)s 个字符", max=NAME_MAX))
    return name


def _check_unique(campaign_id: int, name: str, own_id: Optional[int] = None) -> None:
    clash = db.session.scalar(select(RaterGroup.id).where(RaterGroup.campaign_id == campaign_id,
                                                          RaterGroup.name == name))
    if clash is not None and clash != own_id:
        raise ServiceError(_("测评主体“%(name)s”已存在", name=name))


def group_rows(campaign_id: int) -> list[dict]:
    """The campaign's groups with the number of ballots each has received (one grouped query)."""
    ballots = dict(db.session.execute(
        select(Ballot.rater_group_id, func.count()).join(RaterGroup, RaterGroup.id == Ballot.rater_group_id)
        .where(RaterGroup.campaign_id == campaign_id).group_by(Ballot.rater_group_id)).all())
    groups = db.session.scalars(select(RaterGroup).where(RaterGroup.campaign_id == campaign_id)
                                .order_by(RaterGroup.id))
    return [{"group": g, "ballots": ballots.get(g.id, 0)} for g in groups]


def add_group(campaign_id: int, name: str, weight_text: str = "") -> RaterGroup:
    """Add a rater group to a campaign."""
    campaign = campaign_or_error(campaign_id)
    name, weight = _clean_name(name), parse_weight(weight_text)
    _check_unique(campaign.id, name)
    group = RaterGroup(campaign_id=campaign.id, name=name, weight=weight)
    db.session.add(group)
    record("groups_edit", f"活动 {campaign.id} 测评主体 {name}", op="add", weight=weight)
    db.session.commit()
    return group


def update_group(group_id: int, name: str, weight_text: str = "") -> RaterGroup:
    """Rename a group and set (or clear, with an empty text) its weight."""
    group = db.session.get(RaterGroup, group_id)
    if group is None:
        raise ServiceError(_("测评主体 %(id)s 不存在", id=group_id))
    name, weight = _clean_name(name), parse_weight(weight_text)
    _check_unique(group.campaign_id, name, group.id)
    changes = {}
    if name != group.name:
        changes["name"] = [group.name, name]
    if weight != group.weight:
        changes["weight"] = [group.weight, weight]
    if changes:
        group.name, group.weight = name, weight
        record("groups_edit", f"活动 {group.campaign_id} 测评主体 {name}", op="update", changes=changes)
    db.session.commit()
    return group
