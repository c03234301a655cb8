"""Paper ballots (现场纸质测评票) keyed in by organisers, with optional double entry.

A paper ballot carries the slip of its code, so it obeys the same rules as an
online one: it is stored through :func:`surveys.ballots.claim_and_store`, the
same conditional UPDATE that admits one ballot per code.

* Single entry: the ballot is stored at once.
* Double entry (``Evaluation.paper_double_entry``): the first operator's answers
  wait as ``PaperEntry(entry_no=1)``; a different operator keys the ballot
  again. If both agree the ballot is stored; if not, the second entry is kept
  too and an organiser reconciles the two, item by item.

Every change to a code's entries starts by taking that code's row (a no-op
UPDATE of an unused code), so entries, reconciliations and online submits of
one code are serialised on both SQLite and PostgreSQL. Entries are deleted in
the very transaction that stores the ballot; audit entries never name the
code or the answers.
"""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from extensions import db
from models import BallotCode, CodeStatus, Evaluation, EvaluationStatus, Item, ItemKind, PaperEntry, User
from surveys.ballots import CodeState, claim_and_store, code_state_after_reject
from surveys.codes import hash_code, normalise_code
from surveys.forms import ballot_form_class, field_name

from evaluation.accounts import audit
from evaluation.services import ServiceError

Answers = list[tuple[int, int, Optional[int], Optional[str]]]

REFUSED = {
    CodeState.MALFORMED: _l("测评码格式不正确:应为 12 位字母和数字"),
    CodeState.UNKNOWN: _l("本测评没有这个测评码,请核对测评条"),
    CodeState.VOID: _l("此测评码已作废,不能录入"),
    CodeState.USED: _l("此测评码已使用,该票已计入,不能再次录入"),
    CodeState.NOT_OPEN: _l("测评未开启或已结束,不能保存测评票"),
}
BUSY = _l("系统繁忙,未保存任何内容,请重新提交")
RACED = _l("这张票刚刚已由他人录入或处理,请刷新后重试")


class Outcome(enum.Enum):
    """What keying in one paper ballot led to."""

    STORED = "stored"
    AWAITING_SECOND = "awaiting_second"
    MISMATCH = "mismatch"


@dataclass
class EntryResult:
    """The outcome, and for a mismatch the first entry's id (the reconciliation page's handle)."""

    outcome: Outcome
    entry_id: Optional[int] = None


def paper_form_class(questionnaire, text_max: int):
    """The rater form of ``questionnaire`` plus the code from the paper ballot's slip."""
    code = StringField(_l("测评码(见测评条)"), validators=[InputRequired(_l("请输入测评码")), Length(max=64)])
    return type("PaperBallotForm", (ballot_form_class(questionnaire, text_max),), {"code": code})


def normalised(answers: Iterable[Sequence]) -> Answers:
    """Answers in one canonical order, so two operators' entries compare equal when they agree."""
    return sorted(((int(i), int(s), o, t) for i, s, o, t in answers), key=lambda a: (a[0], a[1]))


def _encode(answers: Answers) -> str:
    return json.dumps([list(a) for a in answers], ensure_ascii=False)


def _decode(text: str) -> Answers:
    return normalised(json.loads(text))


def code_row(raw_code: Optional[str], evaluation: Evaluation) -> BallotCode:
    """The unused code of ``evaluation`` typed from a slip, or ServiceError saying why not."""
    code = normalise_code(raw_code)
    if code is None:
        raise ServiceError(REFUSED[CodeState.MALFORMED])
    row = db.session.get(BallotCode, hash_code(code, current_app.config["CODE_KEY"]))
    if row is None or row.evaluation_id != evaluation.id:
        raise ServiceError(REFUSED[CodeState.UNKNOWN])
    if row.status is CodeStatus.VOID:
        raise ServiceError(REFUSED[CodeState.VOID])
    if row.status is CodeStatus.USED:
        raise ServiceError(REFUSED[CodeState.USED])
    if evaluation.status is not EvaluationStatus.OPEN:
        raise ServiceError(REFUSED[CodeState.NOT_OPEN])
    return row


def _refuse(code_hash: str) -> ServiceError:
    db.session.rollback()
    return ServiceError(REFUSED[code_state_after_reject(code_hash)])


def _hold_code(code_hash: str) -> None:
    """Begin a write transaction on the code's row (a no-op UPDATE); refuse if it is no longer unused."""
    db.session.rollback()
    held = db.session.execute(
        update(BallotCode).where(BallotCode.code_hash == code_hash, BallotCode.status == CodeStatus.UNUSED)
        .values(status=BallotCode.status).execution_options(synchronize_session=False)).rowcount
    if held != 1:
        raise _refuse(code_hash)


def _claim(code_hash: str, evaluation_id: int, group_id: int, answers: Answers) -> None:
    if not claim_and_store(code_hash, evaluation_id, group_id, answers):
        raise _refuse(code_hash)


def _entries(code_hash: str) -> list[PaperEntry]:
    return list(db.session.scalars(select(PaperEntry).where(PaperEntry.code_hash == code_hash)
                                   .order_by(PaperEntry.entry_no)))


def _finish() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(RACED) from None


def enter(evaluation: Evaluation, raw_code: Optional[str], answers: Iterable[Sequence], operator) -> EntryResult:
    """Key in one paper ballot for ``evaluation`` against the code on its slip."""
    row = code_row(raw_code, evaluation)
    code_hash, group_id, evaluation_id = row.code_hash, row.rater_group_id, evaluation.id
    double, operator_id, answers = evaluation.paper_double_entry, operator.id, normalised(answers)
    target = f"evaluation:{evaluation_id}"
    try:
        _hold_code(code_hash)
        if not double:
            _claim(code_hash, evaluation_id, group_id, answers)
            audit.record("paper_entry", target, mode="single", outcome=Outcome.STORED.value)
            result = EntryResult(Outcome.STORED)
        else:
            result = _enter_twice(code_hash, evaluation_id, group_id, answers, operator_id, target)
        _finish()
        return result
    except ServiceError:
        db.session.rollback()
        raise
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("paper ballot not stored: database error", exc_info=True)
        raise ServiceError(BUSY) from None


def _enter_twice(code_hash: str, evaluation_id: int, group_id: int, answers: Answers, operator_id: int,
                 target: str) -> EntryResult:
    """The double-entry step, inside the transaction that holds the code."""
    entries = _entries(code_hash)
    if len(entries) > 1:
        raise ServiceError(_("此票已录入两遍且不一致,请在核对页处理"))
    if entries and entries[0].operator_id == operator_id:
        raise ServiceError(_("第二遍须由另一位录入员录入"))
    if entries and _decode(entries[0].answers) == answers:
        _claim(code_hash, evaluation_id, group_id, answers)  # also deletes the first entry
        audit.record("paper_entry", target, mode="double", entry_no=2, outcome=Outcome.STORED.value)
        return EntryResult(Outcome.STORED)
    entry_no = 2 if entries else 1
    db.session.add(PaperEntry(code_hash=code_hash, evaluation_id=evaluation_id, rater_group_id=group_id,
                              entry_no=entry_no, operator_id=operator_id, answers=_encode(answers)))
    outcome = Outcome.MISMATCH if entries else Outcome.AWAITING_SECOND
    audit.record("paper_entry", target, mode="double", entry_no=entry_no, outcome=outcome.value)
    return EntryResult(outcome, entries[0].id if entries else None)


@dataclass
class Pair:
    """Two disagreeing entries of one paper ballot, for the reconciliation page."""

    first: PaperEntry
    second: PaperEntry
    evaluation: Evaluation
    group: str
    operators: tuple[str, str]
    mismatched: set[int]

    def answers(self, entry_no: int) -> Answers:
        """The answers of entry 1 or 2."""
        return _decode((self.first if entry_no == 1 else self.second).answers)


def pair(first_id: int) -> Pair:
    """The pair whose first entry has this id, or ServiceError when it is gone (stored or discarded)."""
    first = db.session.get(PaperEntry, first_id)
    second = None if first is None else db.session.scalar(
        select(PaperEntry).where(PaperEntry.code_hash == first.code_hash, PaperEntry.entry_no == 2))
    if first is None or first.entry_no != 1 or second is None:
        raise ServiceError(_("没有待核对的这张票(可能已处理)"))
    names = {u.id: u.username for u in db.session.scalars(
        select(User).where(User.id.in_([first.operator_id, second.operator_id])))}
    evaluation = db.session.get(Evaluation, first.evaluation_id)
    group = next((g.name for g in evaluation.rater_groups if g.id == first.rater_group_id), "")
    return Pair(first, second, evaluation, group,
                (names.get(first.operator_id, "—"), names.get(second.operator_id, "—")),
                mismatched_items(_decode(first.answers), _decode(second.answers)))


def mismatched_items(a: Answers, b: Answers) -> set[int]:
    """Ids of the items whose answers differ between two entries."""
    def by_item(answers: Answers) -> dict[int, list]:
        grouped: dict[int, list] = {}
        for item_id, _seq, option_id, text in answers:
            grouped.setdefault(item_id, []).append((option_id, text))
        return grouped
    left, right = by_item(a), by_item(b)
    return {item_id for item_id in left.keys() | right.keys() if left.get(item_id) != right.get(item_id)}


def shown(answers: Answers, items: Sequence[Item]) -> dict[int, str]:
    """Each item's answer as words (option labels or the text), for side-by-side display."""
    labels = {o.id: o.label for item in items if item.scale for o in item.scale.options}
    words: dict[int, list[str]] = {}
    for item_id, _seq, option_id, text in answers:
        words.setdefault(item_id, []).append(labels.get(option_id, "?") if option_id is not None else (text or ""))
    return {item_id: "、".join(parts) for item_id, parts in words.items()}


def prefill(answers: Answers, items: Sequence[Item], skip: set[int]) -> dict:
    """Form data for the agreeing answers; mismatched items (``skip``) are left blank to be decided."""
    data: dict = {}
    for item in items:
        if item.id in skip:
            continue
        mine = [a for a in answers if a[0] == item.id]
        if item.kind is ItemKind.MULTIPLE:
            data[field_name(item)] = [a[2] for a in mine]
        elif mine:  # one option, or the text of a free-text / fill-in item
            data[field_name(item)] = mine[0][2] if mine[0][2] is not None else mine[0][3]
    return data


def resolve(first_id: int, answers: Iterable[Sequence]) -> None:
    """Store the reconciled ballot: one ballot, code used, both entries deleted, in one transaction."""
    found = pair(first_id)
    code_hash, evaluation_id = found.first.code_hash, found.first.evaluation_id
    group_id, expected = found.first.rater_group_id, {found.first.id, found.second.id}
    mismatched = len(found.mismatched)
    try:
        _hold_code(code_hash)
        if {e.id for e in _entries(code_hash)} != expected:
            raise ServiceError(RACED)
        _claim(code_hash, evaluation_id, group_id, normalised(answers))
        audit.record("paper_reconcile", f"evaluation:{evaluation_id}", outcome="stored",
                     mismatched_items=mismatched)
        _finish()
    except ServiceError:
        db.session.rollback()
        raise
    except SQLAlchemyError:
        db.session.rollback()
        raise ServiceError(BUSY) from None


def discard(first_id: int) -> int:
    """Drop both entries of a pair (the code stays unused, e.g. for a spoilt paper ballot); returns the evaluation id."""
    found = pair(first_id)
    evaluation_id = found.first.evaluation_id
    db.session.execute(delete(PaperEntry).where(PaperEntry.code_hash == found.first.code_hash)
                       .execution_options(synchronize_session=False))
    audit.record("paper_reconcile", f"evaluation:{evaluation_id}", outcome="discarded")
    db.session.commit()
    return evaluation_id


def pending(evaluation_id: int) -> dict:
    """Counts for the paper page: entries awaiting a second operator, and pairs awaiting reconciliation."""
    rows = db.session.execute(select(PaperEntry.id, PaperEntry.code_hash, PaperEntry.entry_no)
                              .where(PaperEntry.evaluation_id == evaluation_id).order_by(PaperEntry.id)).all()
    seconds = {r.code_hash for r in rows if r.entry_no == 2}
    firsts = [r for r in rows if r.entry_no == 1]
    return {"awaiting_second": sum(1 for r in firsts if r.code_hash not in seconds),
            "mismatches": [r.id for r in firsts if r.code_hash in seconds]}
