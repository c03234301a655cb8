"""补课: recording a make-up decision and opening the unit's second evaluation."""
from __future__ import annotations

from typing import Optional

from flask import has_request_context
from flask_babel import get_locale
from sqlalchemy import select

import analysis
from extensions import db
from models import Evaluation, EvaluationStatus, MakeUp
from surveys import box

from evaluation.accounts.audit import record
from evaluation.results.frames import load_frames
from evaluation.services import N_, ServiceError, open_evaluation, refusal


def decide_makeup(evaluation_id: int, user_id: Optional[int], open_now: bool = True) -> MakeUp:
    """Mark a flagged unit for make-up and create its follow-up evaluation, linked to the first.

    Refused when the evaluation is unknown, not flagged by the scoring rule, or
    already decided: a decision is taken once, from the stored ballots.
    """
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise ServiceError(refusal(N_("测评 %(id)s 不存在"), id=evaluation_id))
    if db.session.scalar(select(MakeUp.id).where(MakeUp.evaluation_id == evaluation_id)) is not None:
        raise ServiceError(refusal(N_("该测评已作出补课决定")))
    sealed = box.sealed_counts([evaluation_id]).get(evaluation_id, 0)
    if sealed:
        # A decision is taken from every ballot: those still sealed must be counted first, and only
        # closing counts the last batch (which may hold fewer than min_ballots).
        raise ServiceError(refusal(N_("该测评还有 %(num)s 张测评票封存未计:请先结束测评,全部开箱计票后再作决定"),
                                   num=sealed))
    result = analysis.unit_results(*load_frames([evaluation_id]).args()).iloc[0]
    if not bool(result["needs_makeup"]):
        english = has_request_context() and str(get_locale()) == "en"
        reason = str(result["reason_en" if english else "reason_zh"])
        raise ServiceError(refusal(N_("该单位未达到补课条件:%(reason)s"), reason=reason))
    followup = Evaluation(campaign=evaluation.campaign, unit=evaluation.unit,
                          questionnaire=evaluation.questionnaire, rater_groups=list(evaluation.rater_groups),
                          threshold=evaluation.threshold, min_ballots=evaluation.min_ballots,
                          previous_id=evaluation.id, status=EvaluationStatus.DRAFT)
    db.session.add(followup)
    if evaluation.status is EvaluationStatus.OPEN:
        # The first round is over once the unit is sent to make up.
        evaluation.status = EvaluationStatus.CLOSED
    if open_now:
        open_evaluation(followup)
    decision = MakeUp(evaluation_id=evaluation.id, unit_id=evaluation.unit_id, reason=str(result["reason_zh"]),
                      decided_by=user_id, followup=followup)
    db.session.add(decision)
    # An organiser decision: audited, which also moves the campaign's data version (overview cache).
    record("makeup_decide", f"evaluation:{evaluation.id}", unit_id=evaluation.unit_id)
    db.session.commit()
    return decision
