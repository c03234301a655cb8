"""征求意见 (我为科学发展献一策): public suggestions to a unit, their moderation and export.

Anyone may send a suggestion without an account (``surveys/public.py``); only the day
is stored, never an address, a time or anything else about the sender. Liaisons
moderate the suggestions of their own subtree, organisers all of them; approved
suggestions appear on the unit's pages. Moderation is audited by suggestion id,
unit and new status — never with the text.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import pandas as pd
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.sql import Select

from analysis.exports import csv_chunks
from extensions import db
from models import Suggestion, Unit, utcnow

from evaluation.accounts.audit import record
from evaluation.days import local_today
from evaluation.listing import ListArgs, ListSpec, Page, ordered, page_of, searched
from evaluation.services import N_, ServiceError, refusal
from evaluation.text_checks import refuse_control

#: Stored key → label (translated when shown). The key is what the database keeps.
CATEGORIES = {
    "ideas": _l("发展思路"),
    "problems": _l("突出问题"),
    "conduct": _l("作风建设"),
    "institutions": _l("体制机制"),
    "other": _l("其他"),
}
STATUSES = {"pending": _l("待审核"), "approved": _l("已采纳"), "rejected": _l("未采纳")}
#: Longest suggestion accepted, in characters.
TEXT_MAX = 1000
CSV_COLUMNS = ["id", "unit", "category", "text", "status", "submitted_on"]
CSV_BATCH = 1000


def public_unit(unit_id: int) -> Optional[Unit]:
    """The unit a public page is about, or None when it is unknown or inactive."""
    unit = db.session.get(Unit, unit_id)
    return unit if unit is not None and unit.active else None


def submit(unit: Unit, category: str, text: str) -> Suggestion:
    """Store one public suggestion (pending moderation) with today's date only."""
    text = (text or "").strip()
    refuse_control(text)
    if category not in CATEGORIES:
        raise ServiceError(refusal(N_("请选择类别")))
    if not text:
        raise ServiceError(refusal(N_("请填写意见或建议")))
    if len(text) > TEXT_MAX:
        raise ServiceError(refusal(N_("最多 %(n)s 字"), n=TEXT_MAX))
    suggestion = Suggestion(campaign_id=unit.campaign_id, unit_id=unit.id, category=category, text=text,
                            status="pending", submitted_on=local_today())
    db.session.add(suggestion)
    db.session.commit()
    return suggestion


def moderate(suggestion: Suggestion, status: str, user) -> Suggestion:
    """Approve, reject or put back to pending; the caller has checked the user may see the unit."""
    if status not in STATUSES:
        raise ServiceError(refusal(N_("未知状态:%(status)s"), status=status))
    previous = suggestion.status
    suggestion.status = status
    suggestion.moderated_by = getattr(user, "id", None)
    suggestion.moderated_at = utcnow()
    record("suggestion_moderate", f"suggestion:{suggestion.id}", user, unit_id=suggestion.unit_id,
           status=status, previous=previous)
    db.session.commit()
    return suggestion


#: The moderation list: newest day first, searched in the text and the unit's code and name.
SUGGESTION_LIST = ListSpec(
    sorts={"date": Suggestion.submitted_on, "unit": Unit.code, "category": Suggestion.category,
           "status": Suggestion.status},
    searched=(Suggestion.text, Unit.name, Unit.code), default_sort="date", default_desc=True,
    tiebreak=(Suggestion.id.desc(),))


def _filtered(query: Select, campaign_id: int, unit_ids: Optional[set[int]], unit_id: Optional[int] = None,
              status: Optional[str] = None, category: Optional[str] = None) -> Select:
    """``query`` (which joins Unit) narrowed by the filters shared by the list, the counts and the export."""
    query = query.join(Unit, Unit.id == Suggestion.unit_id).where(Suggestion.campaign_id == campaign_id)
    if unit_ids is not None:
        query = query.where(Suggestion.unit_id.in_(unit_ids))
    if unit_id is not None:
        query = query.where(Suggestion.unit_id == unit_id)
    if status in STATUSES:
        query = query.where(Suggestion.status == status)
    if category in CATEGORIES:
        query = query.where(Suggestion.category == category)
    return query


def listing(campaign_id: int, unit_ids: Optional[set[int]], args: ListArgs, unit_id: Optional[int] = None,
            status: Optional[str] = None, category: Optional[str] = None) -> Page:
    """One page of suggestions, searched and sorted per ``args`` (default: newest day first)."""
    query = _filtered(select(Suggestion), campaign_id, unit_ids, unit_id, status, category)
    return page_of(SUGGESTION_LIST, query, args, entities=True)


def status_counts(campaign_id: Optional[int] = None, unit_ids: Optional[set[int]] = None,
                  unit_id: Optional[int] = None) -> dict[str, int]:
    """Suggestions per status (every status present, 0 when none), one grouped query."""
    query = select(Suggestion.status, func.count()).group_by(Suggestion.status)
    if campaign_id is not None:
        query = query.where(Suggestion.campaign_id == campaign_id)
    if unit_ids is not None:
        query = query.where(Suggestion.unit_id.in_(unit_ids))
    if unit_id is not None:
        query = query.where(Suggestion.unit_id == unit_id)
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(n) for status, n in db.session.execute(query)})
    counts["total"] = sum(counts[s] for s in STATUSES)
    return counts


def unit_summary(unit_id: int, limit: int = 20) -> dict:
    """Counts per status and the newest approved suggestions of one unit (for its pages)."""
    approved = list(db.session.scalars(
        select(Suggestion).where(Suggestion.unit_id == unit_id, Suggestion.status == "approved")
        .order_by(Suggestion.submitted_on.desc(), Suggestion.id.desc()).limit(limit)))
    return {"counts": status_counts(unit_id=unit_id), "approved": approved}


def export_chunks(campaign_id: int, unit_ids: Optional[set[int]], args: ListArgs, unit_id: Optional[int] = None,
                  status: Optional[str] = None, category: Optional[str] = None) -> Iterator[str]:
    """The suggestions as CSV text chunks, fetched in batches; text cells neutralised.

    The rows are the list's: same filters, same search, same order, every page.

    :func:`analysis.exports.csv_chunks` prefixes a quote to any cell starting with
    ``= + - @`` so a suggestion like ``=HYPERLINK(…)`` stays text in Excel.
    """
    yield next(csv_chunks(pd.DataFrame(columns=CSV_COLUMNS)))  # BOM + header
    query = _filtered(select(Suggestion.id, Unit.name, Suggestion.category, Suggestion.text, Suggestion.status,
                             Suggestion.submitted_on), campaign_id, unit_ids, unit_id, status, category)
    query = ordered(SUGGESTION_LIST, searched(SUGGESTION_LIST, query, args), args)
    result = db.session.execute(query.execution_options(yield_per=CSV_BATCH))
    for rows in result.partitions():
        frame = pd.DataFrame([tuple(r) for r in rows], columns=CSV_COLUMNS)
        frame["category"] = frame["category"].map(lambda k: str(CATEGORIES.get(k, k)))
        frame["status"] = frame["status"].map(lambda k: str(STATUSES.get(k, k)))
        frame["submitted_on"] = frame["submitted_on"].map(lambda d: d.isoformat())
        chunks = csv_chunks(frame, chunk_rows=CSV_BATCH)
        next(chunks)  # header already sent
        yield from chunks
