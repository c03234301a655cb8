"""The units page as a list that scales: search by code or name, sort, filter, pages, export.

726 units (the demo campaign with its branches) on one page made it 41,000 px tall; the list
now shows :data:`evaluation.listing.PER_PAGE` rows a page, found by the search box, and its
download (in the import sheet's own columns) holds exactly the filtered rows.
"""
from __future__ import annotations

from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from extensions import db
from models import Evaluation, Unit, UnitKind

from evaluation.listing import ListSpec

_PARENT = aliased(Unit, name="parent_unit")
# Evaluations per unit, joined by unit id (a unit belongs to one campaign, so no campaign filter is needed).
_EVALUATIONS = (select(Evaluation.unit_id, func.count().label("n")).group_by(Evaluation.unit_id)
                .subquery("unit_evaluations"))
_EVALUATION_COUNT = func.coalesce(_EVALUATIONS.c.n, 0)

UNIT_LIST = ListSpec(
    sorts={"code": Unit.code, "name": Unit.name, "parent": _PARENT.name, "members": Unit.members,
           "evaluations": _EVALUATION_COUNT, "active": Unit.active},
    searched=(Unit.code, Unit.name, _PARENT.name),
    default_sort="code", tiebreak=(Unit.id,))
#: Filter values of ``?kind=`` and ``?state=`` (anything else means "all").
KINDS = {kind.value: kind for kind in UnitKind}
STATES = ("active", "inactive")
#: Kind words the import reads back (evaluation/campaigns/importing.py KIND_WORDS), in any interface language.
KIND_WORDS = {UnitKind.COMMITTEE: "党委", UnitKind.UNIT: "单位", UnitKind.BRANCH: "支部"}


def unit_filters(args) -> dict:
    """The page's filters from the query string; unknown values are dropped ("all")."""
    kind, state = args.get("kind"), args.get("state")
    return {"kind": kind if kind in KINDS else None, "state": state if state in STATES else None}


def unit_query(campaign_id: int, kind: Optional[str] = None, state: Optional[str] = None) -> Select:
    """The campaign's units with their parent and evaluation count, narrowed by kind and state."""
    query = (select(Unit, _PARENT.code.label("parent_code"), _PARENT.name.label("parent_name"),
                    _EVALUATION_COUNT.label("evaluations"))
             .outerjoin(_PARENT, _PARENT.id == Unit.parent_id)
             .outerjoin(_EVALUATIONS, _EVALUATIONS.c.unit_id == Unit.id)
             .where(Unit.campaign_id == campaign_id))
    if kind in KINDS:
        query = query.where(Unit.kind == KINDS[kind])
    if state in STATES:
        query = query.where(Unit.active.is_(state == "active"))
    return query


def unit_totals(campaign_id: int) -> dict:
    """Units, active units and the members of active units in the whole campaign (one query)."""
    n, active, members = db.session.execute(
        select(func.count(), func.count().filter(Unit.active.is_(True)),
               func.coalesce(func.sum(Unit.members).filter(Unit.active.is_(True)), 0))
        .where(Unit.campaign_id == campaign_id)).one()
    return {"n": n, "active": active, "members": members}


def export_table(rows) -> tuple[list[str], list[list]]:
    """Header and cells of the units download: the import sheet's five columns, then counts and state.

    The first five columns are those the import reads, so a downloaded list can be edited and
    imported into another campaign.
    """
    header = [_("编码"), _("名称"), _("上级编码"), _("类型"), _("人数"), _("测评数"), _("状态")]
    cells = [[r.Unit.code, r.Unit.name, r.parent_code or "", KIND_WORDS[r.Unit.kind], r.Unit.members,
              r.evaluations, _("启用中") if r.Unit.active else _("已停用")] for r in rows]
    return header, cells
