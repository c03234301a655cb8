"""An operator's decisions on sheets the reader could not settle alone.

Three kinds of pending sheet, three decisions:

* ``marks`` — some items were unsure: the operator, shown only those items'
  crops and the reader's guesses, says what each one is; the sheet is then
  stored through the ballot box like any other.
* ``code`` — the QR could not be read: the operator types the printed code on
  a screen that shows only the code's corner of the page; the page is then
  read as if its QR had been (stored, refused, or back to ``marks``).
* ``missing_page`` — a page of a longer sheet never came: it can only be
  discarded (the code stays unused; scan the whole sheet again).

Whatever the decision, the pending record and its crops are deleted in the
same call. Audit entries say which kind of decision, how many items, and the
outcome — never the code, the answers or the guesses.
"""
from __future__ import annotations

import random
from typing import Optional

import numpy as np
from flask_babel import lazy_gettext as _l

from surveys.codes import normalise_code

from evaluation.accounts import audit
from evaluation.services import ServiceError
from . import processing
from .queue import Batch, crop, drop_pending, read_pending
from .reading import Page

MALFORMED = _l("测评码格式不正确:应为 12 位字母和数字")
UNKNOWN = _l("没有这个测评码,请核对后重新输入")
NOT_MARKS = _l("这张表不是待核对选项的表")
NOT_CODE = _l("这张表不需要输入测评码")
EVERY_ITEM = _l("请对每一题作出判断")


def next_token(batch: Batch) -> Optional[str]:
    """A pending sheet of the batch picked at random (so decisions do not follow the stack's order)."""
    tokens = batch.pending()
    return random.SystemRandom().choice(tokens) if tokens else None


def view(batch: Batch, token: str) -> dict:
    """What the review screen may show of a pending sheet: its kind and, for marks, the unsure items only."""
    record = read_pending(batch, token)
    shown = {"kind": record["kind"], "token": token}
    if record["kind"] == "marks":
        shown["items"] = {int(k): v["guess"] for k, v in record["items"].items() if not v["clear"]}
        shown["questionnaire_id"] = record["questionnaire_id"]
    elif record["kind"] == "missing_page":
        shown["seen"], shown["pages"] = [p + 1 for p in record["seen"]], record["pages"]
    return shown


def decide_marks(batch: Batch, token: str, decided: dict[int, list[int]], user=None) -> str:
    """Store a ``marks`` sheet with the operator's answers for its unsure items; returns the outcome."""
    record = read_pending(batch, token)
    if record["kind"] != "marks":
        raise ServiceError(str(NOT_MARKS))
    unsure = {int(k) for k, v in record["items"].items() if not v["clear"]}
    if set(decided) != unsure:
        raise ServiceError(str(EVERY_ITEM))
    for item_id, options in decided.items():
        record["items"][str(item_id)] = {"clear": True, "chosen": sorted(options), "guess": []}
    outcome = processing.store(record)
    _count(batch, outcome)
    drop_pending(batch, token)
    audit.record("sheets_review", _target(record), user, kind="marks", items=len(unsure), outcome=outcome)
    _commit()
    return outcome


def enter_code(batch: Batch, token: str, raw_code: str, user=None) -> str:
    """Read a ``code`` sheet with the code the operator typed; returns the outcome (``review`` when unsure marks remain)."""
    import cv2

    record = read_pending(batch, token)
    if record["kind"] != "code":
        raise ServiceError(str(NOT_CODE))
    code = normalise_code(raw_code)
    if code is None:
        raise ServiceError(str(MALFORMED))
    reason, _row = processing.refusal(batch, code)
    if reason == "unknown":
        raise ServiceError(str(UNKNOWN))  # most likely mistyped: the sheet stays for another try
    image = cv2.imdecode(np.frombuffer(crop(batch, token, "page"), np.uint8), cv2.IMREAD_GRAYSCALE)
    batch.counts["review"] -= 1  # counted again if it goes back to review
    outcome = processing.with_code(batch, Page(record["paper"], record["page"], image, code), code)
    drop_pending(batch, token)
    audit.record("sheets_review", _target(record), user, kind="code", outcome=outcome)
    _commit()
    return outcome


def discard(batch: Batch, token: str, user=None) -> None:
    """Drop a pending sheet without storing it (its code stays unused: the paper can be scanned again)."""
    record = read_pending(batch, token)
    drop_pending(batch, token)
    batch.counts["discarded"] = batch.counts.get("discarded", 0) + 1
    audit.record("sheets_review", _target(record), user, kind=record["kind"], outcome="discarded")
    _commit()


def _count(batch: Batch, outcome: str) -> None:
    batch.counts[outcome] = batch.counts.get(outcome, 0) + 1


def _target(record: dict) -> str:
    return f"evaluation:{record['evaluation_id']}" if record.get("evaluation_id") else "sheets"


def _commit() -> None:
    from extensions import db

    db.session.commit()
