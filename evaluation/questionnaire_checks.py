"""The rules an edited questionnaire must keep, so that it can always be answered and scored.

Surveys (满意度、民主测评) score their rated items by polarity; quizzes (学习成果测试,
``Questionnaire.kind == "quiz"``) score keyed items by points against the
correct options or the accepted fill-in answers — the same rules the catalog
loader applies to its entries.
"""
from __future__ import annotations

import json
from typing import Iterable, Optional

from models import Item, ItemKind, Polarity, Questionnaire, Scale

from .services import ServiceError

QUIZ = "quiz"
MAX_OPTIONS = 20
ACCEPTED_MAX, ACCEPTED_COUNT = 200, 20
SURVEY_KINDS = (ItemKind.SCALE, ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.TEXT)
QUIZ_KINDS = (ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.FILL, ItemKind.TEXT)
KEYED_KINDS = (ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.FILL)


def is_quiz(questionnaire: Questionnaire) -> bool:
    """True for a learning test (scored by points and keys, not by polarity)."""
    return getattr(questionnaire, "kind", None) == QUIZ


def kinds_for(questionnaire: Questionnaire) -> tuple[ItemKind, ...]:
    """The item kinds an organiser may choose in this questionnaire."""
    return QUIZ_KINDS if is_quiz(questionnaire) else SURVEY_KINDS


def uses_scale(kind: ItemKind) -> bool:
    """Choice kinds take their options from a scale; text and fill-in items have none."""
    return kind in (ItemKind.SCALE, ItemKind.SINGLE, ItemKind.MULTIPLE)


def parse_accepted(text: Optional[str]) -> list[str]:
    """Accepted fill-in answers, one per line, trimmed, blanks and repeats dropped."""
    answers = list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))
    if len(answers) > ACCEPTED_COUNT or any(len(a) > ACCEPTED_MAX for a in answers):
        raise ServiceError(f"参考答案最多 {ACCEPTED_COUNT} 个,每个最多 {ACCEPTED_MAX} 个字。"
                           f" / At most {ACCEPTED_COUNT} accepted answers of at most {ACCEPTED_MAX} characters.")
    return answers


def accepted_lines(item: Item) -> str:
    """An item's accepted answers as the editor shows them: one per line."""
    return "\n".join(json.loads(item.accepted or "[]"))


def check_scale(scale: Scale, kinds: Iterable[ItemKind]) -> None:
    """Refuse options that the items using them (of ``kinds``) could not work with."""
    options, kinds = scale.options, set(kinds)
    if len(options) < 2:
        raise ServiceError("选择题至少需要 2 个选项。 / A choice item needs at least 2 options.")
    if len(options) > MAX_OPTIONS:
        raise ServiceError(f"一个评价等次最多 {MAX_OPTIONS} 个选项。 / At most {MAX_OPTIONS} options.")
    labels = [o.label for o in options]
    if len(set(labels)) != len(labels):
        raise ServiceError("同一评价等次中的选项名称不能重复。 / Option labels must differ within a scale.")
    polarities = {o.polarity for o in options}
    if ItemKind.SCALE in kinds and not {Polarity.POSITIVE, Polarity.NEGATIVE} <= polarities:
        raise ServiceError(
            "评价题的评价等次至少要有一个肯定(正向)选项和一个否定(负向)选项,否则满意率无法计算"
            "(“不了解”不计入有效票)。 / A scale item needs at least one positive and one negative option: "
            "the rate is positive ÷ (positive + negative), so without both it could never be scored."
        )


def check_quiz_item(item: Item) -> None:
    """A keyed quiz item needs points and a usable key (one right option, some, or accepted answers)."""
    where = f"第 {item.position} 题 / item {item.position}: "
    if item.kind in KEYED_KINDS and not (item.points or 0) > 0:
        raise ServiceError(where + "测试题须有大于 0 的分值。 / A test question needs points above 0.")
    if item.points is not None and item.points > 1000:
        raise ServiceError(where + "分值最多 1000。 / At most 1000 points.")
    n_correct = sum(o.correct for o in item.scale.options) if item.scale is not None else 0
    if item.kind is ItemKind.SINGLE and n_correct != 1:
        raise ServiceError(where + "单选题须恰好有一个正确选项。 / A single-choice question needs exactly one "
                                   "correct option.")
    if item.kind is ItemKind.MULTIPLE and n_correct == 0:
        raise ServiceError(where + "多选题至少要有一个正确选项。 / A multiple-choice question needs a correct option.")
    if item.kind is ItemKind.FILL and not json.loads(item.accepted or "[]"):
        raise ServiceError(where + "填空题至少要有一个参考答案。 / A fill-in question needs an accepted answer.")


def check_items(questionnaire: Questionnaire, items: Iterable[Item]) -> None:
    """Check ``items`` (the ones an edit touched) and every scale they use, against all its users."""
    quiz = is_quiz(questionnaire)
    for item in items:
        if item.kind not in kinds_for(questionnaire):
            raise ServiceError("此题型不能用于本测评表。 / That kind of item does not belong in this questionnaire.")
        if item.scale is not None:
            check_scale(item.scale, [i.kind for i in questionnaire.items if i.scale is item.scale])
        if quiz:
            check_quiz_item(item)
