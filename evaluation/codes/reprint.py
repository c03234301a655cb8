"""Re-print a lost batch: void its unused codes and issue as many anew, in one audited step.

A sheet of slips that went missing must not stay redeemable, and the unit still needs the
same number of slips. Doing both in one transaction means there is never a moment with
both sets valid, nor one with neither; the audit entry ("codes_reprint") gives the old and
new batch and the count — never a code. Used codes of the old batch keep their ballots.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from extensions import db
from models import BallotCode, CodeBatch, CodeStatus, EvaluationStatus, PaperEntry, bump_data_version, utcnow

from evaluation.accounts import audit
from evaluation.codes.slips import Issue, create_codes
from evaluation.services import ServiceError


def reprint_plan(batch: CodeBatch) -> int:
    """How many codes a re-print of ``batch`` would void and issue; refused with a reason when it cannot."""
    if batch.evaluation.status is EvaluationStatus.CLOSED:
        raise ServiceError(_("测评已结束,不能补印第 %(id)s 批。", id=batch.id))
    unused = db.session.scalar(select(func.count()).select_from(BallotCode).where(
        BallotCode.batch_id == batch.id, BallotCode.status == CodeStatus.UNUSED))
    if not unused:
        raise ServiceError(_("第 %(id)s 批没有未使用的测评码,无需补印。", id=batch.id))
    return unused


def reprint(batch: CodeBatch, user=None) -> Issue:
    """Void the batch's unused codes and issue the same number for its evaluation and group as a new batch.

    The count is what the voiding UPDATE itself changed, so two organisers re-printing
    the same batch at once cannot both issue: the second finds nothing left to void.
    """
    reprint_plan(batch)
    unused = select(BallotCode.code_hash).where(BallotCode.batch_id == batch.id,
                                                BallotCode.status == CodeStatus.UNUSED)
    # Paper ballots keyed in once against a lost slip would otherwise wait on a voided code.
    db.session.execute(delete(PaperEntry).where(PaperEntry.code_hash.in_(unused))
                       .execution_options(synchronize_session=False))
    voided = db.session.execute(
        update(BallotCode).where(BallotCode.batch_id == batch.id, BallotCode.status == CodeStatus.UNUSED)
        .values(status=CodeStatus.VOID).execution_options(synchronize_session=False)).rowcount
    if not voided:
        db.session.rollback()
        raise ServiceError(_("第 %(id)s 批没有未使用的测评码,无需补印。", id=batch.id))
    batch.voided_at = utcnow()
    evaluation, group = batch.evaluation, batch.rater_group
    batch_ids, issued = create_codes([(evaluation, group)], voided, getattr(user, "id", None))
    audit.record("codes_reprint", f"batch:{batch.id}", user, evaluation_id=evaluation.id, rater_group_id=group.id,
                 voided=voided, issued=voided, new_batch_id=batch_ids[0])
    bump_data_version(db.session, [evaluation.id])  # turnout counts changed
    db.session.commit()
    return Issue(batch_ids, issued)
