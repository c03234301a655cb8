"""Ballot codes in bulk, printable slips, CSV of the same codes, turnout counts, voiding.

The plain codes exist only in the value :func:`issue` returns, which the view
renders once — as a sheet of slips (with a CSV of the same codes embedded as
a ``data:`` link) or as a CSV attachment — and then forgets. The database
receives keyed hashes only; every page afterwards shows counts.
"""
from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from itertools import groupby
from typing import Optional, Sequence

import segno
from flask import current_app, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import joinedload, selectinload

from analysis.exports import neutralise
from extensions import db
from models import (
    BallotCode, CodeBatch, CodeStatus, Evaluation, EvaluationStatus, PaperEntry, Questionnaire, RaterGroup, Unit,
    User,
)
from surveys.codes import format_code, generate_code, hash_code

from evaluation.accounts import audit
from evaluation.services import MAX_CODES_PER_BATCH, ServiceError, void_batch

#: Codes per request when slips are printed: each QR code costs about 3 ms to build,
#: so 2,000 slips (200 A4 pages) take some seconds. The CSV alone allows MAX_CODES_PER_BATCH.
SLIP_LIMIT = 2000
CSV_LIMIT = MAX_CODES_PER_BATCH
SLIPS_PER_PAGE = 10
CSV_COLUMNS = ["unit_code", "unit", "evaluation_id", "questionnaire", "group", "code", "url"]


@dataclass
class IssuedCode:
    """One plain code with what its slip prints; lives only for the response that shows it."""

    code: str            # normalised, no hyphens
    unit_code: str
    unit: str
    evaluation_id: int
    title: str
    group: str

    @property
    def grouped(self) -> str:
        """The code as printed: ``K7QX-M3PD-9TWR``."""
        return format_code(self.code)

    @property
    def url(self) -> str:
        """The absolute link a phone opens from the QR code: the code after "#", which no request line carries."""
        return url_for("surveys.ballot", _external=True) + "#" + self.grouped


@dataclass
class Issue:
    """The outcome of issuing: batch ids and the plain codes (in slip order)."""

    batch_ids: list[int]
    codes: list[IssuedCode]


def targets_for(campaign_id: int, questionnaire_key: str, group_ids: Sequence[int],
                unit_ids: Optional[set[int]] = None) -> list[tuple[Evaluation, RaterGroup]]:
    """(evaluation, group) pairs to issue for: the questionnaire's evaluations in the campaign that are
    not closed, of units still active (no slips for a unit deactivated since), limited to ``unit_ids``
    when given, × the chosen groups each evaluation has."""
    query = (select(Evaluation).join(Unit, Unit.id == Evaluation.unit_id)
             .join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
             .where(Evaluation.campaign_id == campaign_id, Questionnaire.key == questionnaire_key,
                    Evaluation.status != EvaluationStatus.CLOSED, Unit.active.is_(True))
             .order_by(Unit.code, Evaluation.id)
             .options(selectinload(Evaluation.rater_groups), joinedload(Evaluation.unit),
                      joinedload(Evaluation.questionnaire)))
    if unit_ids is not None:
        query = query.where(Evaluation.unit_id.in_(unit_ids))
    wanted = set(group_ids)
    return [(e, g) for e in db.session.scalars(query) for g in e.rater_groups if g.id in wanted]


def issue(targets: Sequence[tuple[Evaluation, RaterGroup]], per_target: int, limit: int,
          user=None, target: str = "") -> Issue:
    """Create ``per_target`` codes for each (evaluation, group), one batch each, in one transaction.

    ``limit`` caps the total (SLIP_LIMIT or CSV_LIMIT). The audit entry
    ("codes_issue") records batches and counts, never a code.
    """
    total = check_issue(targets, per_target, limit)
    batch_ids, issued = create_codes(targets, per_target, getattr(user, "id", None))
    audit.record("codes_issue", target or f"evaluation:{targets[0][0].id}", codes=total, per_group=per_target,
                 batch_ids=batch_ids, evaluation_ids=sorted({e.id for e, _ in targets}))
    db.session.commit()
    return Issue(batch_ids, issued)


def check_issue(targets: Sequence[tuple[Evaluation, RaterGroup]], per_target: int, limit: int) -> int:
    """Refuse what :func:`issue` would refuse, before anything is asked or written; the total to issue."""
    if not targets:
        raise ServiceError(_("没有可发放测评码的测评(已结束的测评不再发放)"))
    if any(e.status is EvaluationStatus.CLOSED for e, _ in targets):
        raise ServiceError(_("测评已结束,不再发放测评码"))
    if per_target < 1:
        raise ServiceError(_("每个测评主体至少发放 1 个"))
    total = per_target * len(targets)
    if total > limit:
        raise ServiceError(_("一次最多发放 %(limit)s 个测评码,本次需要 %(total)s 个(%(groups)s 组 × %(each)s);"
                             "请缩小范围或分多次发放", limit=limit, total=total, groups=len(targets), each=per_target))
    return total


def create_codes(targets: Sequence[tuple[Evaluation, RaterGroup]], per_target: int,
                 user_id: Optional[int]) -> tuple[list[int], list[IssuedCode]]:
    """Insert one batch of ``per_target`` codes per (evaluation, group), not committed: batch ids, plain codes.

    Callers record their own audit entry and commit, so issuing is one transaction with it.
    """
    key = current_app.config["CODE_KEY"]
    batches = [CodeBatch(evaluation_id=e.id, rater_group_id=g.id, count=per_target, created_by=user_id)
               for e, g in targets]
    db.session.add_all(batches)
    db.session.flush()
    issued: list[IssuedCode] = []
    rows: list[dict] = []
    seen: set[str] = set()
    for (evaluation, group), batch in zip(targets, batches):
        made = 0
        while made < per_target:
            code = generate_code()
            hashed = hash_code(code, key)
            if hashed in seen:  # astronomically unlikely; never store a duplicate
                continue
            seen.add(hashed)
            made += 1
            rows.append({"code_hash": hashed, "evaluation_id": evaluation.id, "rater_group_id": group.id,
                         "batch_id": batch.id, "status": CodeStatus.UNUSED})
            issued.append(IssuedCode(code, evaluation.unit.code, evaluation.unit.name, evaluation.id,
                                     evaluation.questionnaire.title, group.name))
    db.session.execute(insert(BallotCode), rows)
    return [b.id for b in batches], issued


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code for ``url`` (no size attributes: the stylesheet sets it in mm)."""
    qr = segno.make(url, error="m", micro=False)
    return Markup(qr.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None,
                                title=_("二维码")))


def csv_text(codes: Sequence[IssuedCode]) -> str:
    """The codes as CSV (UTF-8 BOM for Excel, CRLF), text cells neutralised against formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in codes:
        writer.writerow([neutralise(c.unit_code), neutralise(c.unit), c.evaluation_id, neutralise(c.title),
                         neutralise(c.group), c.grouped, c.url])
    return "\ufeff" + out.getvalue()


def csv_data_uri(codes: Sequence[IssuedCode]) -> str:
    """The same CSV as a ``data:`` URI for a download link on the slip page (nothing stored server-side)."""
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(csv_text(codes).encode("utf-8")).decode("ascii")


# --- counts: what remains after the slips are printed -------------------------------------------

def _status_counts():
    return (func.sum(case((BallotCode.status == CodeStatus.USED, 1), else_=0)).label("used"),
            func.sum(case((BallotCode.status == CodeStatus.UNUSED, 1), else_=0)).label("unused"),
            func.sum(case((BallotCode.status == CodeStatus.VOID, 1), else_=0)).label("void"))


def batch_rows(evaluation_id: int) -> list[dict]:
    """Each batch of an evaluation with its group, who issued it, and used / unused / void counts."""
    counts = (select(BallotCode.batch_id, *_status_counts()).where(BallotCode.evaluation_id == evaluation_id)
              .group_by(BallotCode.batch_id).subquery())
    query = (select(CodeBatch.id, RaterGroup.name, CodeBatch.count, CodeBatch.created_at, User.username,
                    CodeBatch.voided_at, counts.c.used, counts.c.unused, counts.c.void)
             .join(RaterGroup, RaterGroup.id == CodeBatch.rater_group_id)
             .outerjoin(User, User.id == CodeBatch.created_by)
             .outerjoin(counts, counts.c.batch_id == CodeBatch.id)
             .where(CodeBatch.evaluation_id == evaluation_id).order_by(CodeBatch.id))
    keys = ("id", "group", "count", "created_at", "created_by", "voided_at", "used", "unused", "void")
    return [dict(zip(keys, row)) for row in db.session.execute(query)]


def turnout_rows(campaign_id: int, questionnaire_key: Optional[str] = None,
                 unit_ids: Optional[set[int]] = None, evaluation_id: Optional[int] = None) -> list[dict]:
    """Turnout per evaluation × rater group: issued (not voided) and used codes, from one grouped query."""
    query = (select(Evaluation.id, Unit.code, Unit.name, Questionnaire.title, RaterGroup.name,
                    *_status_counts())
             .join(Evaluation, Evaluation.id == BallotCode.evaluation_id)
             .join(Unit, Unit.id == Evaluation.unit_id)
             .join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
             .join(RaterGroup, RaterGroup.id == BallotCode.rater_group_id)
             .where(Evaluation.campaign_id == campaign_id)
             .group_by(Evaluation.id, Unit.code, Unit.name, Questionnaire.title, RaterGroup.id, RaterGroup.name)
             .order_by(Unit.code, Evaluation.id, RaterGroup.id))
    if questionnaire_key:
        query = query.where(Questionnaire.key == questionnaire_key)
    if unit_ids is not None:
        query = query.where(Evaluation.unit_id.in_(unit_ids))
    if evaluation_id is not None:
        query = query.where(Evaluation.id == evaluation_id)
    rows = []
    for eid, unit_code, unit, title, group, used, unused, void in db.session.execute(query):
        issued = (used or 0) + (unused or 0)
        rows.append({"evaluation_id": eid, "unit_code": unit_code, "unit": unit, "title": title, "group": group,
                     "issued": issued, "used": used or 0, "void": void or 0,
                     "rate": (used or 0) / issued if issued else None})
    return rows


def unused_count(batch_id: int) -> int:
    """How many codes of the batch are still unused: what voiding it would void."""
    return db.session.scalar(select(func.count()).select_from(BallotCode).where(
        BallotCode.batch_id == batch_id, BallotCode.status == CodeStatus.UNUSED))


def void(batch_id: int, user=None) -> int:
    """Void a batch's unused codes (audit "codes_void"); paper entries waiting on them are dropped.

    Returns how many codes were voided. Used codes keep their ballots.
    """
    batch = db.session.get(CodeBatch, batch_id)
    if batch is None:
        raise ServiceError(_("批次 %(id)s 不存在", id=batch_id))
    unused = select(BallotCode.code_hash).where(BallotCode.batch_id == batch_id,
                                                BallotCode.status == CodeStatus.UNUSED)
    n_unused = db.session.scalar(select(func.count()).select_from(unused.subquery()))
    db.session.execute(delete(PaperEntry).where(PaperEntry.code_hash.in_(unused))
                       .execution_options(synchronize_session=False))
    audit.record("codes_void", f"batch:{batch_id}", evaluation_id=batch.evaluation_id, unused_voided=n_unused)
    return void_batch(batch_id)  # commits the update, the deletions and the audit entry together


def slip_pages(codes: list, per_page: int) -> list[list]:
    """The slips cut into printed sheets of ``per_page``, a new sheet for each unit (codes arrive unit by unit)."""
    pages: list[list] = []
    for _unit, slips in groupby(codes, key=lambda c: c.unit):
        slips = list(slips)
        pages += [slips[i:i + per_page] for i in range(0, len(slips), per_page)]
    return pages
