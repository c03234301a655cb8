"""Editing a questionnaire's items and the options of its scales.

Each function takes a questionnaire loaded with ``questionnaires.get(id,
for_update=True)``, refuses when it is frozen, applies the change, checks the
result (:mod:`evaluation.questionnaires.checks`) and commits it with its audit
entry — or rolls everything back and raises :class:`ServiceError`. Ids that
come from a form are checked against *this* questionnaire, so an id forged
from another one is refused.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Optional, Union

from flask_babel import gettext as _
from sqlalchemy import select

from extensions import db
from models import Item, ItemKind, Option, Polarity, Questionnaire, Scale

from evaluation.questionnaires.checks import MAX_OPTIONS, check_items, is_quiz, parse_accepted, uses_scale
from evaluation.questionnaires.services import LABEL_MAX, MAX_ITEMS, SCALE_NAME_MAX, TEXT_MAX, change, ensure_editable, renumber, scales_of
from evaluation.services import ServiceError

NEW_SCALE = "new"
ACTION_RE = re.compile(r"(up|down|delete):(\d{1,12})")
# Starting options of a new scale, (label, score, polarity, correct); organisers then edit them.
_STARTER = {
    "scale": [("满意", 100.0, Polarity.POSITIVE, False), ("比较满意", 80.0, Polarity.POSITIVE, False),
              ("基本满意", 60.0, Polarity.POSITIVE, False), ("不满意", 0.0, Polarity.NEGATIVE, False),
              ("不了解", None, Polarity.UNKNOWN, False)],
    "choice": [("选项一", None, Polarity.UNKNOWN, False), ("选项二", None, Polarity.UNKNOWN, False)],
    "quiz": [("选项一", None, Polarity.UNKNOWN, True), ("选项二", None, Polarity.UNKNOWN, False)],
}


class NotInQuestionnaire(ServiceError):
    """An item, scale or option id that does not belong to this questionnaire (a 404)."""


@dataclass
class ItemSpec:
    """What an organiser submits for one item; quiz fields are ignored in a survey."""

    text: str
    kind: ItemKind
    required: bool = True
    scale: Union[str, int, None] = NEW_SCALE  # NEW_SCALE or the id of one of this questionnaire's scales
    points: Optional[float] = None
    accepted: str = ""  # fill-in answers, one per line


def item_of(questionnaire: Questionnaire, item_id: int) -> Item:
    """The item with this id *in this questionnaire*."""
    item = next((i for i in questionnaire.items if i.id == item_id), None)
    if item is None:
        raise NotInQuestionnaire(_("本测评表中没有第 %(id)s 号题目。", id=item_id))
    return item


def scale_of(questionnaire: Questionnaire, scale_id: int) -> tuple[Scale, list[Item]]:
    """A scale used by this questionnaire's items, with those items."""
    for scale, items in scales_of(questionnaire):
        if scale.id == scale_id:
            return scale, items
    raise NotInQuestionnaire(_("本测评表中没有第 %(id)s 号评价等次。", id=scale_id))


def _ensure_private(questionnaire: Questionnaire, scale: Scale) -> None:
    """Refuse to edit a scale another questionnaire's items also use (the change would leak there)."""
    others = db.session.scalar(select(Item.id).where(Item.scale_id == scale.id,
                                                     Item.questionnaire_id != questionnaire.id).limit(1))
    if others is not None:
        raise ServiceError(_("此评价等次也被其他测评表使用,不能在这里修改;请先复制测评表(复制会带上独立的评价等次)。"))


def _drop_if_unused(scale: Optional[Scale]) -> None:
    """Delete a scale (and its options) that no item uses any more."""
    if scale is not None and db.session.scalar(select(Item.id).where(Item.scale_id == scale.id).limit(1)) is None:
        db.session.delete(scale)


def _starter_scale(questionnaire: Questionnaire, kind: ItemKind) -> Scale:
    starter = "quiz" if is_quiz(questionnaire) else ("scale" if kind is ItemKind.SCALE else "choice")
    return Scale(name="满意度" if starter == "scale" else "选项", options=[
        Option(label=label, position=n, score=score, polarity=polarity, correct=correct)
        for n, (label, score, polarity, correct) in enumerate(_STARTER[starter], start=1)])


def _resolve_scale(questionnaire: Questionnaire, kind: ItemKind, choice: Union[str, int, None]) -> Optional[Scale]:
    """The scale an item of ``kind`` gets: none for text and fill-in, a new one, or one of this questionnaire's."""
    if not uses_scale(kind):
        return None
    if choice in (None, "", NEW_SCALE):
        return _starter_scale(questionnaire, kind)
    try:
        scale, _items = scale_of(questionnaire, int(choice))
    except (TypeError, ValueError, NotInQuestionnaire):
        raise ServiceError(_("所选评价等次不属于本测评表。")) from None
    return scale


def _apply_spec(questionnaire: Questionnaire, item: Item, spec: ItemSpec) -> None:
    """Set an item's fields from ``spec`` (validated by :func:`check_items` afterwards)."""
    text = (spec.text or "").strip()
    if not text or len(text) > TEXT_MAX:
        raise ServiceError(_("题目内容须为 1–%(max)s 个字。", max=TEXT_MAX))
    if spec.points is not None and not math.isfinite(spec.points):
        raise ServiceError(_("分值须为有限的数字。"))
    quiz = is_quiz(questionnaire)
    item.text, item.kind, item.required = text, spec.kind, bool(spec.required)
    item.points = spec.points if quiz and spec.kind is not ItemKind.TEXT else None
    accepted = parse_accepted(spec.accepted) if quiz and spec.kind is ItemKind.FILL else None
    item.accepted = json.dumps(accepted, ensure_ascii=False) if accepted is not None else None
    item.scale = _resolve_scale(questionnaire, spec.kind, spec.scale)


def add_item(questionnaire: Questionnaire, spec: ItemSpec) -> Item:
    """Append an item at the end of the questionnaire."""
    ensure_editable(questionnaire)
    if len(questionnaire.items) >= MAX_ITEMS:
        raise ServiceError(_("一份测评表最多 %(max)s 道题。", max=MAX_ITEMS))
    item = Item(position=len(questionnaire.items) + 1)
    with change(questionnaire, "item_add", kind=spec.kind.value):
        _apply_spec(questionnaire, item, spec)
        questionnaire.items.append(item)
        renumber(list(questionnaire.items))
        check_items(questionnaire, [item])
    return item


def edit_item(questionnaire: Questionnaire, item: Item, spec: ItemSpec) -> None:
    """Change an item's text, kind, required flag, scale and (in a quiz) points and accepted answers."""
    ensure_editable(questionnaire)
    old_scale = item.scale
    with change(questionnaire, "item_edit", item=item.id, position=item.position, kind=spec.kind.value):
        _apply_spec(questionnaire, item, spec)
        db.session.flush()
        check_items(questionnaire, [item])
        if old_scale is not None and old_scale is not item.scale:
            check_items(questionnaire, [i for i in questionnaire.items if i.scale is old_scale])
            _drop_if_unused(old_scale)


def item_to_delete(questionnaire: Questionnaire, action: str) -> Optional[Item]:
    """The item ``delete:<id>`` names (None for a move); malformed or foreign ids are refused as in :func:`item_action`."""
    verb, item = _parse_action(action, lambda item_id: item_of(questionnaire, item_id))
    return item if verb == "delete" else None


def item_action(questionnaire: Questionnaire, action: str) -> str:
    """Move an item up or down, or delete it: ``action`` is ``up:<id>``, ``down:<id>`` or ``delete:<id>``."""
    ensure_editable(questionnaire)
    verb, item = _parse_action(action, lambda item_id: item_of(questionnaire, item_id))
    items = list(questionnaire.items)
    with change(questionnaire, f"item_{verb}", item=item.id, position=item.position):
        if verb == "delete":
            if len(items) == 1:
                raise ServiceError(_("测评表至少要有一道题。"))
            scale = item.scale
            questionnaire.items.remove(item)
            db.session.flush()
            _drop_if_unused(scale)
            renumber([i for i in items if i is not item])
        else:
            renumber(_moved(items, item, verb))
    return verb


def update_scale(questionnaire: Questionnaire, scale: Scale, name: str, rows: list[dict],
                 action: str = "save") -> str:
    """Save all options of a scale at once, then apply ``action``.

    ``rows`` are ``{"id", "label", "score", "polarity", "correct"}`` for exactly
    the scale's options (a stale or forged list is refused). ``action`` is
    ``save``, ``add``, or ``up:<option id>``, ``down:<id>``, ``delete:<id>``.
    The result is checked as a whole, so polarities can be swapped in one save.
    """
    ensure_editable(questionnaire)
    _ensure_private(questionnaire, scale)
    name = (name or "").strip()
    if not name or len(name) > SCALE_NAME_MAX:
        raise ServiceError(_("评价等次名称须为 1–%(max)s 个字。", max=SCALE_NAME_MAX))
    options = {o.id: o for o in scale.options}
    if sorted(row.get("id") or 0 for row in rows) != sorted(options):
        raise ServiceError(_("提交的选项与当前评价等次不符(可能已被他人修改),请刷新页面后重试。"))
    verb = "save" if action in (None, "", "save") else action
    with change(questionnaire, "scale_" + verb.split(":")[0], scale=scale.id):
        scale.name = name
        for row in rows:
            _apply_option(options[row["id"]], row, is_quiz(questionnaire))
        ordered = list(scale.options)
        if verb == "add":
            if len(ordered) >= MAX_OPTIONS:
                raise ServiceError(_("一个评价等次最多 %(max)s 个选项。", max=MAX_OPTIONS))
            taken = {o.label for o in ordered}
            label = next(f"新选项 {n}" for n in range(1, MAX_OPTIONS + 2) if f"新选项 {n}" not in taken)
            scale.options.append(Option(label=label, position=len(ordered) + 1, polarity=Polarity.UNKNOWN))
        elif verb != "save":
            verb, option = _parse_action(verb, lambda option_id: _option_of(options, option_id))
            if verb == "delete":
                scale.options.remove(option)
                db.session.flush()
                renumber([o for o in ordered if o is not option])
            else:
                renumber(_moved(ordered, option, verb))
        db.session.flush()
        check_items(questionnaire, [i for i in questionnaire.items if i.scale is scale])
    return verb


def _apply_option(option: Option, row: dict, quiz: bool) -> None:
    label = (row.get("label") or "").strip()
    if not label or len(label) > LABEL_MAX:
        raise ServiceError(_("选项名称须为 1–%(max)s 个字。", max=LABEL_MAX))
    score = row.get("score")
    if score is not None and (not isinstance(score, (int, float)) or not math.isfinite(score) or abs(score) > 1e6):
        raise ServiceError(_("分值须为有限的数字。"))
    try:
        polarity = Polarity(row.get("polarity"))
    except ValueError:
        raise ServiceError(_("倾向须为肯定、否定或不计。")) from None
    option.label, option.score, option.polarity = label, score, polarity
    if quiz:  # a survey's options carry no key; leave the column alone there
        option.correct = bool(row.get("correct"))


def _option_of(options: dict[int, Option], option_id: int) -> Option:
    if option_id not in options:
        raise ServiceError(_("本评价等次中没有第 %(id)s 号选项。", id=option_id))
    return options[option_id]


def _parse_action(action: str, lookup):
    """``up:<id>`` → ("up", lookup(id)); anything malformed is refused."""
    match = ACTION_RE.fullmatch(action or "")
    if match is None:
        raise ServiceError(_("操作无效。"))
    return match.group(1), lookup(int(match.group(2)))


def _moved(rows: list, row, direction: str) -> list:
    """``rows`` with ``row`` swapped with its neighbour above or below (unchanged at either end)."""
    rows = list(rows)
    index = rows.index(row)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    return rows
