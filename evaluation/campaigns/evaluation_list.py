"""The campaign's evaluations as a list that scales: search, sort, status and committee filters, pages.

Codes issued and ballots received come from grouped subqueries (never from loading ballots);
a liaison's list and its download hold only the evaluations of their own units. The committee
filter (:func:`committee_filter`) is shared with the turnout lists.
"""
from __future__ import annotations

from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import Float, cast, func, select
from sqlalchemy.sql import Select

from extensions import db
from ids import db_id
from models import BallotCode, CodeStatus, Evaluation, EvaluationStatus, Questionnaire, RaterGroup, Unit, evaluation_group

from evaluation.accounts.permissions import subtree_ids
from evaluation.campaigns.bulk import committees
from evaluation.listing import ListSpec

# Ballots submitted = codes used: live while ballots wait sealed in the box, before they are counted.
_BALLOTS = (select(BallotCode.evaluation_id, func.count().label("n")).where(BallotCode.status == CodeStatus.USED)
            .group_by(BallotCode.evaluation_id).subquery("evaluation_ballots"))
_ISSUED = (select(BallotCode.evaluation_id, func.count().label("n")).where(BallotCode.status != CodeStatus.VOID)
           .group_by(BallotCode.evaluation_id).subquery("evaluation_issued"))
_N_BALLOTS = func.coalesce(_BALLOTS.c.n, 0)
_N_CODES = func.coalesce(_ISSUED.c.n, 0)
# NULL when no code is issued: such a row has no rate and sorts last either way.
_RATE = cast(_N_BALLOTS, Float) / func.nullif(_N_CODES, 0)

EVALUATION_LIST = ListSpec(
    sorts={"id": Evaluation.id, "unit": Unit.code, "title": Questionnaire.title, "status": Evaluation.status,
           "codes": _N_CODES, "ballots": _N_BALLOTS, "rate": _RATE},
    searched=(Unit.code, Unit.name, Questionnaire.title),
    default_sort="unit", tiebreak=(Evaluation.id,))
STATUSES = {status.value: status for status in EvaluationStatus}
#: The management table (tick, open, close, rules): by questionnaire then unit, as it always was.
MANAGE_LIST = ListSpec(
    sorts={"unit": Unit.code, "title": Questionnaire.title, "status": Evaluation.status,
           "threshold": Evaluation.threshold, "min_ballots": Evaluation.min_ballots, "opens": Evaluation.opens_at},
    searched=(Unit.code, Unit.name, Questionnaire.title), default_sort="unit", tiebreak=(Evaluation.id,))


def committee_filter(campaign_id: int, raw: Optional[str], visible: Optional[set[int]]):
    """(committees the reader may pick, the chosen committee id or None, unit ids to keep or None for all).

    A committee outside the reader's list (another campaign's, or not theirs) counts as no choice,
    so a liaison can never widen their view through the URL.
    """
    choices = committees(campaign_id, visible)
    try:
        chosen = db_id(raw) if raw else None
    except ValueError:  # "abc", "-1", past the id column
        chosen = None
    chosen = chosen if chosen in {c.id for c in choices} else None
    units = subtree_ids(chosen) if chosen is not None else None
    if visible is not None:
        units = visible if units is None else units & visible
    return choices, chosen, units


def evaluation_query(campaign_id: int, unit_ids: Optional[set[int]] = None, status: Optional[str] = None,
                     key: Optional[str] = None) -> Select:
    """One row per evaluation of the campaign (unit, questionnaire, status, codes, ballots, rate)."""
    query = (select(Evaluation.id, Evaluation.unit_id, Unit.code.label("unit_code"), Unit.name.label("unit"),
                    Questionnaire.key.label("questionnaire"), Questionnaire.title, Evaluation.status,
                    _N_BALLOTS.label("ballots"), _N_CODES.label("codes"), _RATE.label("rate"))
             .join(Unit, Unit.id == Evaluation.unit_id)
             .join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
             .outerjoin(_BALLOTS, _BALLOTS.c.evaluation_id == Evaluation.id)
             .outerjoin(_ISSUED, _ISSUED.c.evaluation_id == Evaluation.id)
             .where(Evaluation.campaign_id == campaign_id))
    if unit_ids is not None:
        query = query.where(Evaluation.unit_id.in_(unit_ids))
    if status in STATUSES:
        query = query.where(Evaluation.status == STATUSES[status])
    if key:
        query = query.where(Questionnaire.key == key)
    return query


def manage_query(campaign_id: int, questionnaire_key: Optional[str] = None,
                 unit_ids: Optional[set[int]] = None) -> Select:
    """One row per evaluation for the management table: unit, questionnaire, status, window, rules."""
    query = (select(Evaluation.id, Unit.code.label("unit_code"), Unit.name.label("unit"), Questionnaire.key,
                    Questionnaire.title, Questionnaire.version, Evaluation.status, Evaluation.opens_at,
                    Evaluation.closes_at, Evaluation.threshold, Evaluation.min_ballots, Evaluation.paper_double_entry)
             .join(Unit, Unit.id == Evaluation.unit_id)
             .join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
             .where(Evaluation.campaign_id == campaign_id))
    if questionnaire_key:
        query = query.where(Questionnaire.key == questionnaire_key)
    if unit_ids is not None:
        query = query.where(Evaluation.unit_id.in_(unit_ids))
    return query


def group_names(evaluation_ids: list[int]) -> dict[int, list[str]]:
    """The rater groups of each evaluation on a page, in one query."""
    names: dict[int, list[str]] = {}
    for evaluation_id, name in db.session.execute(
            select(evaluation_group.c.evaluation_id, RaterGroup.name)
            .join(RaterGroup, RaterGroup.id == evaluation_group.c.rater_group_id)
            .where(evaluation_group.c.evaluation_id.in_(evaluation_ids)).order_by(RaterGroup.id)):
        names.setdefault(evaluation_id, []).append(name)
    return names


def evaluation_totals(query: Select) -> dict:
    """Evaluations, codes issued and ballots received over every row of ``query`` (one query)."""
    rows = query.order_by(None).subquery()
    n, codes, ballots = db.session.execute(
        select(func.count(), func.coalesce(func.sum(rows.c.codes), 0), func.coalesce(func.sum(rows.c.ballots), 0))
        .select_from(rows)).one()
    return {"n": n, "codes": codes, "ballots": ballots}


def export_table(rows, status_labels) -> tuple[list[str], list[list]]:
    """Header and cells of the evaluations download (the rate as a fraction, empty without codes)."""
    header = ["ID", _("单位编码"), _("单位"), _("测评表"), _("状态"), _("测评码"), _("测评票"), _("参与率")]
    cells = [[r.id, r.unit_code, r.unit, r.title, str(status_labels[r.status.value]), r.codes, r.ballots,
              None if r.rate is None else round(r.rate, 4)] for r in rows]
    return header, cells
