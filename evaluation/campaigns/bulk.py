"""Evaluations in bulk: create one questionnaire's evaluations for many units, open, close, rules.

A campaign has hundreds of units (272 in the demo), so everything here works on
sets: one INSERT … RETURNING for the evaluations, one INSERT for their rater
groups, one UPDATE to open or close, all in one transaction with its audit
entry. Nothing is committed per row, and a failed request changes nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional, Sequence

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import (
    Evaluation, EvaluationStatus, Questionnaire, RaterGroup, Unit, UnitKind, evaluation_group,
)
from surveys import box
from surveys.catalog import latest

from evaluation.accounts import audit
from evaluation.accounts.audit import display_zone
from evaluation.accounts.permissions import subtree_ids
from evaluation.services import ServiceError


def local_tz() -> dt.tzinfo:
    """The wall-clock zone organisers type windows in: the app's display zone (config ``TIMEZONE``,
    default Asia/Shanghai), the same one the audit page uses."""
    return display_zone()


def to_utc(local: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """A naive local time from a form → an aware UTC datetime (None stays None)."""
    if local is None:
        return None
    return local.replace(tzinfo=local_tz()).astimezone(dt.timezone.utc)


def to_local(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """A stored time (UTC; naive on SQLite) → local wall-clock time for display."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(local_tz())


def questionnaire_choices() -> list[tuple[str, str]]:
    """``(key, title)`` of the latest version of every questionnaire key."""
    newest = select(Questionnaire.key, func.max(Questionnaire.version).label("v")).group_by(Questionnaire.key).subquery()
    rows = db.session.execute(
        select(Questionnaire.key, Questionnaire.title)
        .join(newest, (newest.c.key == Questionnaire.key) & (newest.c.v == Questionnaire.version))
        .order_by(Questionnaire.key))
    return [(key, title) for key, title in rows]


def committees(campaign_id: int, visible: Optional[set[int]] = None) -> list[Unit]:
    """The campaign's committees (党(工)委), optionally only those a liaison may see."""
    query = select(Unit).where(Unit.campaign_id == campaign_id, Unit.kind == UnitKind.COMMITTEE).order_by(Unit.code)
    return [u for u in db.session.scalars(query) if visible is None or u.id in visible]


def scope_unit_ids(campaign_id: int, committee_id: Optional[int] = None, active: bool = True) -> list[int]:
    """Active (or, with ``active=False``, deactivated) units of kind "unit" in the campaign, or below one committee."""
    query = select(Unit.id).where(Unit.campaign_id == campaign_id, Unit.kind == UnitKind.UNIT,
                                  Unit.active.is_(active)).order_by(Unit.code, Unit.id)
    if committee_id is not None:
        committee = db.session.get(Unit, committee_id)
        if committee is None or committee.campaign_id != campaign_id or committee.kind is not UnitKind.COMMITTEE:
            raise ServiceError(_("所选党(工)委不属于本活动"))
        query = query.where(Unit.id.in_(subtree_ids(committee_id)))
    return list(db.session.scalars(query))


@dataclass
class BulkSpec:
    """What an organiser asks for on the bulk-create form."""

    campaign_id: int
    questionnaire_key: str
    group_ids: Sequence[int]
    committee_id: Optional[int] = None       # None: all units of the campaign
    opens_at: Optional[dt.datetime] = None   # aware, UTC
    closes_at: Optional[dt.datetime] = None
    threshold: float = 0.60
    min_ballots: int = 8
    open_now: bool = False
    paper_double_entry: bool = False


@dataclass
class BulkResult:
    """How many evaluations were created, units skipped (already had one) and deactivated units left out."""

    created: int
    skipped: int
    evaluation_ids: list[int] = field(default_factory=list)
    inactive: int = 0


def _check_rules(threshold: Optional[float], min_ballots: Optional[int]) -> None:
    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise ServiceError(_("阈值须大于 0 且不超过 100%"))
    if min_ballots is not None and min_ballots < 1:
        raise ServiceError(_("最低有效票数至少为 1"))


def _campaign_groups(campaign_id: int, group_ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        raise ServiceError(_("请至少选择一个测评主体"))
    found = set(db.session.scalars(select(RaterGroup.id).where(RaterGroup.campaign_id == campaign_id,
                                                                RaterGroup.id.in_(wanted))))
    if found != set(wanted):
        raise ServiceError(_("所选测评主体不属于本活动"))
    return wanted


def existing_unit_ids(campaign_id: int, questionnaire_key: str) -> set[int]:
    """Units that already have an evaluation of this questionnaire (any version) in the campaign."""
    return set(db.session.scalars(
        select(Evaluation.unit_id).join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
        .where(Evaluation.campaign_id == campaign_id, Questionnaire.key == questionnaire_key)))


def plan_create(spec: BulkSpec) -> tuple[Questionnaire, list[int], list[int], list[int]]:
    """Check ``spec`` and say what creating it would do: questionnaire, group ids, units in scope, units to do.

    Refuses (ServiceError) exactly what :func:`create_evaluations` refuses, so the
    confirmation page can state the count before anything is written.
    """
    questionnaire = latest(spec.questionnaire_key)
    if questionnaire is None:
        raise ServiceError(_("测评表不存在"))
    _check_rules(spec.threshold, spec.min_ballots)
    if spec.opens_at and spec.closes_at and spec.closes_at <= spec.opens_at:
        raise ServiceError(_("结束时间须晚于开始时间"))
    group_ids = _campaign_groups(spec.campaign_id, spec.group_ids)
    units = scope_unit_ids(spec.campaign_id, spec.committee_id)
    if not units:
        raise ServiceError(_("所选范围内没有单位"))
    existing = existing_unit_ids(spec.campaign_id, spec.questionnaire_key)
    return questionnaire, group_ids, units, [u for u in units if u not in existing]


def create_evaluations(spec: BulkSpec) -> BulkResult:
    """Create the evaluations of ``spec`` in one transaction; units that already have one are skipped."""
    questionnaire, group_ids, units, todo = plan_create(spec)
    inactive = len(scope_unit_ids(spec.campaign_id, spec.committee_id, active=False))
    status = EvaluationStatus.OPEN if spec.open_now else EvaluationStatus.DRAFT
    try:
        ids = _insert(spec, questionnaire, todo, group_ids, status)
    except IntegrityError:
        # uq_evaluation_first_round: another organiser's bulk create committed some of these units
        # after we read ``existing``. Nothing of ours is kept; a retry skips the units now taken.
        db.session.rollback()
        raise ServiceError(_("其他组织者刚刚为部分单位建立了同一测评表的测评,本次未建立任何测评。"
                             "请重新提交:已有该测评的单位会被跳过。")) from None
    target = f"campaign:{spec.campaign_id}"
    audit.record("evaluations_create", target, questionnaire=questionnaire.key, version=questionnaire.version,
                 created=len(ids), skipped=len(units) - len(todo), inactive=inactive, committee_id=spec.committee_id,
                 group_ids=group_ids, threshold=spec.threshold, min_ballots=spec.min_ballots,
                 paper_double_entry=spec.paper_double_entry, opened=spec.open_now)
    if spec.open_now and ids:
        audit.record("evaluation_open", target, count=len(ids), evaluation_ids=ids)
    db.session.commit()
    return BulkResult(created=len(ids), skipped=len(units) - len(todo), evaluation_ids=ids, inactive=inactive)


def _insert(spec: BulkSpec, questionnaire: Questionnaire, todo: list[int], group_ids: list[int],
            status: EvaluationStatus) -> list[int]:
    """Insert the evaluations of ``todo`` and their rater groups (not committed); their ids."""
    ids: list[int] = []
    if todo:
        # One INSERT … RETURNING for all rows. The ids are not needed in order (every evaluation gets
        # the same groups), and asking for order would make SQLite fall back to one INSERT per row.
        ids = list(db.session.scalars(
            insert(Evaluation).returning(Evaluation.id),
            [{"campaign_id": spec.campaign_id, "unit_id": u, "questionnaire_id": questionnaire.id,
              "opens_at": spec.opens_at, "closes_at": spec.closes_at, "status": status,
              "threshold": spec.threshold, "min_ballots": spec.min_ballots,
              "paper_double_entry": spec.paper_double_entry} for u in todo]))
        db.session.execute(insert(evaluation_group),
                           [{"evaluation_id": e, "rater_group_id": g} for e in ids for g in group_ids])
        if spec.open_now:
            questionnaire.frozen = True
    return ids


def select_ids(campaign_id: int, ids: Sequence[int] = (), questionnaire_key: Optional[str] = None) -> list[int]:
    """The campaign's evaluation ids among ``ids``, or all of one questionnaire key when given."""
    query = select(Evaluation.id).where(Evaluation.campaign_id == campaign_id).order_by(Evaluation.id)
    if questionnaire_key:
        query = query.join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id) \
            .where(Questionnaire.key == questionnaire_key)
    else:
        query = query.where(Evaluation.id.in_(list(ids)))
    found = list(db.session.scalars(query))
    if not found:
        raise ServiceError(_("请先勾选测评"))
    return found


def changing_ids(campaign_id: int, ids: Sequence[int], status: EvaluationStatus) -> list[int]:
    """The evaluations among ``ids`` that opening or closing would change (not already in ``status``)."""
    return list(db.session.scalars(select(Evaluation.id).where(
        Evaluation.campaign_id == campaign_id, Evaluation.id.in_(list(ids)), Evaluation.status != status)
        .order_by(Evaluation.id)))


def set_status(campaign_id: int, ids: Sequence[int], status: EvaluationStatus) -> int:
    """Open or close these evaluations of the campaign; returns how many changed.

    Opening freezes the questionnaires involved (they can no longer be edited
    in place). Evaluations already in that status are left alone.
    """
    changing = changing_ids(campaign_id, ids, status)
    if not changing:
        return 0
    db.session.execute(update(Evaluation).where(Evaluation.id.in_(changing)).values(status=status)
                       .execution_options(synchronize_session=False))
    if status is EvaluationStatus.OPEN:
        used = select(Evaluation.questionnaire_id).where(Evaluation.id.in_(changing)).distinct()
        db.session.execute(update(Questionnaire).where(Questionnaire.id.in_(used)).values(frozen=True)
                           .execution_options(synchronize_session=False))
    action = "evaluation_open" if status is EvaluationStatus.OPEN else "evaluation_close"
    audit.record(action, f"campaign:{campaign_id}", count=len(changing), evaluation_ids=changing)
    db.session.commit()
    if status is EvaluationStatus.CLOSED:
        # Closed: count every sealed ballot and scrub the order they were counted in (surveys/box.py).
        box.close(changing)
    db.session.expire_all()
    return len(changing)


def rules_values(threshold: Optional[float], min_ballots: Optional[int],
                 paper_double_entry: Optional[bool]) -> dict:
    """The rule changes asked for (None: unchanged), checked; refused when none or out of range."""
    _check_rules(threshold, min_ballots)
    values = {name: value for name, value in (("threshold", threshold), ("min_ballots", min_ballots),
                                              ("paper_double_entry", paper_double_entry)) if value is not None}
    if not values:
        raise ServiceError(_("请填写要修改的阈值、最低票数或双人录入"))
    return values


def change_rules(campaign_id: int, ids: Sequence[int], threshold: Optional[float] = None,
                 min_ballots: Optional[int] = None, paper_double_entry: Optional[bool] = None) -> int:
    """Change threshold, minimum ballots and/or paper double entry of these evaluations (None: unchanged).

    The audit entry ("threshold_change") keeps each evaluation's values before the change.
    """
    values = rules_values(threshold, min_ballots, paper_double_entry)
    rows = db.session.execute(select(Evaluation.id, Evaluation.threshold, Evaluation.min_ballots,
                                     Evaluation.paper_double_entry)
                              .where(Evaluation.campaign_id == campaign_id, Evaluation.id.in_(list(ids)))
                              .order_by(Evaluation.id)).all()
    if not rows:
        raise ServiceError(_("请先勾选测评"))
    db.session.execute(update(Evaluation).where(Evaluation.id.in_([r.id for r in rows])).values(**values)
                       .execution_options(synchronize_session=False))
    audit.record("threshold_change", f"campaign:{campaign_id}", count=len(rows), new=values,
                 before={r.id: [r.threshold, r.min_ballots, r.paper_double_entry] for r in rows})
    db.session.commit()
    db.session.expire_all()
    return len(rows)
