"""Questionnaires (测评表) on the organiser side: listing, copies, versions, the frozen rule.

A questionnaire is *frozen* once an evaluation using it has opened (or any
ballot or paper entry exists for it): raters have seen it and ballots point at
its items and options, so its rows must never change again. A change then goes
into a new version — a copy under the same key with ``version + 1`` — which new
evaluations pick up (``create_evaluation`` uses the latest version) while
existing evaluations keep pointing at the version they used.

Every change is written through :func:`change`, which appends a
``questionnaire_edit`` audit entry and commits both together, or rolls back
everything when the change is refused. Item and option edits live in
:mod:`evaluation.questionnaires.edits`.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator, Optional, Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from extensions import db
from ids import get_by_id
from models import Ballot, Evaluation, EvaluationStatus, Item, Option, PaperEntry, Questionnaire, Scale, Tally

from evaluation.accounts.audit import record
from evaluation.questionnaires.checks import is_quiz
from evaluation.services import ServiceError

KEY_RE = re.compile(r"[a-z0-9_-]{2,60}")
TITLE_MAX, INTRO_MAX, TEXT_MAX, LABEL_MAX, SCALE_NAME_MAX = 200, 5000, 500, 100, 100
MAX_ITEMS = 200


class FrozenError(ServiceError):
    """The questionnaire is frozen; the only way to change it is a new version."""

    def __init__(self, message: str, questionnaire_id: int) -> None:
        super().__init__(message)
        self.questionnaire_id = questionnaire_id


# --- reading ----------------------------------------------------------------------------------


def _in_use_ids(questionnaire_ids: Optional[Sequence[int]] = None) -> set[int]:
    """Ids of questionnaires with an opened (open or closed) evaluation, or any ballot, tally or paper entry."""
    opened = select(Evaluation.questionnaire_id).where(Evaluation.status != EvaluationStatus.DRAFT)
    voted = select(Evaluation.questionnaire_id).join(Ballot, Ballot.evaluation_id == Evaluation.id)
    counted = select(Evaluation.questionnaire_id).join(Tally, Tally.evaluation_id == Evaluation.id)
    keyed = select(Evaluation.questionnaire_id).join(PaperEntry, PaperEntry.evaluation_id == Evaluation.id)
    found: set[int] = set()
    for query in (opened, voted, counted, keyed):
        if questionnaire_ids is not None:
            query = query.where(Evaluation.questionnaire_id.in_(questionnaire_ids))
        found.update(db.session.scalars(query.distinct()))
    return found


def is_frozen(questionnaire: Questionnaire) -> bool:
    """True when the questionnaire may no longer be changed (see the module docstring)."""
    return questionnaire.frozen or questionnaire.id in _in_use_ids([questionnaire.id])


def ensure_editable(questionnaire: Questionnaire) -> None:
    """Raise :class:`FrozenError` unless the questionnaire may still be changed."""
    if is_frozen(questionnaire):
        raise FrozenError(
            _("测评表「%(title)s」第 %(version)s 版已被开启的测评使用,已冻结,不能再修改;"
              "如需修改,请新建版本(已有的测评继续使用本版本)。", title=questionnaire.title, version=questionnaire.version),
            questionnaire.id,
        )


def get(questionnaire_id: int, for_update: bool = False) -> Optional[Questionnaire]:
    """The questionnaire with this id, or None.

    ``for_update`` locks its row (PostgreSQL) so an edit and the opening of an
    evaluation using it, which sets ``frozen``, cannot interleave; SQLite
    serialises writers anyway.
    """
    return get_by_id(Questionnaire, questionnaire_id, with_for_update=for_update or None)


def questionnaire_rows() -> list[dict]:
    """One row per questionnaire for the list page: key, version, title, counts, frozen."""
    items = dict(db.session.execute(
        select(Item.questionnaire_id, func.count()).group_by(Item.questionnaire_id)).all())
    used = dict(db.session.execute(
        select(Evaluation.questionnaire_id, func.count()).group_by(Evaluation.questionnaire_id)).all())
    in_use = _in_use_ids()
    rows = []
    for q in db.session.scalars(select(Questionnaire).order_by(Questionnaire.key, Questionnaire.version)):
        rows.append({"id": q.id, "key": q.key, "version": q.version, "title": q.title,
                     "n_items": items.get(q.id, 0), "n_evaluations": used.get(q.id, 0),
                     "frozen": q.frozen or q.id in in_use})
    return rows


def evaluation_count(questionnaire: Questionnaire) -> int:
    """How many evaluations point at this version."""
    return db.session.scalar(select(func.count()).select_from(Evaluation)
                             .where(Evaluation.questionnaire_id == questionnaire.id))


def later_draft(questionnaire: Questionnaire) -> Optional[Questionnaire]:
    """A newer, still editable version of the same key, if there is one."""
    newer = db.session.scalars(select(Questionnaire).where(
        Questionnaire.key == questionnaire.key, Questionnaire.version > questionnaire.version)
        .order_by(Questionnaire.version.desc()))
    return next((q for q in newer if not is_frozen(q)), None)


def scales_of(questionnaire: Questionnaire) -> list[tuple[Scale, list[Item]]]:
    """The scales this questionnaire's items use, in item order, each with its items."""
    found: dict[int, tuple[Scale, list[Item]]] = {}
    for item in questionnaire.items:
        if item.scale is not None:
            found.setdefault(item.scale.id, (item.scale, []))[1].append(item)
    return list(found.values())


# --- shared by every edit ----------------------------------------------------------------------


def renumber(rows: Sequence[Item] | Sequence[Option]) -> None:
    """Give ``rows`` positions 1…n in this order without tripping the unique (parent, position) key.

    The database checks the key after each UPDATE, so rows first move to
    distinct negative positions, then to their final ones.
    """
    for index, row in enumerate(rows, start=1):
        row.position = -index
    db.session.flush()
    for index, row in enumerate(rows, start=1):
        row.position = index
    db.session.flush()


@contextmanager
def change(questionnaire: Questionnaire, what: str, **detail) -> Iterator[None]:
    """Run one edit of ``questionnaire``: audit and commit it, or roll it all back.

    The body raises :class:`ServiceError` to refuse; a unique-key clash (two
    organisers creating the same key or version at once) is refused too.
    """
    try:
        yield
        db.session.flush()
        record("questionnaire_edit", f"questionnaire:{questionnaire.id}", what=what, **detail)
        db.session.commit()
    except ServiceError:
        db.session.rollback()
        raise
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(_("另一位组织者刚刚作了冲突的修改,请刷新页面后重试。")) from None


# --- copies and versions --------------------------------------------------------------------------


def clone(source: Questionnaire, key: str, version: int, title: Optional[str] = None) -> Questionnaire:
    """An unsaved deep copy: items, and private copies of their scales and options.

    Items that shared a scale in ``source`` share its copy, so "edit the scale
    once" still holds; nothing is shared with ``source``, so edits never leak.
    A quiz keeps its pass mark, points, correct options and accepted answers.
    """
    copy = Questionnaire(key=key, version=version, title=title or source.title, intro=source.intro, frozen=False,
                         kind=source.kind, pass_mark=source.pass_mark)
    scales: dict[int, Scale] = {}
    for position, item in enumerate(source.items, start=1):
        scale = None
        if item.scale is not None:
            scale = scales.get(item.scale.id)
            if scale is None:
                scale = scales[item.scale.id] = Scale(name=item.scale.name, options=[
                    Option(label=o.label, position=n, score=o.score, polarity=o.polarity, correct=o.correct)
                    for n, o in enumerate(item.scale.options, start=1)])
        copy.items.append(Item(position=position, kind=item.kind, text=item.text, required=item.required,
                               scale=scale, points=item.points, accepted=item.accepted))
    return copy


def _key_taken(key: str) -> bool:
    return db.session.scalar(select(Questionnaire.id).where(Questionnaire.key == key).limit(1)) is not None


def copy_key(source_key: str, typed: Optional[str]) -> str:
    """The key of a copy: what was typed when it is a key already; otherwise one made for the organiser.

    Typed text is lower-cased with other characters turned into "-" ("Sat 2009" → "sat-2009");
    blank, or text with no letters or digits a key can hold (Chinese, say), gives the source's
    key + "-copy" (then "-copy-2" …), whichever is free. A typed key that is taken is refused by
    :func:`copy_questionnaire`: the organiser chose it.
    """
    typed = (typed or "").strip()
    if KEY_RE.fullmatch(typed):
        return typed
    slug = re.sub(r"[^a-z0-9_-]+", "-", typed.lower()).strip("-_")[:50]
    base = slug if len(slug) >= 2 else f"{source_key[:50]}-copy"
    candidate, n = base, 1
    while _key_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def copy_questionnaire(source: Questionnaire, key: Optional[str], title: Optional[str] = None) -> Questionnaire:
    """Copy any questionnaire (catalog or not, frozen or not) to a new key, version 1 (key: see :func:`copy_key`)."""
    key = copy_key(source.key, key)
    if not KEY_RE.fullmatch(key):
        raise ServiceError(_("键名须为 2–60 个小写字母、数字、下划线或连字符。"))
    if _key_taken(key):
        raise ServiceError(_("键名 %(key)s 已被使用,请换一个。", key=key))
    title = (title or "").strip() or source.title
    if len(title) > TITLE_MAX:
        raise ServiceError(_("标题最多 %(max)s 个字。", max=TITLE_MAX))
    copy = clone(source, key, 1, title)
    db.session.add(copy)
    with change(copy, "copy", source=source.id, source_key=source.key, source_version=source.version, key=key):
        pass
    return copy


def new_version(source: Questionnaire) -> Questionnaire:
    """Copy a frozen version to ``key`` with the next version number, editable again."""
    if not is_frozen(source):
        raise ServiceError(_("本版本尚未冻结,可以直接修改,无需新建版本。"))
    draft = later_draft(source)
    if draft is not None:
        raise ServiceError(_("已有可修改的新版本(第 %(version)s 版),请直接修改它。", version=draft.version))
    top = db.session.scalar(select(func.max(Questionnaire.version)).where(Questionnaire.key == source.key))
    copy = clone(source, source.key, (top or 0) + 1)
    db.session.add(copy)
    with change(copy, "new_version", source=source.id, key=source.key, version=copy.version):
        pass
    return copy


def update_meta(questionnaire: Questionnaire, title: str, intro: str, pass_mark: Optional[float] = None) -> None:
    """Change the title, the introduction raters read above the items and (a quiz's) pass mark."""
    ensure_editable(questionnaire)
    title, intro = (title or "").strip(), (intro or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise ServiceError(_("标题须为 1–%(max)s 个字。", max=TITLE_MAX))
    if len(intro) > INTRO_MAX:
        raise ServiceError(_("说明最多 %(max)s 个字。", max=INTRO_MAX))
    values = {"title": title, "intro": intro}
    if is_quiz(questionnaire) and pass_mark is not None:
        if not 0 <= pass_mark <= 100:
            raise ServiceError(_("及格分须在 0 到 100 之间。"))
        values["pass_mark"] = float(pass_mark)
    fields = [name for name, value in values.items() if getattr(questionnaire, name) != value]
    with change(questionnaire, "meta", fields=fields):
        for name, value in values.items():
            setattr(questionnaire, name, value)
