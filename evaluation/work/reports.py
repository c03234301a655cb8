"""领导班子分析检查报告: report rounds, their review evaluations and the verdict (四不通过).

Each round of a unit's analysis report gets its own review evaluation (questionnaire
``report_review``), created through :func:`evaluation.services.create_evaluation`; raters
read the report text on the ballot page. After the ratings the organiser records the
verdict against the four conditions — a report that fails any of them is not passed
(四不通过) and is *returned*; the unit then submits a revised text, which starts the
next round with a new review evaluation (linked to the previous one by ``previous_id``
so the unit page shows the rounds side by side). A passed report ends the rounds.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import analysis
from extensions import db
from models import AnalysisReport, Evaluation, EvaluationStatus, Unit, utcnow

from evaluation.accounts.audit import record
from evaluation.questionnaires.checks import REVIEW_KEY
from evaluation.results.frames import load_frames
from evaluation.services import N_, ServiceError, create_evaluation, refusal
from evaluation.text_checks import refuse_control

#: Longest report text accepted, in characters.
TEXT_MAX = 20000
VERDICTS = {"pending": _l("待评定"), "passed": _l("通过"), "returned": _l("退回修改")}


@dataclass(frozen=True)
class Condition:
    """One of the four conditions, and the words that find its items in the review questionnaire."""

    key: str
    label: str  # translated when shown
    keywords: tuple[str, ...]


#: 四不通过: 征求意见范围不广、查找突出问题不准、科学发展思路不清、科学发展举措不实的不通过.
CONDITIONS = (
    Condition("scope", _l("征求意见范围广"), ("征求意见",)),
    Condition("problems", _l("查找突出问题准"), ("突出问题",)),
    Condition("thinking", _l("科学发展思路清"), ("思路",)),
    Condition("measures", _l("科学发展举措实"), ("措施", "举措")),
)


def rounds(unit_id: int) -> list[AnalysisReport]:
    """Every round of a unit's report, first round first."""
    return list(db.session.scalars(select(AnalysisReport).where(AnalysisReport.unit_id == unit_id)
                                   .order_by(AnalysisReport.round)))


def latest(unit_id: int) -> Optional[AnalysisReport]:
    """The unit's newest round, or None."""
    return db.session.scalar(select(AnalysisReport).where(AnalysisReport.unit_id == unit_id)
                             .order_by(AnalysisReport.round.desc()).limit(1))


def for_evaluation(evaluation_id: int) -> Optional[AnalysisReport]:
    """The report round a review evaluation is about (shown to raters on the ballot page)."""
    return db.session.scalar(select(AnalysisReport).where(AnalysisReport.evaluation_id == evaluation_id))


def submit(unit_id: int, text: str, user, open_now: bool = True) -> AnalysisReport:
    """Attach a report text to a new review evaluation: round 1, or the next round after a return.

    Refused while the newest round awaits its verdict, and once a round has passed.
    """
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise ServiceError(refusal(N_("单位 %(id)s 不存在"), id=unit_id))
    text = (text or "").strip()
    refuse_control(text)
    if not text:
        raise ServiceError(refusal(N_("请填写报告内容")))
    if len(text) > TEXT_MAX:
        raise ServiceError(refusal(N_("报告最多 %(n)s 字"), n=TEXT_MAX))
    previous = latest(unit_id)
    if previous is not None and previous.verdict == "pending":
        raise ServiceError(refusal(N_("第 %(round)s 轮尚未评定"), round=previous.round))
    if previous is not None and previous.verdict == "passed":
        raise ServiceError(refusal(N_("该单位的分析检查报告已通过")))
    # Linked at creation: a later round is not a second first round (uq_evaluation_first_round).
    evaluation = create_evaluation(unit_id, REVIEW_KEY, open_now=open_now,
                                   previous_id=previous.evaluation_id if previous else None)  # commits it
    number = previous.round + 1 if previous else 1
    report = AnalysisReport(campaign_id=unit.campaign_id, unit_id=unit_id, round=number, text=text,
                            evaluation_id=evaluation.id, verdict="pending")
    db.session.add(report)
    record("report_submit", f"unit:{unit_id}", user, round=number, evaluation_id=evaluation.id)
    try:
        db.session.commit()
    except IntegrityError:
        # Another organiser started the same round a moment ago: drop our empty evaluation.
        db.session.rollback()
        db.session.delete(db.session.get(Evaluation, evaluation.id))
        db.session.commit()
        raise ServiceError(refusal(N_("该轮报告刚被他人提交"))) from None
    return report


def conditions_of(report: AnalysisReport) -> dict:
    """The stored verdict conditions: key → bool, plus ``note``; empty before the verdict."""
    try:
        data = json.loads(report.conditions or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def review_scores(report: AnalysisReport) -> dict:
    """The review evaluation's figures, grouped beside the four conditions.

    Returns ``judged``, ``n_ballots``, ``min_ballots``, ``threshold`` and ``conditions``:
    one entry per condition with its items (text, rate, interval, n_valid, below the
    threshold) and ``suggested`` — True when the review is judged (≥ ``min_ballots``) and every
    item of the condition is rated and at or above the threshold: the default the verdict form offers.
    """
    empty = {"judged": False, "n_ballots": 0, "min_ballots": None, "threshold": None,
             "conditions": [{"condition": c, "items": [], "suggested": False} for c in CONDITIONS]}
    if report.evaluation_id is None:
        return empty
    frames = load_frames([report.evaluation_id])
    unit = analysis.unit_results(*frames.args())
    items = analysis.item_results(*frames.args())
    if not len(unit):
        return empty
    row = unit.iloc[0]
    judged = bool(row["judged"])
    by_text = {r["text"]: r for r in items.to_dict("records")}
    result = []
    for condition in CONDITIONS:
        matched = [r for r in frames.items.sort_values("position").to_dict("records")
                   if any(word in r["text"] for word in condition.keywords)]
        rows = [_item_row(r["text"], by_text.get(r["text"])) for r in matched]
        # Below min_ballots the figures decide nothing, so nothing is ticked for the organiser either.
        suggested = judged and bool(rows) and all(r["rate"] is not None and not r["below"] for r in rows)
        result.append({"condition": condition, "items": rows, "suggested": suggested})
    return {"judged": judged, "n_ballots": int(row["n_ballots"]),
            "min_ballots": int(frames.evaluations["min_ballots"].iloc[0]),
            "threshold": float(frames.evaluations["threshold"].iloc[0]), "conditions": result}


def _item_row(text: str, figures: Optional[dict]) -> dict:
    """One item of a condition; figures are None when nobody rated it yet."""
    def number(key):
        value = None if figures is None else figures.get(key)
        return None if value is None or value != value else float(value)

    return {"text": text, "rate": number("rate"), "ci_low": number("ci_low"), "ci_high": number("ci_high"),
            "n_valid": int(figures["n_valid"]) if figures is not None else 0,
            "below": bool(figures["unsatisfactory"]) if figures is not None else False}


def record_verdict(report: AnalysisReport, met: dict[str, bool], note: str, user) -> AnalysisReport:
    """Record the verdict of the newest pending round: passed only when all four conditions are met.

    The review evaluation is closed (ratings after the verdict would not count).
    """
    newest = latest(report.unit_id)
    if newest is None or newest.id != report.id:
        raise ServiceError(refusal(N_("只能评定最新一轮")))
    if report.verdict != "pending":
        raise ServiceError(refusal(N_("该轮已评定")))
    refuse_control(note)
    flags = {c.key: bool(met.get(c.key)) for c in CONDITIONS}
    report.verdict = "passed" if all(flags.values()) else "returned"
    report.conditions = json.dumps({**flags, "note": (note or "").strip()[:2000]}, ensure_ascii=False)
    report.decided_by = getattr(user, "id", None)
    report.decided_at = utcnow()
    closing = report.evaluation is not None and report.evaluation.status is EvaluationStatus.OPEN
    if closing:
        report.evaluation.status = EvaluationStatus.CLOSED
    record("report_verdict", f"unit:{report.unit_id}", user, round=report.round, verdict=report.verdict,
           **flags)
    db.session.commit()
    if closing:
        from surveys import box  # the review evaluation is over: count what is still sealed

        box.close([report.evaluation_id])
    return report


def campaign_rows(campaign_id: int, unit_ids: Optional[set[int]] = None) -> list[dict]:
    """Per unit with a report: its newest round and verdict, one query for the newest rounds."""
    newest = (select(AnalysisReport.unit_id, func.max(AnalysisReport.round).label("round"))
              .where(AnalysisReport.campaign_id == campaign_id).group_by(AnalysisReport.unit_id).subquery())
    query = (select(AnalysisReport, Unit.name)
             .join(newest, (newest.c.unit_id == AnalysisReport.unit_id) & (newest.c.round == AnalysisReport.round))
             .join(Unit, Unit.id == AnalysisReport.unit_id).order_by(Unit.id))
    if unit_ids is not None:
        query = query.where(AnalysisReport.unit_id.in_(unit_ids))
    return [{"report": report, "unit": name} for report, name in db.session.execute(query)]
