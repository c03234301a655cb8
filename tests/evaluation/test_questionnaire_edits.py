"""The questionnaire editor: items, options and polarity, learning-test keys; refusals change nothing.

Every refused request must answer 400 or 404 with its reason and leave the
database exactly as it was (:func:`questionnaire_data.snapshot`).
"""
from __future__ import annotations

import pytest

from extensions import db
from models import Item, ItemKind, Questionnaire, Scale
from tests.evaluation.html_forms import post_confirmed

from questionnaire_data import (  # noqa: F401  (organiser and quiz are fixtures)
    BASE, audit, copy, ids, items_of, organiser, quiz, quiz_items, scale_form, snapshot,
)


# --- editing items ----------------------------------------------------------------------------------


def test_items_reorder_delete_add_and_change_kind(app, organiser, campaign):
    qid = copy(organiser, "meeting", "m2")
    got = ids(app, qid)
    first, second, last = got["items"][0], got["items"][1], got["items"][-1]
    assert organiser.post(f"{BASE}/{qid}/items", data={"action": f"down:{first}"}).status_code == 302
    assert ids(app, qid)["items"][:2] == [second, first]
    assert organiser.post(f"{BASE}/{qid}/items", data={"action": f"up:{first}"}).status_code == 302
    assert organiser.post(f"{BASE}/{qid}/items", data={"action": f"up:{first}"}).status_code == 302  # at the top
    assert ids(app, qid)["items"][:2] == [first, second]
    assert organiser.post(f"{BASE}/{qid}/items", data={"action": f"delete:{second}",
                                                        "confirm": "2"}).status_code  # asked on its own page == 302
    after = items_of(app, qid)
    assert [i[0] for i in after] == [1, 2, 3, 4, 5] and second not in ids(app, qid)["items"]

    # a new single-choice item with a fresh scale, then the text item turned into a rated one
    r = organiser.post(f"{BASE}/{qid}/items/new", data={"text": "您是否参加了民主生活会?", "kind": "single",
                                                        "scale": "new"})
    assert r.status_code == 302
    added = items_of(app, qid)[-1]
    assert added[:4] == (6, "single", "您是否参加了民主生活会?", False) and len(added[4]) == 2
    shared = got["scales"][0][0]
    r = organiser.post(f"{BASE}/{qid}/items/{last}", data={"text": "总体上您满意吗", "kind": "scale",
                                                           "required": "y", "scale": str(shared)})
    assert r.status_code == 302
    with app.app_context():
        item = db.session.get(Item, last)
        assert (item.kind, item.scale_id, item.required) == (ItemKind.SCALE, shared, True)

    # turning the single-choice item into free text drops its now unused scale
    new_item = ids(app, qid)["items"][-1]
    with app.app_context():
        orphan = db.session.get(Item, new_item).scale_id
    r = organiser.post(f"{BASE}/{qid}/items/{new_item}", data={"text": "您的建议", "kind": "text"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Item, new_item).scale_id is None
        assert db.session.get(Scale, orphan) is None


def test_the_last_item_cannot_be_deleted(app, organiser, campaign):
    qid = copy(organiser, "meeting", "m3")
    for item_id in ids(app, qid)["items"][:-1]:
        assert post_confirmed(organiser, f"{BASE}/{qid}/items", {"action": f"delete:{item_id}"}).status_code == 302
    before = snapshot(app)
    response = organiser.post(f"{BASE}/{qid}/items", data={"action": f"delete:{ids(app, qid)['items'][0]}"})
    assert response.status_code == 400 and "至少要有一道题" in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize("data, message", [
    ({"text": "", "kind": "scale", "scale": "new"}, "此项必填"),
    ({"text": "字" * 501, "kind": "scale", "scale": "new"}, "最多 500 个字"),
    ({"text": "题", "kind": "essay", "scale": "new"}, "不是有效的选择"),
    ({"text": "题", "scale": "new"}, "此项必填"),
    ({"text": "题", "kind": "scale", "scale": "abc"}, "不是有效的选择"),
])
def test_item_fields_are_validated(app, organiser, campaign, data, message):
    qid = copy(organiser, "meeting", "m4")
    item_id = ids(app, qid)["items"][0]
    before = snapshot(app)
    for url in (f"{BASE}/{qid}/items/new", f"{BASE}/{qid}/items/{item_id}"):
        response = organiser.post(url, data=data)
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_scale_item_needs_a_positive_and_a_negative_option(app, organiser, campaign):
    """A single-choice scale with unknown polarities cannot back a rated item."""
    qid = copy(organiser, "meeting", "m5")
    organiser.post(f"{BASE}/{qid}/items/new", data={"text": "是否参加", "kind": "single", "scale": "new"})
    got = ids(app, qid)
    single_scale = got["scales"][-1][0]
    before = snapshot(app)
    response = organiser.post(f"{BASE}/{qid}/items/{got['items'][0]}",
                              data={"text": "总体评价", "kind": "scale", "required": "y", "scale": str(single_scale)})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "至少要有一个肯定" in body and "否定" in body and "could never be scored" not in body
    organiser.get("/lang/en")  # the same refusal, in English
    response = organiser.post(f"{BASE}/{qid}/items/{got['items'][0]}",
                              data={"text": "总体评价", "kind": "scale", "required": "y", "scale": str(single_scale)})
    assert response.status_code == 400 and "could never be scored" in response.get_data(as_text=True)
    assert snapshot(app) == before


# --- editing options --------------------------------------------------------------------------------


def test_options_add_reorder_delete_and_swap_polarity(app, organiser, campaign):
    qid = copy(organiser, "report_review", "rr")
    scale_id, option_ids = ids(app, qid)["scales"][0]  # 广 / 较广 / 不广
    r = organiser.post(f"{BASE}/{qid}/scales/{scale_id}", data=scale_form(app, scale_id, action="add"))
    assert r.status_code == 302
    labels = [o[0] for o in items_of(app, qid)[0][4]]
    assert labels == ["广", "较广", "不广", "新选项 1"]
    r = organiser.post(f"{BASE}/{qid}/scales/{scale_id}",
                       data=scale_form(app, scale_id, {3: {"label": "不了解"}}, action=f"up:{option_ids[2]}"))
    assert r.status_code == 302  # the pending label edit is saved together with the move
    assert items_of(app, qid)[0][4] == [("广", "positive"), ("不广", "negative"), ("较广", "positive"),
                                        ("不了解", "unknown")]
    assert organiser.post(f"{BASE}/{qid}/scales/{scale_id}",
                          data=scale_form(app, scale_id, action=f"delete:{option_ids[1]}")).status_code == 302
    # two options left: swapping their polarities is one valid save
    new_ids = ids(app, qid)["scales"][0][1]
    r = organiser.post(f"{BASE}/{qid}/scales/{scale_id}", data=scale_form(
        app, scale_id, {0: {"polarity": "negative", "score": "0"}, 1: {"polarity": "positive", "score": "100"}},
        action=f"delete:{new_ids[2]}"))
    assert r.status_code == 302
    assert items_of(app, qid)[0][4] == [("广", "negative"), ("不广", "positive")]
    with app.app_context():
        assert [o.position for o in db.session.get(Scale, scale_id).options] == [1, 2]
        assert [o.score for o in db.session.get(Scale, scale_id).options] == [0.0, 100.0]


@pytest.mark.parametrize("changes, action, message", [
    ({0: {"polarity": "negative"}, 1: {"polarity": "unknown"}}, "save", "至少要有一个肯定"),
    ({1: {"polarity": "positive"}, 2: {"polarity": "unknown"}}, "save", "至少要有一个肯定"),
    ({0: {"label": "x" * 101}}, "save", "最多 100 个字"),
    ({0: {"label": ""}}, "save", "此项必填"),
    ({0: {"label": "不广"}}, "save", "不能重复"),
    ({0: {"score": "abc"}}, "save", "分值须为数字"),
    ({0: {"score": "nan"}}, "save", "有限的数字"),
    ({0: {"score": "inf"}}, "save", "有限的数字"),
    ({0: {"polarity": "maybe"}}, "save", "不是有效的选择"),
    ({}, "explode", "操作无效"),
    ({}, "up:abc", "操作无效"),
])
def test_option_edits_are_validated(app, organiser, campaign, changes, action, message):
    qid = copy(organiser, "report_review", "rv")
    scale_id = ids(app, qid)["scales"][0][0]
    before = snapshot(app)
    response = organiser.post(f"{BASE}/{qid}/scales/{scale_id}", data=scale_form(app, scale_id, changes, action))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_choice_needs_two_options(app, organiser, campaign):
    qid = copy(organiser, "report_review", "rv2")
    organiser.post(f"{BASE}/{qid}/items/new", data={"text": "是否阅读了报告", "kind": "single", "scale": "new"})
    scale_id, option_ids = ids(app, qid)["scales"][-1]
    before = snapshot(app)
    response = organiser.post(f"{BASE}/{qid}/scales/{scale_id}",
                              data=scale_form(app, scale_id, action=f"delete:{option_ids[0]}"))
    assert response.status_code == 400 and "至少需要 2 个选项" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_scale_name_is_required(app, organiser, campaign):
    qid = copy(organiser, "report_review", "rv3")
    scale_id = ids(app, qid)["scales"][0][0]
    before = snapshot(app)
    response = organiser.post(f"{BASE}/{qid}/scales/{scale_id}", data=scale_form(app, scale_id, name=""))
    assert response.status_code == 400 and "此项必填" in response.get_data(as_text=True)
    assert snapshot(app) == before


# --- forged ids and malformed requests --------------------------------------------------------------


def test_forged_ids_from_another_questionnaire_are_refused(app, organiser, campaign):
    mine = copy(organiser, "meeting", "mine")
    other = copy(organiser, "report_review", "other")
    my, theirs = ids(app, mine), ids(app, other)
    my_scale, my_options = my["scales"][0]
    their_scale, their_options = theirs["scales"][0]
    before = snapshot(app)
    statuses = {
        "item of other in url": organiser.post(f"{BASE}/{mine}/items/{theirs['items'][0]}",
                                               data={"text": "x", "kind": "text"}).status_code,
        "get item of other": organiser.get(f"{BASE}/{mine}/items/{theirs['items'][0]}").status_code,
        "move item of other": organiser.post(f"{BASE}/{mine}/items",
                                             data={"action": f"up:{theirs['items'][1]}"}).status_code,
        "delete item of other": organiser.post(f"{BASE}/{mine}/items",
                                               data={"action": f"delete:{theirs['items'][0]}"}).status_code,
        "scale of other in url": organiser.post(f"{BASE}/{mine}/scales/{their_scale}",
                                                data=scale_form(app, their_scale)).status_code,
        "item uses scale of other": organiser.post(f"{BASE}/{mine}/items/{my['items'][0]}", data={
            "text": "x", "kind": "scale", "scale": str(their_scale)}).status_code,
        "option of other in form": organiser.post(f"{BASE}/{mine}/scales/{my_scale}", data=scale_form(
            app, my_scale, {0: {"id": str(their_options[0])}})).status_code,
        "option of other in action": organiser.post(f"{BASE}/{mine}/scales/{my_scale}", data=scale_form(
            app, my_scale, action=f"delete:{their_options[0]}")).status_code,
        "option list short": organiser.post(f"{BASE}/{mine}/scales/{my_scale}", data={
            k: v for k, v in scale_form(app, my_scale).items() if not k.startswith("options-3-")}).status_code,
        "option id not a number": organiser.post(f"{BASE}/{mine}/scales/{my_scale}", data=scale_form(
            app, my_scale, {0: {"id": "one"}})).status_code,
        "missing action": organiser.post(f"{BASE}/{mine}/items", data={}).status_code,
        "unknown item id": organiser.post(f"{BASE}/{mine}/items", data={"action": "delete:999999999"}).status_code,
        "missing questionnaire": organiser.post(f"{BASE}/999999/items", data={"action": "delete:1"}).status_code,
        "unknown scale": organiser.get(f"{BASE}/{mine}/scales/999999").status_code,
        "meta without title": organiser.post(f"{BASE}/{mine}/meta", data={"intro": "x"}).status_code,
        "meta title too long": organiser.post(f"{BASE}/{mine}/meta", data={"title": "标" * 201}).status_code,
    }
    expected = {name: 404 for name in ("item of other in url", "get item of other", "move item of other",
                                       "delete item of other", "scale of other in url", "unknown item id",
                                       "missing questionnaire", "unknown scale")}
    assert statuses == {name: expected.get(name, 400) for name in statuses}
    assert snapshot(app) == before
    assert [e[2]["what"] for e in audit(app) if e[0] == "questionnaire_edit"] == ["copy", "copy"]


def test_meta_edit_and_pages_render(app, organiser, campaign):
    qid = copy(organiser, "meeting", "m6")
    r = organiser.post(f"{BASE}/{qid}/meta", data={"title": "新的测评表", "intro": "第一段\n第二段"})
    assert r.status_code == 302
    with app.app_context():
        q = db.session.get(Questionnaire, qid)
        assert (q.title, q.intro) == ("新的测评表", "第一段\n第二段")
    got = ids(app, qid)
    for url in (f"{BASE}/{qid}", f"{BASE}/{qid}/items/new", f"{BASE}/{qid}/items/{got['items'][0]}",
                f"{BASE}/{qid}/scales/{got['scales'][0][0]}", f"{BASE}/{qid}/copy", BASE):
        response = organiser.get(url)
        assert response.status_code == 200, url
        assert "新的测评表" in response.get_data(as_text=True), url
    assert "第二段" in organiser.get(f"{BASE}/{qid}/preview").get_data(as_text=True)
    assert audit(app)[-1][2] == {"what": "meta", "fields": ["title", "intro"]}


# --- learning tests (quizzes) -------------------------------------------------------------------------


def test_quiz_copy_keeps_its_key_and_the_preview_hides_it(app, organiser, campaign, quiz):
    qid = copy(organiser, "quiz_t", "quiz_copy")
    with app.app_context():
        copied = db.session.get(Questionnaire, qid)
        assert (copied.kind, copied.pass_mark) == ("quiz", 80)
    assert quiz_items(app, qid) == quiz_items(app, quiz)
    page = organiser.get(f"{BASE}/{qid}").get_data(as_text=True)
    assert "✓" in page and "以人为本" in page and "及格分" in page
    preview = organiser.get(f"{BASE}/{qid}/preview").get_data(as_text=True)
    assert "第一要义是" in preview and "这是测评人看到的测评表" in preview
    assert "✓" not in preview and "correct" not in preview and "核心是____" in preview
    assert preview.count("以人为本") == 1  # the option label of item 2, never the fill-in answer


def test_quiz_items_and_keys_are_edited_and_checked(app, organiser, campaign, quiz):
    got = ids(app, quiz)
    single_scale, multiple_scale = got["scales"][0][0], got["scales"][1][0]
    fill_item = got["items"][2]
    ok = [
        organiser.post(f"{BASE}/{quiz}/items/{fill_item}", data={
            "text": "核心是____", "kind": "fill", "required": "y", "points": "20",
            "accepted": "以人为本\n  以人为本  \n坚持以人为本\n"}),
        organiser.post(f"{BASE}/{quiz}/scales/{single_scale}",
                       data=scale_form(app, single_scale, {0: {"correct": None}, 1: {"correct": "y"}})),
        organiser.post(f"{BASE}/{quiz}/meta", data={"title": "学习成果测试", "intro": "满分 100 分。", "pass_mark": "60"}),
        organiser.post(f"{BASE}/{quiz}/items/new", data={"text": "新的单选题", "kind": "single", "scale": "new",
                                                         "points": "10", "required": "y"}),
    ]
    assert [r.status_code for r in ok] == [302] * 4
    items = quiz_items(app, quiz)
    assert items[2][2] == ["以人为本", "坚持以人为本"]
    assert items[0][3] == [("发展", False), ("稳定", True)]
    assert items[4][:2] == ("single", 10.0) and [c for _, c in items[4][3]] == [True, False]
    with app.app_context():
        assert db.session.get(Questionnaire, quiz).pass_mark == 60

    before = snapshot(app)
    refused = {
        "two right answers": (organiser.post(f"{BASE}/{quiz}/scales/{single_scale}", data=scale_form(
            app, single_scale, {0: {"correct": "y"}})), "恰好有一个正确选项"),
        "no right answer": (organiser.post(f"{BASE}/{quiz}/scales/{multiple_scale}", data=scale_form(
            app, multiple_scale, {0: {"correct": None}, 1: {"correct": None}})), "至少要有一个正确选项"),
        "no points": (organiser.post(f"{BASE}/{quiz}/items/{got['items'][0]}", data={
            "text": "第一要义是", "kind": "single", "scale": str(single_scale)}), "大于 0 的分值"),
        "no accepted answer": (organiser.post(f"{BASE}/{quiz}/items/{fill_item}", data={
            "text": "核心是____", "kind": "fill", "points": "20", "accepted": " \n "}), "参考答案"),
        "scale kind in a quiz": (organiser.post(f"{BASE}/{quiz}/items/new", data={
            "text": "满意吗", "kind": "scale", "scale": "new"}), "不是有效的选择"),
        "pass mark above 100": (organiser.post(f"{BASE}/{quiz}/meta", data={
            "title": "学习成果测试", "pass_mark": "120"}), "0 到 100"),
        "points not a number": (organiser.post(f"{BASE}/{quiz}/items/{fill_item}", data={
            "text": "核心是____", "kind": "fill", "points": "many", "accepted": "以人为本"}), "须为数字"),
    }
    for name, (response, message) in refused.items():
        assert response.status_code == 400, name
        assert message in response.get_data(as_text=True), name
    assert snapshot(app) == before


def test_a_survey_offers_no_fill_in_and_keeps_no_key(app, organiser, campaign):
    qid = copy(organiser, "meeting", "survey_only")
    scale_id = ids(app, qid)["scales"][0][0]
    before = snapshot(app)
    response = organiser.post(f"{BASE}/{qid}/items/new", data={"text": "填空", "kind": "fill", "accepted": "x"})
    assert response.status_code == 400 and "不是有效的选择" in response.get_data(as_text=True)
    assert snapshot(app) == before
    r = organiser.post(f"{BASE}/{qid}/scales/{scale_id}", data=scale_form(app, scale_id, {0: {"correct": "y"}}))
    assert r.status_code == 302
    with app.app_context():
        assert not any(o.correct for o in db.session.get(Scale, scale_id).options)
        assert all(i.points is None and i.accepted is None for i in db.session.get(Questionnaire, qid).items)
