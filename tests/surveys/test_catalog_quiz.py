"""The learning test in the catalog (学习成果测试) and the quiz fields of the catalog loader."""
from __future__ import annotations

import copy
import json

import pytest

from models import ItemKind, Polarity
from surveys.catalog import CATALOG_DIR, build_questionnaire, latest, read_entry

QUIZ = {
    "key": "q", "kind": "quiz", "title": "测验", "items": [
        {"kind": "single", "points": 60, "text": "单选", "options": [{"label": "甲", "correct": True}, {"label": "乙"}]},
        {"kind": "fill", "points": 40, "text": "填空", "accepted": ["对"]},
    ],
}


def test_learning_test_is_a_100_point_quiz_with_pass_mark_80(app):
    with app.app_context():
        q = latest("learning_test")
        assert q.kind == "quiz" and q.pass_mark == 80.0 and "学习成果测试" in q.title
        assert sum(i.points for i in q.items) == 100.0
        kinds = [i.kind for i in q.items]
        assert {ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.FILL} == set(kinds)
        assert all(i.required for i in q.items)


def test_learning_test_items_carry_their_keys(app):
    with app.app_context():
        for item in latest("learning_test").items:
            if item.kind is ItemKind.FILL:
                assert item.scale is None and json.loads(item.accepted)
                continue
            options = item.scale.options
            n_correct = sum(o.correct for o in options)
            assert n_correct == 1 if item.kind is ItemKind.SINGLE else n_correct >= 2, item.text
            assert n_correct < len(options)
            # quiz options are no satisfaction scale: they never count in a rate
            assert {o.polarity for o in options} == {Polarity.UNKNOWN}
        # each choice question has its own options: nothing shared between questions
        scales = [i.scale_id for i in latest("learning_test").items if i.scale_id]
        assert len(scales) == len(set(scales))


def test_learning_test_covers_the_campaign(app):
    """Questions on 科学发展观 and the campaign's stages from the seed speech."""
    with app.app_context():
        q = latest("learning_test")
        words = " ".join([i.text for i in q.items] + [o.label for i in q.items if i.scale for o in i.scale.options])
    for phrase in ("科学发展观", "3 个阶段、6 个环节", "四查找四明确", "四不通过", "四明确", "三对比", "四个一次"):
        assert phrase in words, phrase


def test_survey_entries_keep_their_defaults(app):
    with app.app_context():
        q = latest("satisfaction")
        assert q.kind == "survey" and q.pass_mark == 80.0
        assert all(i.points is None and i.accepted is None for i in q.items)
        assert not any(o.correct for i in q.items if i.scale for o in i.scale.options)


def test_build_questionnaire_reads_quiz_fields():
    q = build_questionnaire(copy.deepcopy(QUIZ))
    assert q.kind == "quiz" and q.pass_mark == 80.0  # the default pass mark
    single, fill = q.items
    assert single.points == 60.0 and [(o.label, o.correct) for o in single.scale.options] == [("甲", True), ("乙", False)]
    assert fill.kind is ItemKind.FILL and json.loads(fill.accepted) == ["对"] and fill.scale is None


@pytest.mark.parametrize("change, phrase", [
    (lambda d: d["items"][0]["options"][1].update(correct=True), "exactly one correct"),
    (lambda d: d["items"][0]["options"][0].update(correct=False), "exactly one correct"),
    (lambda d: d["items"][1].update(accepted=[]), "accepted"),
    (lambda d: d["items"][1].pop("points"), "points"),
])
def test_broken_quiz_entries_are_refused(change, phrase):
    data = copy.deepcopy(QUIZ)
    change(data)
    with pytest.raises(ValueError, match=phrase):
        build_questionnaire(data)


def test_catalog_file_parses():
    entry = read_entry(CATALOG_DIR / "learning_test.yaml")
    assert entry["key"] == "learning_test" and entry["kind"] == "quiz"
