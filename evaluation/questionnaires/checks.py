"""The rules an edited questionnaire must keep, so that it can always be answered and scored.

Surveys (满意度、民主测评) score their rated items by polarity; quizzes (学习成果测试,
``Questionnaire.kind == "quiz"``) score keyed items by points against the
correct options or the accepted fill-in answers — the same rules the catalog
loader applies to its entries.
"""
from __future__ import annotations

import json
from typing import Iterable, Optional

from flask_babel import gettext as _

from models import Item, ItemKind, Polarity, Questionnaire, Scale

from evaluation.services import ServiceError

QUIZ = "quiz"
#: Catalog key of the report review (群众评议分析检查报告): rated like a survey, kept out of the overview.
REVIEW_KEY = "report_review"
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
        raise ServiceError(_("参考答案最多 %(count)s 个,每个最多 %(max)s 个字。", count=ACCEPTED_COUNT, max=ACCEPTED_MAX))
    return answers


def accepted_lines(item: Item) -> str:
    """An item's accepted answers as the editor shows them: one per line."""
    return "\n".join(json.loads(item.accepted or "[]"))


def check_scale(scale: Scale, kinds: Iterable[ItemKind]) -> None:
    """Refuse options that the items using them (of ``kinds``) could not work with."""
    options, kinds = scale.options, set(kinds)
    if len(options) < 2:
        raise ServiceError(_("选择题至少需要 2 个选项。"))
    if len(options) > MAX_OPTIONS:
        raise ServiceError(_("一个评价等次最多 %(max)s 个选项。", max=MAX_OPTIONS))
    labels = [o.label for o in options]
    if len(set(labels)) != len(labels):
        raise ServiceError(_("同一评价等次中的选项名称不能重复。"))
    polarities = {o.polarity for o in options}
    if ItemKind.SCALE in kinds and not {Polarity.POSITIVE, Polarity.NEGATIVE} <= polarities:
        raise ServiceError(_("评价题的评价等次至少要有一个肯定(正向)选项和一个否定(负向)选项,否则满意率无法计算"
                             "(“不了解”不计入有效票)。"))


def check_quiz_item(item: Item) -> None:
    """A keyed quiz item needs points and a usable key (one right option, some, or accepted answers)."""
    n = item.position
    if item.kind in KEYED_KINDS and not (item.points or 0) > 0:
        raise ServiceError(_("第 %(n)s 题:测试题须有大于 0 的分值。", n=n))
    if item.points is not None and item.points > 1000:
        raise ServiceError(_("第 %(n)s 题:分值最多 1000。", n=n))
    n_correct = sum(o.correct for o in item.scale.options) if item.scale is not None else 0
    if item.kind is ItemKind.SINGLE and n_correct != 1:
        raise ServiceError(_("第 %(n)s 题:单选题须恰好有一个正确选项。", n=n))
    if item.kind is ItemKind.MULTIPLE and n_correct == 0:
        raise ServiceError(_("第 %(n)s 题:多选题至少要有一个正确选项。", n=n))
    if item.kind is ItemKind.FILL and not json.loads(item.accepted or "[]"):
        raise ServiceError(_("第 %(n)s 题:填空题至少要有一个参考答案。", n=n))


def check_items(questionnaire: Questionnaire, items: Iterable[Item]) -> None:
    """Check ``items`` (the ones an edit touched) and every scale they use, against all its users."""
    quiz = is_quiz(questionnaire)
    for item in items:
        if item.kind not in kinds_for(questionnaire):
            raise ServiceError(_("此题型不能用于本测评表。"))
        if item.scale is not None:
            check_scale(item.scale, [i.kind for i in questionnaire.items if i.scale is item.scale])
        if quiz:
            check_quiz_item(item)
