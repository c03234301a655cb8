"""回头看: the look-back checklists a unit fills in before moving to the next stage.

三对比 (three comparisons) closes stage one, 三评议 (three reviews) closes stage two; the
questions are the speech's own words. Each answer is 是 / 基本 / 否 with a note; the
checklist counts as completed when every question is answered.
"""
from __future__ import annotations

import json
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from extensions import db
from models import LookBack, Unit

from evaluation.accounts.audit import record
from evaluation.days import local_today
from evaluation.services import N_, ServiceError, refusal
from evaluation.text_checks import refuse_control

LOOKBACKS = {
    "three_comparisons": {
        "title": _l("三对比"), "after": 1,
        "questions": (
            _l("对比中央和省、市委的部署安排,看学习调研是否做到形式活、内容实、效果好,党员是否全员参加学习培训"),
            _l("对比解放思想学习讨论活动,看思想认识是否进一步深化,调研成果是否进一步转化"),
            _l("对比本单位科学发展的要求,看党员干部是否形成共识,边学边做是否落到实处"),
        ),
    },
    "three_reviews": {
        "title": _l("三评议"), "after": 2,
        "questions": (
            _l("领导班子专题民主生活会结束后,采用民主测评的办法,对民主生活会质量进行评议"),
            _l("结合组织群众评议领导班子分析报告,对第二阶段的工作进行评议"),
            _l("通过召开座谈会、个别访谈、问卷调查等方式,对是否找准突出问题、是否理清发展思路进行评议"),
        ),
    },
}
ANSWERS = {"yes": _l("是"), "partly": _l("基本"), "no": _l("否")}
NOTE_MAX = 1000


def get(unit_id: int, kind: str) -> Optional[LookBack]:
    """The unit's checklist of this kind, or None before it is first saved."""
    return db.session.scalar(select(LookBack).where(LookBack.unit_id == unit_id, LookBack.kind == kind))


def answers_of(row: Optional[LookBack], kind: str) -> list[dict]:
    """One dict per question (``question``, ``answer`` key or "", ``note``), stored or blank."""
    stored = []
    if row is not None and row.answers:
        try:
            stored = json.loads(row.answers)
        except ValueError:
            stored = []
    out = []
    for n, question in enumerate(LOOKBACKS[kind]["questions"]):
        item = stored[n] if n < len(stored) and isinstance(stored[n], dict) else {}
        answer = item.get("answer") if item.get("answer") in ANSWERS else ""
        out.append({"question": question, "answer": answer, "note": str(item.get("note") or "")})
    return out


def save(unit: Unit, kind: str, answers: list[tuple[str, str]], user) -> LookBack:
    """Store the (answer, note) pairs; completed today when every question is answered."""
    if kind not in LOOKBACKS:
        raise ServiceError(refusal(N_("未知回头看:%(kind)s"), kind=kind))
    questions = LOOKBACKS[kind]["questions"]
    if len(answers) != len(questions):
        raise ServiceError(refusal(N_("回答数目不对")))
    clean = []
    refuse_control(*(note for _, note in answers))
    for answer, note in answers:
        if answer and answer not in ANSWERS:
            raise ServiceError(refusal(N_("未知回答:%(answer)s"), answer=answer))
        clean.append({"answer": answer or "", "note": (note or "").strip()[:NOTE_MAX]})
    row = get(unit.id, kind)
    if row is None:
        row = LookBack(campaign_id=unit.campaign_id, unit_id=unit.id, kind=kind)
        db.session.add(row)
    row.answers = json.dumps(clean, ensure_ascii=False)
    complete = all(item["answer"] for item in clean)
    if not complete:
        row.completed_on = None
    elif row.completed_on is None:
        row.completed_on = local_today()
    record("lookback_save", f"unit:{unit.id}", user, kind=kind, completed=complete)
    db.session.commit()
    return row
