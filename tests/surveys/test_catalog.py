"""The built-in questionnaire catalog: three surveys and a learning test, their items, scales and polarity.

The ``app`` fixture loads the catalog exactly as the app does; these tests read
back what reached the database.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Item, ItemKind, Option, Polarity, Questionnaire, Scale
from surveys.catalog import catalog_files, latest, load_catalog, read_entry

CJK = re.compile(r"[\u4e00-\u9fff]")
P, N, U = Polarity.POSITIVE, Polarity.NEGATIVE, Polarity.UNKNOWN


def _scale_of(questionnaire: Questionnaire) -> list[tuple[str, Polarity]]:
    first = next(i for i in questionnaire.items if i.kind is ItemKind.SCALE)
    return [(o.label, o.polarity) for o in first.scale.options]


def test_four_questionnaires_with_known_keys(app):
    with app.app_context():
        keys = sorted(db.session.scalars(select(Questionnaire.key)))
    assert keys == ["learning_test", "meeting", "report_review", "satisfaction"]


@pytest.mark.parametrize("key", ["satisfaction", "meeting", "report_review", "learning_test"])
def test_chinese_title_and_intro(app, key):
    with app.app_context():
        q = latest(key)
        assert q.version == 1
        assert CJK.search(q.title) and len(q.title) >= 8
        assert CJK.search(q.intro) and len(q.intro) >= 20
        # one short paragraph: the page itself states the secrecy first, the intro does not repeat it
        assert "无记名" not in q.intro and "\n" not in q.intro and len(q.intro) <= 120
        assert not q.intro.startswith((" ", "\n")) and not q.intro.endswith((" ", "\n"))


def test_satisfaction_items_and_scale(app):
    with app.app_context():
        q = latest("satisfaction")
        assert "满意度测评" in q.title
        scale_items = [i.text for i in q.items if i.kind is ItemKind.SCALE]
        assert scale_items == [
            "开展学习实践活动的总体评价", "查找突出问题情况", "解决群众反映强烈的突出问题情况",
            "领导班子带头讲党性、重品行、作表率情况", "转变作风提高效能、创新体制机制情况", "整改落实情况",
        ]
        assert _scale_of(q) == [("满意", P), ("比较满意", P), ("基本满意", P), ("不满意", N), ("不了解", U)]
        # every rated item shares the same five-point scale
        assert len({i.scale_id for i in q.items if i.kind is ItemKind.SCALE}) == 1
        last = q.items[-1]
        assert last.kind is ItemKind.TEXT and last.text == "意见和建议" and last.required is False
        assert [i.position for i in q.items] == list(range(1, len(q.items) + 1))


def test_meeting_scale(app):
    with app.app_context():
        q = latest("meeting")
        assert "民主生活会" in q.title and "民主测评" in q.title
        assert _scale_of(q) == [("好", P), ("较好", P), ("一般", N), ("差", N)]
        assert sum(i.kind is ItemKind.SCALE for i in q.items) >= 4


def test_report_review_items_each_graded_x_somewhat_x_not_x(app):
    with app.app_context():
        q = latest("report_review")
        assert "分析检查报告" in q.title
        rated = [i for i in q.items if i.kind is ItemKind.SCALE]
        texts = "".join(i.text for i in rated)
        for phrase in ("征求意见范围广不广", "认识深不深", "查找准不准", "原因分析透不透", "发展思路清不清",
                       "整改措施实不实", "可行不可行"):
            assert phrase in texts, phrase
        for item in rated:
            labels = [o.label for o in item.scale.options]
            polarities = [o.polarity for o in item.scale.options]
            x = labels[0]
            assert labels == [x, "较" + x, "不" + x], item.text
            assert polarities == [P, P, N]
            # the item asks "X 不 X" about the very word its scale grades
            assert f"{x}不{x}" in item.text, item.text


def test_required_flags_and_scores(app):
    with app.app_context():
        for q in db.session.scalars(select(Questionnaire)):
            for item in q.items:
                if item.kind is ItemKind.TEXT:
                    assert item.scale is None and item.required is False
                elif item.kind is ItemKind.FILL:  # learning test: typed answer, no options
                    assert item.scale is None and item.required is True and item.accepted
                else:
                    assert item.required is True and item.scale is not None
                    positions = [o.position for o in item.scale.options]
                    assert positions == sorted(positions) == list(range(1, len(positions) + 1))
                    scored = [o.score for o in item.scale.options if o.polarity is not U]
                    assert scored == sorted(scored, reverse=True), "scores fall from best to worst"


def _counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Questionnaire, Item, Scale, Option))


def test_loading_twice_adds_nothing(app):
    with app.app_context():
        before = _counts()
        assert before[0] == 4
        assert load_catalog() == []
        assert load_catalog() == []
        assert _counts() == before


def test_loading_from_a_second_app_adds_nothing(app, database_url):
    from app import create_app

    with app.app_context():
        before = _counts()
    other = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with other.app_context():
        assert load_catalog() == []
        assert _counts() == before
        db.session.remove()
        db.engine.dispose()


def test_loader_leaves_a_frozen_questionnaire_alone(app, campaign):
    """Opening an evaluation freezes its questionnaire; reloading must not touch it."""
    with app.app_context():
        q = latest("satisfaction")
        assert q.frozen is True
        items = [(i.id, i.text) for i in q.items]
        load_catalog()
        db.session.expire_all()
        q = latest("satisfaction")
        assert q.frozen is True and [(i.id, i.text) for i in q.items] == items


def test_catalog_files_are_complete_data(tmp_path):
    files = catalog_files()
    assert {p.stem for p in files} == {"satisfaction", "meeting", "report_review", "learning_test"}
    for path in files:
        entry = read_entry(path)
        assert entry["key"] == path.stem
    broken = tmp_path / "broken.yaml"
    broken.write_text("key: x\ntitle: 标题\n", encoding="utf-8")
    with pytest.raises(ValueError, match="items"):
        read_entry(broken)
