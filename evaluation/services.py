"""Organiser-side operations as plain functions: evaluations, codes, users.

Views and CLI commands call these; they raise :class:`ServiceError` with a
message (in the page's language, or Chinese and English for the CLI, see
:func:`refusal`) when the request cannot be honoured, and never leave a
half-made change behind.
"""
from __future__ import annotations

from typing import Optional, Sequence

from flask import current_app, has_app_context, has_request_context
from flask_babel import force_locale, gettext
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import (
    BallotCode, Campaign, CodeBatch, CodeStatus, Evaluation, EvaluationStatus, Questionnaire,
    RaterGroup, Role, Unit, User, bump_data_version, utcnow,
)
from surveys.catalog import latest
from surveys.codes import generate_code, hash_code

MAX_CODES_PER_BATCH = 5000


class ServiceError(ValueError):
    """A request an organiser made that cannot be carried out; the message says why."""


def N_(text: str) -> str:
    """Mark a message for extraction; :func:`refusal` translates it when raised."""
    return text


def refusal(message: str, **values) -> str:
    """A refusal in the reader's language: the chosen one on a page, Chinese then English for the CLI."""
    if has_request_context() or not has_app_context():
        return gettext(message, **values)
    chinese = message % values if values else message
    with force_locale("en"):
        english = gettext(message, **values)
    return chinese if english == chinese else f"{chinese} / {english}"


def create_evaluation(unit_id: int, questionnaire_key: str, group_names: Optional[Sequence[str]] = None,
                      threshold: float = 0.60, min_ballots: int = 8, open_now: bool = False,
                      previous_id: Optional[int] = None) -> Evaluation:
    """Put the latest version of a questionnaire to one unit for some of its campaign's rater groups.

    ``previous_id`` makes it the next round of that evaluation. Refused for a
    deactivated unit, and for a first round the unit already has.
    """
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise ServiceError(refusal(N_("单位 %(id)s 不存在"), id=unit_id))
    if not unit.active:
        raise ServiceError(refusal(N_("单位 %(name)s 已停用,不能建立测评"), name=unit.name))
    questionnaire = latest(questionnaire_key)
    if questionnaire is None:
        raise ServiceError(refusal(N_("测评表 %(key)s 不存在"), key=questionnaire_key))
    if not 0.0 < threshold <= 1.0:
        raise ServiceError(refusal(N_("阈值须在 0 到 1 之间")))
    if min_ballots < 1:
        raise ServiceError(refusal(N_("最低票数至少为 1")))
    groups = list(unit.campaign.rater_groups)
    if group_names:
        by_name = {g.name: g for g in groups}
        missing = [name for name in group_names if name not in by_name]
        if missing:
            raise ServiceError(refusal(N_("测评主体不存在:%(names)s"), names=", ".join(missing)))
        groups = [by_name[name] for name in dict.fromkeys(group_names)]
    if not groups:
        raise ServiceError(refusal(N_("本活动尚无测评主体")))
    # One first round per unit and questionnaire (the unique index uq_evaluation_first_round):
    # checked here for a clear message; the index settles a race between two organisers.
    # Later rounds are guarded by their own decisions (MakeUp, AnalysisReport).
    duplicate = refusal(N_("单位 %(name)s 已有此测评表的测评"), name=unit.name)
    if previous_id is None and db.session.scalar(select(Evaluation.id).where(
            Evaluation.unit_id == unit.id, Evaluation.questionnaire_id == questionnaire.id,
            Evaluation.previous_id.is_(None)).limit(1)) is not None:
        raise ServiceError(duplicate)
    evaluation = Evaluation(campaign=unit.campaign, unit=unit, questionnaire=questionnaire, previous_id=previous_id,
                            rater_groups=groups, threshold=threshold, min_ballots=min_ballots)
    db.session.add(evaluation)
    if open_now:
        open_evaluation(evaluation)
    try:
        db.session.flush()
        bump_data_version(db.session, [evaluation.id])  # a new row on the campaign's overview
        db.session.commit()
    except IntegrityError:
        # uq_evaluation_first_round: someone created it between our check and now.
        db.session.rollback()
        raise ServiceError(duplicate) from None
    return evaluation


def open_evaluation(evaluation: Evaluation) -> None:
    """Open an evaluation; its questionnaire is frozen from then on."""
    evaluation.status = EvaluationStatus.OPEN
    evaluation.questionnaire.frozen = True


def issue_codes(evaluation_id: int, group_name: str, count: int, user_id: Optional[int] = None) -> list[str]:
    """Create ``count`` codes for one evaluation and rater group; return the plain codes.

    The plain codes exist only in the return value: the database receives
    their keyed hashes. Collisions (astronomically unlikely) are retried.
    """
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise ServiceError(refusal(N_("测评 %(id)s 不存在"), id=evaluation_id))
    group = next((g for g in evaluation.rater_groups if g.name == group_name), None)
    if group is None:
        names = ", ".join(g.name for g in evaluation.rater_groups)
        raise ServiceError(refusal(N_("该测评没有测评主体 %(group)s(它有:%(names)s)"), group=group_name, names=names))
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise ServiceError(refusal(N_("每批数量须在 1 到 %(max)s 之间"), max=MAX_CODES_PER_BATCH))
    key = current_app.config["CODE_KEY"]
    codes: dict[str, str] = {}
    while len(codes) < count:
        code = generate_code()
        codes[hash_code(code, key)] = code
    batch = CodeBatch(evaluation_id=evaluation.id, rater_group_id=group.id, count=count, created_by=user_id)
    db.session.add(batch)
    db.session.flush()
    db.session.execute(insert(BallotCode), [
        {"code_hash": h, "evaluation_id": evaluation.id, "rater_group_id": group.id,
         "batch_id": batch.id, "status": CodeStatus.UNUSED}
        for h in codes
    ])
    bump_data_version(db.session, [evaluation.id])  # codes issued: the overview's turnout
    db.session.commit()
    return list(codes.values())


def void_batch(batch_id: int) -> int:
    """Void the unused codes of a batch; used codes keep their ballots. Returns codes voided."""
    batch = db.session.get(CodeBatch, batch_id)
    if batch is None:
        raise ServiceError(refusal(N_("批次 %(id)s 不存在"), id=batch_id))
    voided = db.session.execute(
        update(BallotCode).where(BallotCode.batch_id == batch_id, BallotCode.status == CodeStatus.UNUSED)
        .values(status=CodeStatus.VOID).execution_options(synchronize_session=False)
    ).rowcount
    batch.voided_at = utcnow()
    bump_data_version(db.session, [batch.evaluation_id])  # codes issued: the overview's turnout
    db.session.commit()
    return voided


def evaluation_rows(campaign_id: Optional[int] = None) -> list[dict]:
    """One summary row per evaluation: ids, unit, questionnaire, status and counts.

    Counts come from grouped queries, not from loading ballots.
    """
    # Ballots submitted = codes used: live while ballots wait sealed in the box, before they are counted.
    ballots = (select(BallotCode.evaluation_id, func.count().label("n")).where(BallotCode.status == CodeStatus.USED)
               .group_by(BallotCode.evaluation_id).subquery())
    issued = (select(BallotCode.evaluation_id, func.count().label("n"))
              .where(BallotCode.status != CodeStatus.VOID).group_by(BallotCode.evaluation_id).subquery())
    query = (
        select(Evaluation.id, Unit.name, Questionnaire.key, Questionnaire.title, Evaluation.status,
               func.coalesce(ballots.c.n, 0), func.coalesce(issued.c.n, 0), Evaluation.campaign_id,
               Evaluation.unit_id)
        .join(Unit, Unit.id == Evaluation.unit_id)
        .join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
        .outerjoin(ballots, ballots.c.evaluation_id == Evaluation.id)
        .outerjoin(issued, issued.c.evaluation_id == Evaluation.id)
        .order_by(Evaluation.id)
    )
    if campaign_id is not None:
        query = query.where(Evaluation.campaign_id == campaign_id)
    keys = ("id", "unit", "questionnaire", "title", "status", "ballots", "codes", "campaign_id", "unit_id")
    return [dict(zip(keys, row)) for row in db.session.execute(query)]


def create_user(username: str, password: str, role: str = "organiser", unit_id: Optional[int] = None) -> User:
    """Create an organiser-side account with a hashed password."""
    username = (username or "").strip()
    if not username or len(username) > 80:
        raise ServiceError(refusal(N_("用户名须为 1 到 %(max)s 个字符"), max=80))
    try:
        role_value = Role(role)
    except ValueError:
        raise ServiceError(refusal(N_("未知角色 %(role)s(应为 organiser、liaison 或 viewer)"), role=role)) from None
    if len(password) < 8:
        raise ServiceError(refusal(N_("密码至少 %(min)s 位"), min=8))
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ServiceError(refusal(N_("用户 %(name)s 已存在"), name=username))
    if role_value is Role.LIAISON and (unit_id is None or db.session.get(Unit, unit_id) is None):
        raise ServiceError(refusal(N_("联络员须指定存在的单位")))
    user = User(username=username, role=role_value, unit_id=unit_id)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def campaigns() -> list[Campaign]:
    """All campaigns, newest first."""
    return list(db.session.scalars(select(Campaign).order_by(Campaign.id.desc())))


def get_or_create_groups(campaign: Campaign, names: Sequence[str]) -> list[RaterGroup]:
    """The campaign's rater groups with these names, created when missing."""
    existing = {g.name: g for g in campaign.rater_groups}
    result = []
    for name in names:
        group = existing.get(name)
        if group is None:
            group = RaterGroup(campaign=campaign, name=name)
            db.session.add(group)
        result.append(group)
    return result
