"""Learning tests (学习成果测试) end to end: taken with codes at /v/<code>, scored, shown to organisers.

A small quiz ``mini_quiz`` (pass mark 80) built here: S single 50 points (A right), M multiple
30 points ({X, Y} right), F fill-in 20 points (accepted "Kexue Fazhan").

第一单位 (min_ballots 3), five answer sheets:
  r1  S A ✓  M {X,Y} ✓    F "ｋｅｘｕｅ　ｆａｚｈａｎ" ✓ (full width, lower case)  → 100
  r2  S A ✓  M {X} ✗       F "xyz" ✗                                             → 50
  r3  S A ✓  M {X,Y} ✓    F "abd" ✗                                              → 80 (at the mark: passes)
  r4  S B ✗  M {X,Y,Z} ✗  F "  KEXUE FAZHAN " ✓                                  → 20
  r5  S A ✓  M {Y} ✗       F "kexue fazhan" ✓                                     → 70
  participants 5, mean 320 / 5 = 64, passed 2, pass rate 40.0%;
  share correct: M 2/5 = 40.0%, F 3/5 = 60.0%, S 4/5 = 80.0% (hardest first).
第二单位 (min_ballots 3): r6 all right (100), r7 S ✗ (50): participants 2, mean 75, pass rate 50.0%.
Campaign: 7 participants, mean 470 / 7 = 67.1, passed 3, pass rate 42.9%.
"""
from __future__ import annotations

import json
import re

import pytest
from results_data import PASSWORD, login

from extensions import db
from models import Ballot, Evaluation, ItemKind, Questionnaire

MINI = {
    "key": "mini_quiz", "kind": "quiz", "pass_mark": 80, "title": "小测验", "intro": "无记名测试。",
    "items": [
        {"kind": "single", "points": 50, "text": "单选题甲",
         "options": [{"label": "选项A", "correct": True}, {"label": "选项B"}]},
        {"kind": "multiple", "points": 30, "text": "多选题乙",
         "options": [{"label": "选项X", "correct": True}, {"label": "选项Y", "correct": True}, {"label": "选项Z"}]},
        {"kind": "fill", "points": 20, "text": "填空题丙", "accepted": ["Kexue Fazhan"]},
    ],
}
UNIT1_SHEETS = [("A", "XY", "ｋｅｘｕｅ　ｆａｚｈａｎ"), ("A", "X", "xyz"), ("A", "XY", "abd"),
                ("B", "XYZ", "  KEXUE FAZHAN "), ("A", "Y", "kexue fazhan")]
UNIT2_SHEETS = [("A", "XY", "Kexue Fazhan"), ("B", "XY", "Kexue Fazhan")]


def _text(response) -> str:
    return response.get_data(as_text=True)


def _form(app, evaluation_id: int, single: str, multiple: str, fill: str) -> dict:
    """Form data picking options by their label's last letter."""
    with app.app_context():
        items = db.session.get(Evaluation, evaluation_id).questionnaire.items
        by_label = {o.label[-1]: str(o.id) for i in items if i.scale for o in i.scale.options}
        s, m, f = items
        return {f"item_{s.id}": by_label[single], f"item_{m.id}": [by_label[c] for c in multiple],
                f"item_{f.id}": fill}


@pytest.fixture()
def quiz(app, campaign, client, issue, count_box):
    """mini_quiz put to both units, the sheets above taken through the rater flow."""
    from evaluation.services import create_evaluation
    from surveys.catalog import build_questionnaire

    with app.app_context():
        db.session.add(build_questionnaire(MINI))
        db.session.commit()
        one = create_evaluation(campaign["units"][0], "mini_quiz", ["党员"], min_ballots=3, open_now=True).id
        two = create_evaluation(campaign["units"][1], "mini_quiz", ["党员"], min_ballots=3, open_now=True).id
    for evaluation_id, sheets in ((one, UNIT1_SHEETS), (two, UNIT2_SHEETS)):
        for code, sheet in zip(issue(evaluation_id, "党员", len(sheets)), sheets):
            response = client.post("/v", data={**(_form(app, evaluation_id, *sheet)), "code": code, "ballot": "1"})
            assert response.status_code == 303, _text(response)[:500]
    count_box(one, two)  # the tests are over: every sealed sheet counted
    return {"one": one, "two": two, "campaign": campaign["campaign"]}


def _user(app, username: str, role: str, unit_id=None) -> None:
    from evaluation.services import create_user

    with app.app_context():
        create_user(username, PASSWORD, role, unit_id)


def _kpis(html: str) -> str:
    """The key-figure list's text, tags and spaces removed."""
    start = html.index('<ul class="kpis">') + len('<ul class="kpis">')
    return re.sub(r"<[^>]+>|\s+", "", html[start:html.index("</ul>", start)])


def _rows(html: str) -> list[list[str]]:
    """Cells of the rows of the first data table body, tags stripped."""
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return [[re.sub(r"<[^>]+>|\s+", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_campaign_page_has_hand_computed_figures(app, client, quiz):
    _user(app, "org", "organiser")
    login(client, "org")
    html = _text(client.get(f"/admin/campaigns/{quiz['campaign']}/quiz"))
    kpis = _kpis(html)
    # 第二单位 has 2 takers, fewer than min_ballots 3: only its count, for organisers too, and it is
    # left out of the pooled figures (they would otherwise give its two people away by subtraction)
    assert "5人参加" in kpis and "平均分64" in kpis and "及格率40.0%" in kpis
    assert "及格线80" in kpis and "满分100" in kpis
    # #, unit, participants, mean, passed, pass rate — best pass rate first, withheld units last
    assert _rows(html) == [["1", "第一单位", "5", "64", "2", "40.0%"], ["2", "第二单位", "2", "—", "—", "—"]]
    assert 'data-target="fig-quiz-units"' in html  # the chart, drawn by the shared charts macro


def test_unit_page_lists_the_hardest_question_first(app, client, quiz):
    _user(app, "org", "organiser")
    login(client, "org")
    html = _text(client.get(f"/admin/evaluations/{quiz['one']}/quiz"))
    kpis = _kpis(html)
    assert kpis == "5人参加平均分64及格2及格率40.0%"
    rows = [(r[1], r[4], r[5]) for r in _rows(html)]
    assert rows == [("多选题乙", "2/5", "40.0%"), ("填空题丙", "3/5", "60.0%"), ("单选题甲", "4/5", "80.0%")]
    assert 'data-target="fig-quiz-items"' in html


def test_campaign_page_tab_links_to_learning_tests(app, client, quiz):
    _user(app, "org", "organiser")
    login(client, "org")
    html = _text(client.get(f"/admin/campaigns/{quiz['campaign']}/evaluations"))
    assert f'href="/admin/campaigns/{quiz["campaign"]}/quiz"' in html


def test_liaison_sees_only_their_subtree(app, client, quiz, campaign):
    _user(app, "liaison1", "liaison", campaign["units"][0])
    login(client, "liaison1")
    html = _text(client.get(f"/admin/campaigns/{quiz['campaign']}/quiz"))
    assert "第二单位" not in html
    assert _rows(html) == [["1", "第一单位", "5", "64", "2", "40.0%"]]
    assert "5人参加" in re.sub(r"<[^>]+>|\s+", "", html)
    assert client.get(f"/admin/evaluations/{quiz['one']}/quiz").status_code == 200
    assert client.get(f"/admin/evaluations/{quiz['two']}/quiz").status_code == 404


def test_liaison_of_a_small_unit_sees_only_the_count(app, client, quiz, campaign):
    """第二单位 has 2 participants, fewer than its min_ballots of 3: no mean, no per-question figures."""
    _user(app, "liaison2", "liaison", campaign["units"][1])
    login(client, "liaison2")
    html = _text(client.get(f"/admin/campaigns/{quiz['campaign']}/quiz"))
    assert _rows(html) == [["1", "第二单位", "2", "—", "—", "—"]]
    page = _text(client.get(f"/admin/evaluations/{quiz['two']}/quiz"))
    assert "少于 3 人" in page and "多选题乙" not in page and "75" not in re.sub(r"<[^>]+>", "", page)


def test_viewer_sees_everything_and_non_quiz_evaluations_are_404(app, client, quiz, campaign):
    _user(app, "viewer1", "viewer")
    login(client, "viewer1")
    assert len(_rows(_text(client.get(f"/admin/campaigns/{quiz['campaign']}/quiz")))) == 2
    assert client.get(f"/admin/evaluations/{campaign['evaluation']}/quiz").status_code == 404  # satisfaction
    assert client.get("/admin/evaluations/999999/quiz").status_code == 404
    assert client.get("/admin/campaigns/999999/quiz").status_code == 404


def test_campaign_without_a_learning_test(app, client, campaign):
    _user(app, "org", "organiser")
    login(client, "org")
    html = _text(client.get(f"/admin/campaigns/{campaign['campaign']}/quiz"))
    assert "尚未安排学习成果测试" in html


def test_rater_page_never_shows_the_key(app, client, campaign, issue):
    """Neither the accepted answers nor which option is right reach the page source."""
    from evaluation.services import create_evaluation
    from surveys.catalog import build_questionnaire

    with app.app_context():
        evaluation = create_evaluation(campaign["units"][0], "learning_test", ["党员"], open_now=True)
        questionnaire = db.session.get(Questionnaire, evaluation.questionnaire_id)
        accepted = [a for i in questionnaire.items if i.kind is ItemKind.FILL for a in json.loads(i.accepted)]
        evaluation_id = evaluation.id
    html = _text(client.post("/v", data={"code": issue(evaluation_id)[0]}, follow_redirects=True))
    assert "学习成果测试" in html and 'type="text"' in html
    assert len(accepted) >= 6 and [a for a in accepted if a in html] == []
    assert "correct" not in html.lower() and "accepted" not in html.lower()
    with app.app_context():
        db.session.add(build_questionnaire(MINI))
        db.session.commit()
        mini = create_evaluation(campaign["units"][0], "mini_quiz", ["党员"], open_now=True).id
    assert "kexue" not in _text(client.post("/v", data={"code": issue(mini)[0]}, follow_redirects=True)).lower()


def test_catalog_learning_test_scores_100_with_right_answers_in_full_width(app, client, campaign, issue, count_box):
    """create_evaluation(unit, "learning_test") works, and a right sheet typed in full width scores 100."""
    from evaluation.services import create_evaluation

    with app.app_context():
        evaluation = create_evaluation(campaign["units"][0], "learning_test", ["党员"], open_now=True)
        data = {}
        for item in evaluation.questionnaire.items:
            if item.kind is ItemKind.FILL:
                answer = json.loads(item.accepted)[0]
                data[f"item_{item.id}"] = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in answer)
            else:
                right = [str(o.id) for o in item.scale.options if o.correct]
                data[f"item_{item.id}"] = right if item.kind is ItemKind.MULTIPLE else right[0]
        evaluation_id = evaluation.id
    assert "２７２" in data.values()  # the number question, typed in full width
    assert client.post("/v", data={**(data), "code": issue(evaluation_id)[0], "ballot": "1"}).status_code == 303
    count_box(evaluation_id)
    _user(app, "org", "organiser")
    login(client, "org")
    html = _text(client.get(f"/admin/evaluations/{evaluation_id}/quiz"))
    kpis = _kpis(html)
    assert kpis == "1人参加"  # one taker (min_ballots 8): the count only, for the organiser too
    from extensions import db as _db
    from models import Evaluation as _Evaluation

    with app.app_context():  # with a minimum of 1 the same page shows the full marks of the right sheet
        _db.session.get(_Evaluation, evaluation_id).min_ballots = 1
        _db.session.commit()
    kpis = _kpis(_text(client.get(f"/admin/evaluations/{evaluation_id}/quiz")))
    assert kpis == "1人参加平均分100及格1及格率100.0%"


def test_fill_in_answers_are_checked_on_submit(app, client, campaign, issue, count_rows, count_box):
    from evaluation.services import create_evaluation
    from surveys.catalog import build_questionnaire

    with app.app_context():
        db.session.add(build_questionnaire(MINI))
        db.session.commit()
        evaluation_id = create_evaluation(campaign["units"][0], "mini_quiz", ["党员"], open_now=True).id
    code = issue(evaluation_id)[0]
    blank = client.post("/v", data={**(_form(app, evaluation_id, "A", "XY", "   ")), "code": code, "ballot": "1"})
    assert blank.status_code == 400 and "请填写答案" in _text(blank)
    long = client.post("/v", data={**(_form(app, evaluation_id, "A", "XY", "长" * 201)), "code": code, "ballot": "1"})
    assert long.status_code == 400 and "最多 200 个字" in _text(long)
    assert count_rows(Ballot) == 0
    assert client.post("/v", data={**(_form(app, evaluation_id, "A", "XY", " 科学 ")), "code": code, "ballot": "1"}).status_code == 303
    count_box(evaluation_id)
    with app.app_context():
        from models import Answer

        texts = db.session.scalars(db.select(Answer.text).where(Answer.text.is_not(None))).all()
    assert texts == ["科学"]  # stored trimmed, like free text


def test_typed_answers_with_control_characters_are_refused(app, client, campaign, issue, count_rows):
    """PostgreSQL cannot store NUL in text: refuse it with a 400, never a 503 that no retry clears."""
    from evaluation.services import create_evaluation
    from surveys.catalog import build_questionnaire

    with app.app_context():
        db.session.add(build_questionnaire(MINI))
        db.session.commit()
        quiz_id = create_evaluation(campaign["units"][0], "mini_quiz", ["党员"], open_now=True).id
        items = db.session.get(Evaluation, campaign["evaluation"]).questionnaire.items
        survey = {f"item_{i.id}": str(i.scale.options[0].id) for i in items if i.scale}
        survey.update({f"item_{i.id}": "意见\x00建议" for i in items if i.kind is ItemKind.TEXT})
    fill = client.post("/v", data={**(_form(app, quiz_id, "A", "XY", "kexue\x00fazhan")), "code": issue(quiz_id)[0], "ballot": "1"})
    text = client.post("/v", data={**(survey), "code": issue(campaign['evaluation'])[0], "ballot": "1"})
    for response in (fill, text):
        assert response.status_code == 400 and "控制字符" in _text(response)
    assert count_rows(Ballot) == 0
    ok = dict(survey, **{k: "第一行\n第二行\t完" for k, v in survey.items() if "\x00" in v})
    assert client.post("/v", data={**(ok), "code": issue(campaign['evaluation'])[0], "ballot": "1"}).status_code == 303  # newlines, tabs fine


def test_demo_learning_test_is_added_once(app, campaign):
    """add_quiz_demo (called by ``flask demo``) adds the learning test to a campaign only once."""
    from evaluation.demo.quiz import add_quiz_demo
    from evaluation.work.quiz import campaign_quiz
    from models import Campaign
    from surveys import tallies

    with app.app_context():
        added = add_quiz_demo(db.session.get(Campaign, campaign["campaign"]))
        db.session.commit()
        assert added >= 10
        assert add_quiz_demo(db.session.get(Campaign, campaign["campaign"])) == 0
        view = campaign_quiz(campaign["campaign"])
        assert [u["unit"] for u in view["units"]] == ["第一单位"] and view["overall"]["participants"] == added
        assert 0 < view["overall"]["mean_score"] <= 100
        assert tallies.differences(db.session) == []


@pytest.mark.parametrize("sheet, shown", [
    (("A", "XY", "ｋｅｘｕｅ　ｆａｚｈａｎ"), "您的得分:100 分(满分 100 分,80 分及格)"),
    (("A", "Y", "kexue fazhan"), "您的得分:70 分(满分 100 分,80 分及格)"),
])
def test_the_taker_answers_a_test_not_a_ballot_and_sees_their_score_once(app, campaign, client, issue, sheet,
                                                                          shown):
    """The button says 提交答卷; the thanks page shows the score the rules of analysis.quiz give, once."""
    from evaluation.services import create_evaluation
    from surveys.catalog import build_questionnaire

    with app.app_context():
        db.session.add(build_questionnaire(MINI))
        db.session.commit()
        evaluation_id = create_evaluation(campaign["units"][0], "mini_quiz", ["党员"], open_now=True).id
    code = issue(evaluation_id)[0]
    page = _text(client.post("/v", data={"code": code}, follow_redirects=True))
    assert "提交答卷" in page and "提交测评票" not in page
    thanks = _text(client.post("/v", data={**_form(app, evaluation_id, *sheet), "code": code, "ballot": "1"},
                               follow_redirects=True))
    assert shown in thanks and ("未及格" in thanks) == ("70 分" in shown)
    assert "得分" not in _text(client.get("/thanks"))  # shown once, kept nowhere
    survey = _text(client.post("/v", data={"code": issue(campaign["evaluation"])[0]}, follow_redirects=True))
    assert "提交测评票" in survey and "提交答卷" not in survey  # a satisfaction ballot keeps its words
