"""Every code batch of a campaign as a list that scales: search, sort, committee filter, pages, export.

A campaign of 272 units and three rater groups issues 800 batches and more; the list finds one
by unit or group, and its download is the same rows. Counts only — the codes themselves exist
nowhere but on the slips printed when they were issued.
"""
from __future__ import annotations

from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.sql import Select

from models import BallotCode, CodeBatch, CodeStatus, Evaluation, Questionnaire, RaterGroup, Unit, User

from evaluation.listing import ListSpec

# Used / unused / void per batch, counted once for all batches (joined by batch id).
_COUNTS = (select(BallotCode.batch_id,
                  func.sum(case((BallotCode.status == CodeStatus.USED, 1), else_=0)).label("used"),
                  func.sum(case((BallotCode.status == CodeStatus.UNUSED, 1), else_=0)).label("unused"),
                  func.sum(case((BallotCode.status == CodeStatus.VOID, 1), else_=0)).label("void"))
           .group_by(BallotCode.batch_id).subquery("batch_counts"))

BATCH_LIST = ListSpec(
    sorts={"id": CodeBatch.id, "unit": Unit.code, "group": RaterGroup.name, "count": CodeBatch.count,
           "used": _COUNTS.c.used, "unused": _COUNTS.c.unused},
    searched=(Unit.code, Unit.name, RaterGroup.name, Questionnaire.title, User.username),
    default_sort="id", default_desc=True, tiebreak=(CodeBatch.id.desc(),))


def batch_query(campaign_id: int, unit_ids: Optional[set[int]] = None) -> Select:
    """The campaign's batches with unit, questionnaire, group, issuer and used / unused / void counts."""
    query = (select(CodeBatch.id, CodeBatch.evaluation_id, Unit.code.label("unit_code"), Unit.name.label("unit"),
                    Questionnaire.title, RaterGroup.name.label("group"), CodeBatch.count, CodeBatch.created_at,
                    User.username.label("created_by"), CodeBatch.voided_at,
                    func.coalesce(_COUNTS.c.used, 0).label("used"), func.coalesce(_COUNTS.c.unused, 0).label("unused"),
                    func.coalesce(_COUNTS.c.void, 0).label("void"))
             .join(Evaluation, Evaluation.id == CodeBatch.evaluation_id)
             .join(Unit, Unit.id == Evaluation.unit_id)
             .join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
             .join(RaterGroup, RaterGroup.id == CodeBatch.rater_group_id)
             .outerjoin(User, User.id == CodeBatch.created_by)
             .outerjoin(_COUNTS, _COUNTS.c.batch_id == CodeBatch.id)
             .where(Evaluation.campaign_id == campaign_id))
    if unit_ids is not None:
        query = query.where(Evaluation.unit_id.in_(unit_ids))
    return query


def batch_table(rows, localtime) -> tuple[list[str], list[list]]:
    """Header and cells of the batches download."""
    header = [_("批次"), _("单位编码"), _("单位"), _("测评表"), _("测评主体"), _("数量"), _("发放时间"), _("发放人"),
              _("已使用"), _("未使用"), _("已作废")]
    return header, [[r.id, r.unit_code, r.unit, r.title, r.group, r.count, localtime(r.created_at),
                     r.created_by or "", r.used, r.unused, r.void] for r in rows]
