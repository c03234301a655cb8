"""Turnout as lists that scale: per unit × rater group, and the worklist of units lowest first.

The turnout page counts codes used / issued (voided codes not counted) per evaluation and rater
group; the worklist (:data:`WORKLIST`) ranks whole evaluations by that rate, lowest first, so a
liaison or organiser chasing turnout starts at the top. Both take the committee filter and the
reader's scope, and their downloads hold the same rows as their pages.
"""
from __future__ import annotations

from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.sql import Select

from extensions import db
from models import BallotCode, CodeStatus, Evaluation, Questionnaire, RaterGroup, Unit

from evaluation.campaigns.evaluation_list import EVALUATION_LIST
from evaluation.listing import ListSpec

_USED = func.sum(case((BallotCode.status == CodeStatus.USED, 1), else_=0))
_ISSUED = func.sum(case((BallotCode.status != CodeStatus.VOID, 1), else_=0))
_RATE = cast(_USED, Float) / func.nullif(_ISSUED, 0)

TURNOUT_LIST = ListSpec(
    sorts={"unit": Unit.code, "title": Questionnaire.title, "group": RaterGroup.name, "issued": _ISSUED,
           "used": _USED, "rate": _RATE},
    searched=(Unit.code, Unit.name, RaterGroup.name),
    default_sort="unit", tiebreak=(Evaluation.id, RaterGroup.id))
#: The worklist: the evaluations list's columns, lowest turnout first (no code issued: last, no rate).
WORKLIST = ListSpec(sorts=EVALUATION_LIST.sorts, searched=EVALUATION_LIST.searched, default_sort="rate",
                    tiebreak=EVALUATION_LIST.tiebreak)


def turnout_query(campaign_id: int, key: Optional[str] = None, unit_ids: Optional[set[int]] = None) -> Select:
    """Issued, used and rate per evaluation × rater group of the campaign, from one grouped query."""
    query = (select(Evaluation.id.label("evaluation_id"), Unit.code.label("unit_code"), Unit.name.label("unit"),
                    Questionnaire.title, RaterGroup.name.label("group"), _ISSUED.label("issued"),
                    _USED.label("used"), _RATE.label("rate"))
             .select_from(BallotCode)
             .join(Evaluation, Evaluation.id == BallotCode.evaluation_id)
             .join(Unit, Unit.id == Evaluation.unit_id)
             .join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
             .join(RaterGroup, RaterGroup.id == BallotCode.rater_group_id)
             .where(Evaluation.campaign_id == campaign_id)
             .group_by(Evaluation.id, Unit.code, Unit.name, Questionnaire.title, RaterGroup.id, RaterGroup.name))
    if key:
        query = query.where(Questionnaire.key == key)
    if unit_ids is not None:
        query = query.where(Evaluation.unit_id.in_(unit_ids))
    return query


def turnout_totals(query: Select) -> dict:
    """Codes issued and used over every row of ``query`` (the filtered list, not just its page)."""
    rows = query.order_by(None).subquery()
    issued, used = db.session.execute(select(func.coalesce(func.sum(rows.c.issued), 0),
                                             func.coalesce(func.sum(rows.c.used), 0))).one()
    return {"issued": int(issued), "used": int(used)}


def turnout_table(rows) -> tuple[list[str], list[list]]:
    """Header and cells of the turnout download."""
    header = [_("单位编码"), _("单位"), _("测评表"), _("测评主体"), _("已发放"), _("已使用"), _("参与率")]
    cells = [[r.unit_code, r.unit, r.title, r.group, r.issued, r.used, None if r.rate is None else round(r.rate, 4)]
             for r in rows]
    return header, cells


def worklist_table(rows) -> tuple[list[str], list[list]]:
    """Header and cells of the worklist download: lowest turnout first, with the ballots still missing."""
    header = [_("单位编码"), _("单位"), _("测评表"), _("已发放"), _("已使用"), _("未使用"), _("参与率")]
    cells = [[r.unit_code, r.unit, r.title, r.codes, r.ballots, r.codes - r.ballots,
              None if r.rate is None else round(r.rate, 4)] for r in rows]
    return header, cells
