"""The units page as a list that scales: search by code or name, sort, filter, pages, export.

726 units (the demo campaign with its branches) on one page made it 41,000 px tall; the list
now shows :data:`evaluation.listing.PER_PAGE` rows a page, found by the search box, and its
download (in the import sheet's own columns) holds exactly the filtered rows.

Its default order is the tree's (each unit under its parent, depth-first, siblings by code),
with each unit's depth, its members including the units below it (含下级, :func:`headcount`) and
how many units sit below it. The tree is walked in memory from one narrow query (:func:`tree_index`); in
that order the filtered ids are sorted there and one page of full rows is loaded, while any
other order is the database's, through :func:`evaluation.listing.page_of`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from extensions import db
from models import Evaluation, Unit, UnitKind

from evaluation.listing import ListArgs, ListSpec, Page, all_rows, page_of, searched

_PARENT = aliased(Unit, name="parent_unit")
# Evaluations per unit, joined by unit id (a unit belongs to one campaign, so no campaign filter is needed).
_EVALUATIONS = (select(Evaluation.unit_id, func.count().label("n")).group_by(Evaluation.unit_id)
                .subquery("unit_evaluations"))
_EVALUATION_COUNT = func.coalesce(_EVALUATIONS.c.n, 0)

#: The default order's key; its column (the code) only orders when the tree order is not used.
TREE = "tree"
UNIT_LIST = ListSpec(
    sorts={TREE: Unit.code, "code": Unit.code, "name": Unit.name, "parent": _PARENT.name, "members": Unit.members,
           "evaluations": _EVALUATION_COUNT, "active": Unit.active},
    searched=(Unit.code, Unit.name, _PARENT.name),
    default_sort=TREE, tiebreak=(Unit.id,))
#: Filter values of ``?kind=`` and ``?state=`` (anything else means "all").
KINDS = {kind.value: kind for kind in UnitKind}
STATES = ("active", "inactive")
#: Kind words the import reads back (evaluation/campaigns/importing.py KIND_WORDS), in any interface language.
KIND_WORDS = {UnitKind.COMMITTEE: "党委", UnitKind.UNIT: "单位", UnitKind.BRANCH: "支部"}


@dataclass(frozen=True)
class TreeSpot:
    """Where a unit sits in its campaign's tree: its place in tree order, depth and what hangs below it."""

    order: int
    depth: int
    below: int  # units below it, at any depth
    members: int  # its members including the units below it (含下级, :func:`headcount`)


def headcount(own: Optional[int], below: list[int]) -> int:
    """A unit's members including the units below it: its own figure, or theirs added up when that is more.

    Sheets give 人数 one of two ways, and both must add up right: each level its own total
    (a committee's count already covers its units', as in the demo: 7,314 members at every
    level) or members only where they belong (branches, the levels above left 0). Adding a
    unit's own figure to its units' would count the first kind two or three times over.
    """
    return max(own or 0, sum(below))


def tree_index(campaign_id: int) -> dict[int, TreeSpot]:
    """Each unit of the campaign by id, with its :class:`TreeSpot` (one query of four columns).

    Depth-first from the top units, siblings by code, as
    :func:`evaluation.campaigns.units.tree_rows`; a unit whose parent is missing counts as a top unit.
    """
    rows = db.session.execute(select(Unit.id, Unit.parent_id, Unit.code, Unit.members)
                              .where(Unit.campaign_id == campaign_id).order_by(Unit.code, Unit.id)).all()
    known = {row.id for row in rows}
    children: dict[Optional[int], list] = {}
    for row in rows:
        children.setdefault(row.parent_id if row.parent_id in known else None, []).append(row)
    walk: list[tuple] = []  # (row, depth) in tree order
    stack = [(row, 0) for row in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        walk.append((row, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(row.id, [])))
    below: dict[int, int] = {}
    members: dict[int, int] = {}
    for row, _depth in reversed(walk):  # children come after their parent: add them up from the end
        kids = children.get(row.id, [])
        below[row.id] = sum(1 + below[kid.id] for kid in kids)
        members[row.id] = headcount(row.members, [members[kid.id] for kid in kids])
    return {row.id: TreeSpot(order, depth, below[row.id], members[row.id])
            for order, (row, depth) in enumerate(walk)}


def unit_page(campaign_id: int, filters: dict, args: ListArgs) -> tuple[Page, dict[int, TreeSpot]]:
    """One page of the units list, and the campaign's tree index for its depth and counts columns."""
    tree = tree_index(campaign_id)
    query = unit_query(campaign_id, **filters)
    if args.sort != TREE:
        return page_of(UNIT_LIST, query, args), tree
    ids = _tree_ordered(db.session.scalars(searched(UNIT_LIST, query.with_only_columns(Unit.id), args)), tree,
                        args.desc)
    pages = max(1, math.ceil(len(ids) / args.per_page))
    args = replace(args, page=min(args.page, pages))
    shown = ids[(args.page - 1) * args.per_page:args.page * args.per_page]
    rows = db.session.execute(query.where(Unit.id.in_(shown))).all() if shown else []
    rows.sort(key=lambda row: tree[row.Unit.id].order, reverse=args.desc)
    return Page(rows, len(ids), args, UNIT_LIST.default_sort, UNIT_LIST.default_desc), tree


def unit_rows(campaign_id: int, filters: dict, args: ListArgs) -> list:
    """Every row of the filtered list in its page's order (tree order by default): what the export writes."""
    rows = all_rows(UNIT_LIST, unit_query(campaign_id, **filters), args)
    if args.sort == TREE:
        tree = tree_index(campaign_id)
        rows.sort(key=lambda row: tree[row.Unit.id].order, reverse=args.desc)
    return rows


def _tree_ordered(ids, tree: dict[int, TreeSpot], desc: bool) -> list[int]:
    """``ids`` in tree order (reversed for ``desc``)."""
    return sorted(ids, key=lambda unit_id: tree[unit_id].order, reverse=desc)


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
    """Units, active units and the members of the active units of the whole campaign.

    Members are the active top units' :func:`headcount` over the active units below
    them, so a total given at every level is counted once (one query of four columns).
    """
    rows = db.session.execute(select(Unit.id, Unit.parent_id, Unit.members, Unit.active)
                              .where(Unit.campaign_id == campaign_id)).all()
    active = {row.id: row for row in rows if row.active}
    children: dict[Optional[int], list] = {}
    for row in active.values():
        children.setdefault(row.parent_id if row.parent_id in active else None, []).append(row)

    def members(row) -> int:
        return headcount(row.members, [members(kid) for kid in children.get(row.id, [])])

    # (the depth is a campaign's three or four levels: recursion is safe here)
    return {"n": len(rows), "active": len(active), "members": sum(members(row) for row in children.get(None, []))}


def export_table(rows) -> tuple[list[str], list[list]]:
    """Header and cells of the units download: the import sheet's five columns, then counts and state.

    The first five columns are those the import reads, so a downloaded list can be edited and
    imported into another campaign.
    """
    header = [_("编码"), _("名称"), _("上级编码"), _("类型"), _("人数"), _("测评数"), _("状态")]
    cells = [[r.Unit.code, r.Unit.name, r.parent_code or "", KIND_WORDS[r.Unit.kind], r.Unit.members,
              r.evaluations, _("启用中") if r.Unit.active else _("已停用")] for r in rows]
    return header, cells
