"""Stages and steps: the standard plan, per-unit completion, look-backs and the progress chart.

Units counted: the campaign fixture's 第一单位 and 第二单位 under 测试党委, plus 第三单位
under a second committee 第二党委 and an inactive unit (not counted) added here.
"""
from __future__ import annotations

import datetime as dt
import json
import re

from work_data import audit_actions, login, make_accounts, rows, switch

from extensions import db
from models import Campaign, LookBack, Stage, Step, Unit, UnitKind, UnitStep


def _figure(html: str, target: str) -> dict:
    block = re.search(rf'data-target="{target}">(.*?)</script>', html, re.S)
    assert block, f"no figure {target}"
    return json.loads(block.group(1))


def _standard(client, campaign_id):
    return client.post(f"/admin/campaigns/{campaign_id}/stages/standard")


def _steps(app, campaign_id) -> list[Step]:
    with app.app_context():
        found = list(db.session.scalars(db.select(Step).join(Stage).where(Stage.campaign_id == campaign_id)
                                        .order_by(Stage.position, Step.position)))
        for step in found:
            db.session.expunge(step)
        return found


def _more_units(app, campaign) -> dict:
    with app.app_context():
        c = db.session.get(Campaign, campaign["campaign"])
        second = Unit(campaign=c, code="C2", name="第二党委", kind=UnitKind.COMMITTEE)
        third = Unit(campaign=c, parent=second, code="U3", name="第三单位", kind=UnitKind.UNIT)
        gone = Unit(campaign=c, parent=second, code="U4", name="已停用单位", kind=UnitKind.UNIT, active=False)
        db.session.add_all([second, third, gone])
        db.session.commit()
        return {"committee2": second.id, "u3": third.id, "gone": gone.id}


def test_standard_plan_three_stages_six_steps_with_dates(app, client, campaign):
    ids = make_accounts(app, campaign)
    with app.app_context():
        c = db.session.get(Campaign, ids["campaign"])
        c.starts_on, c.ends_on = dt.date(2009, 3, 1), dt.date(2009, 8, 31)
        db.session.commit()
    login(client, "l1")
    assert _standard(client, ids["campaign"]).status_code == 403
    switch(client, "org")
    page = client.get(f"/admin/campaigns/{ids['campaign']}/stages").get_data(as_text=True)
    assert "使用标准安排" in page
    assert _standard(client, ids["campaign"]).status_code == 302
    stages = rows(app, Stage)
    assert [s.name for s in stages] == ["学习调研", "分析检查", "整改落实"]
    assert [s.name for s in _steps(app, ids["campaign"])] == [
        "认真组织学习", "深入开展调研", "召开专题民主生活会", "形成分析检查报告", "制定整改落实方案", "集中解决突出问题"]
    assert stages[0].starts_on == dt.date(2009, 3, 1) and stages[-1].ends_on == dt.date(2009, 8, 31)
    for before, after in zip(stages, stages[1:]):  # consecutive, no gap, no overlap
        assert after.starts_on == before.ends_on + dt.timedelta(days=1)
    # a second plan is refused
    again = _standard(client, ids["campaign"])
    assert "已有阶段安排" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(rows(app, Stage)) == 3
    # dates edited; an end before the start is refused
    first = stages[0]
    ok = client.post(f"/admin/stages/{first.id}", data={f"stage{first.id}-name": "学习调研阶段",
                                                        f"stage{first.id}-starts_on": "2009-03-05",
                                                        f"stage{first.id}-ends_on": "2009-04-30"})
    assert ok.status_code == 302
    client.post(f"/admin/stages/{first.id}", data={f"stage{first.id}-name": "x",
                                                   f"stage{first.id}-starts_on": "2009-05-01",
                                                   f"stage{first.id}-ends_on": "2009-04-01"})
    edited = rows(app, Stage, Stage.id == first.id)[0]
    assert (edited.name, edited.starts_on, edited.ends_on) == ("学习调研阶段", dt.date(2009, 3, 5), dt.date(2009, 4, 30))
    actions = [a for a, _, _ in audit_actions(app)]
    assert actions.count("stages_create") == 1 and actions.count("stage_edit") == 1


def _mark(client, unit_id, step_id, **data):
    return client.post(f"/admin/work/units/{unit_id}/steps/{step_id}", data=data)


def _lookback(client, unit_id, kind, answers):
    data = {}
    for n, answer in enumerate(answers):
        if answer:
            data[f"answers-{n}-answer"] = answer
        data[f"answers-{n}-note"] = f"说明{n}"
    return client.post(f"/admin/work/units/{unit_id}/lookback/{kind}", data=data)


def test_step_completion_lookbacks_and_progress_chart(app, client, campaign):
    ids = make_accounts(app, campaign)
    more = _more_units(app, campaign)
    login(client, "org")
    _standard(client, ids["campaign"])
    steps = _steps(app, ids["campaign"])
    # 第一单位: its liaison marks the first two steps and completes 三对比
    switch(client, "l1")
    assert _mark(client, ids["u1"], steps[0].id, done_on="2009-03-20", note="动员会").status_code == 302
    assert _mark(client, ids["u1"], steps[1].id).status_code == 302  # no date: today
    assert _lookback(client, ids["u1"], "three_comparisons", ["yes", "partly", ""]).status_code == 302
    [partial] = rows(app, LookBack)
    assert partial.completed_on is None  # one question unanswered
    _lookback(client, ids["u1"], "three_comparisons", ["yes", "partly", "no"])
    done = rows(app, LookBack)[0]
    assert done.completed_on is not None and json.loads(done.answers)[2] == {"answer": "no", "note": "说明2"}
    assert _lookback(client, ids["u1"], "three_comparisons", ["maybe", "yes", "yes"]).status_code == 400
    bad_note = {"answers-0-answer": "yes", "answers-0-note": "\x01"}
    assert client.post(f"/admin/work/units/{ids['u1']}/lookback/three_comparisons", data=bad_note).status_code == 400
    assert client.get(f"/admin/work/units/{ids['u1']}/lookback/nonsense").status_code == 404
    # another unit's steps are out of this liaison's reach
    assert _mark(client, ids["u2"], steps[0].id).status_code == 404
    assert client.get(f"/admin/work/units/{ids['u2']}/steps").status_code == 404
    # 第二单位 did step 1 and then took it back; 第三单位 did step 1
    switch(client, "org")
    _mark(client, ids["u2"], steps[0].id)
    _mark(client, ids["u2"], steps[0].id, undo="y")
    _mark(client, more["u3"], steps[0].id)
    _mark(client, more["gone"], steps[0].id)  # inactive: stored but not counted
    assert len(rows(app, UnitStep)) == 4
    marked = rows(app, UnitStep, UnitStep.unit_id == ids["u1"], UnitStep.step_id == steps[0].id)[0]
    assert marked.done_on == dt.date(2009, 3, 20) and marked.note == "动员会"
    # a step of another campaign is not found
    assert _mark(client, ids["u1"], 99999).status_code == 404

    html = client.get(f"/admin/campaigns/{ids['campaign']}/stages").get_data(as_text=True)
    fig = _figure(html, "fig-progress")
    heat = fig["data"][0]
    assert heat["type"] == "heatmap"
    assert heat["y"] == ["测试党委", "第二党委", "合计"]
    assert heat["x"][:3] == ["认真组织学习", "深入开展调研", "回头看·三对比"] and len(heat["x"]) == 8
    assert heat["z"][0][:3] == [0.5, 0.5, 0.5] and heat["z"][1][:3] == [1.0, 0.0, 0.0]
    assert heat["z"][2][:3] == [2 / 3, 1 / 3, 1 / 3] and heat["text"][2][:3] == ["2/3", "1/3", "1/3"]
    assert heat["z"][0][3:] == [0.0] * 5
    # the table beside it carries the same numbers
    table = html.split('id="progress-table"')[1].split("</table>")[0]
    lines = {re.sub(r"<[^>]+>", "", re.search(r'<th scope="row">(.*?)</th>', r).group(1)): r
             for r in table.split("<tr")[2:]}
    assert re.findall(r'data-key="[^"]+">([^<]+)<', lines["测试党委"])[:3] == ["1/2 · 50%"] * 3
    assert re.findall(r'data-key="[^"]+">([^<]+)<', lines["合计"])[0] == "2/3 · 67%"
    assert '<td class="num">3</td>' in lines["合计"]
    # a liaison's chart counts only their own units
    switch(client, "l1")
    own = _figure(client.get(f"/admin/campaigns/{ids['campaign']}/stages").get_data(as_text=True), "fig-progress")
    assert own["data"][0]["y"] == ["测试党委", "合计"] and own["data"][0]["text"][0][0] == "1/1"
    # the unit page shows what was done
    page = client.get(f"/admin/work/units/{ids['u1']}").get_data(as_text=True)
    assert "已完成 2 / 6 个环节" in page and "三对比:已完成" in page and "三评议:未完成" in page
    actions = [a for a, _, _ in audit_actions(app)]
    assert actions.count("step_done") == 5 and actions.count("step_undone") == 1 and actions.count("lookback_save") == 2


def test_viewer_reads_but_cannot_record(app, client, campaign):
    ids = make_accounts(app, campaign)
    login(client, "org")
    _standard(client, ids["campaign"])
    step = _steps(app, ids["campaign"])[0]
    switch(client, "view")
    assert client.get(f"/admin/campaigns/{ids['campaign']}/stages").status_code == 200
    assert client.get(f"/admin/work/units/{ids['u1']}/steps").status_code == 200
    assert client.get(f"/admin/work/units/{ids['u1']}/lookback/three_reviews").status_code == 200
    assert _mark(client, ids["u1"], step.id).status_code == 403
    assert _lookback(client, ids["u1"], "three_reviews", ["yes"] * 3).status_code == 403
    assert rows(app, UnitStep) == [] and rows(app, LookBack) == []


def test_progress_page_without_plan_or_units(app, client, campaign):
    ids = make_accounts(app, campaign)
    login(client, "org")
    html = client.get(f"/admin/campaigns/{ids['campaign']}/stages").get_data(as_text=True)
    assert "本活动尚未安排阶段" in html and "fig-progress" not in html
    assert client.get("/admin/campaigns/99999/stages").status_code == 404


def test_the_report_step_follows_the_report_not_a_mark(app, client, campaign):
    """形成分析检查报告 reads 已完成 only once the unit's analysis report is submitted, everywhere."""
    ids = make_accounts(app, campaign)
    login(client, "org")
    _standard(client, ids["campaign"])
    report_step = next(s for s in _steps(app, ids["campaign"]) if s.name == "形成分析检查报告")
    refused = _mark(client, ids["u1"], report_step.id, done_on="2009-05-01")
    assert refused.status_code in (302, 400) and rows(app, UnitStep) == []
    with app.app_context():  # a mark made before this rule (the demo had such): it no longer counts
        db.session.add(UnitStep(unit_id=ids["u2"], step_id=report_step.id, done_on=dt.date(2009, 5, 1)))
        db.session.commit()
    for unit_id in (ids["u1"], ids["u2"]):
        steps = client.get(f"/admin/work/units/{unit_id}/steps").get_data(as_text=True)
        row = steps.split("形成分析检查报告</th>")[1].split("</tr>")[0]
        assert "未完成" in row and "已完成" not in row and "提交报告" in row
        unit_page = client.get(f"/admin/work/units/{unit_id}").get_data(as_text=True)
        assert "已完成 0 / 6 个环节" in unit_page and "尚未提交" in unit_page
    heat = _figure(client.get(f"/admin/campaigns/{ids['campaign']}/stages").get_data(as_text=True),
                   "fig-progress")["data"][0]
    column = heat["x"].index("形成分析检查报告")
    assert heat["z"][-1][column] == 0.0

    assert client.post(f"/admin/work/units/{ids['u1']}/reports", data={"text": "报告正文", "open_now": "y"}
                       ).status_code == 302
    steps = client.get(f"/admin/work/units/{ids['u1']}/steps").get_data(as_text=True)
    assert "已完成(已提交报告)" in steps.split("形成分析检查报告</th>")[1].split("</tr>")[0]
    assert "已完成 1 / 6 个环节" in client.get(f"/admin/work/units/{ids['u1']}").get_data(as_text=True)
    heat = _figure(client.get(f"/admin/campaigns/{ids['campaign']}/stages").get_data(as_text=True),
                   "fig-progress")["data"][0]
    assert heat["z"][-1][column] == 0.5  # 1 of the 2 units
