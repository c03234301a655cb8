"""整改落实: items per unit, overdue highlighting, the public commitments page, scoping,
and the make-up loop (items linked to the decision, the second round passing)."""
from __future__ import annotations

import datetime as dt

from results_data import _submit, seed_results
from work_data import audit_actions, login, make_accounts, rows, switch

from models import MakeUp, RectificationItem



def _today() -> dt.date:
    """The app's "today": the day in its display time zone (Asia/Shanghai), not the machine's."""
    from app import create_app
    from evaluation.days import local_today

    with create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).app_context():
        return local_today()


TODAY = _today()


def _item(project, deadline=None, status="planned", category="immediate", **extra):
    data = {"project": project, "goal": "目标", "measures": "措施", "responsible": "张局长",
            "commitment": f"{project}的承诺", "category": category, "status": status,
            "deadline": deadline.isoformat() if deadline else ""}
    data.update(extra)
    return data


def _add(client, unit_id, data):
    return client.post(f"/admin/work/units/{unit_id}/rectification", data=data)


def _rows_html(html: str) -> dict[str, str]:
    """Table rows by project name → the row's opening tag and content."""
    out = {}
    for chunk in html.split("<tr")[1:]:
        row = chunk.split("</tr>")[0]
        if '<th scope="row">' in row:
            name = row.split('<th scope="row">')[1].split("<")[0]
            out[name] = row
    return out


def test_overdue_items_highlighted_for_organisers_and_public(app, client, campaign):
    ids = make_accounts(app, campaign)
    login(client, "l1")
    yesterday, tomorrow = TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=1)
    assert _add(client, ids["u1"], _item("逾期项目", yesterday)).status_code == 302
    assert _add(client, ids["u1"], _item("按期完成", yesterday, status="done", category="period")).status_code == 302
    assert _add(client, ids["u1"], _item("今天到期", TODAY, status="in_progress")).status_code == 302
    assert _add(client, ids["u1"], _item("<script>x()</script>", tomorrow, category="hard")).status_code == 302
    done = rows(app, RectificationItem, RectificationItem.project == "按期完成")[0]
    assert done.done_on is not None  # status done without a date: today's date filled in
    page = client.get(f"/admin/work/units/{ids['u1']}/rectification").get_data(as_text=True)
    table = _rows_html(page)
    assert set(table) >= {"逾期项目", "按期完成", "今天到期"}
    assert table["逾期项目"].startswith(' class="overdue"') and "已逾期" in table["逾期项目"]
    for name in ("按期完成", "今天到期"):
        assert "overdue" not in table[name]
    assert page.count('class="overdue"') == 1
    assert "<script>x()</script>" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page
    # the public page needs no account and highlights the same item
    client.post("/logout")
    public = client.get(f"/c/{ids['u1']}")
    html = public.get_data(as_text=True)
    assert public.status_code == 200 and "第一单位" in html and "公开承诺" in html
    assert "逾期项目的承诺" in html and "张局长" in html and "自身难以解决" in html
    assert html.count('class="overdue"') == 1 and _rows_html(html)["逾期项目"].startswith(' class="overdue"')
    assert "<script>x()</script>" not in html and "共 4 项,已完成 1 项" in html
    # another unit's public page lists nothing of unit 1
    assert "逾期项目" not in client.get(f"/c/{ids['u2']}").get_data(as_text=True)
    # marking it done removes the highlight
    login(client, "l1")
    late = rows(app, RectificationItem, RectificationItem.project == "逾期项目")[0]
    edit = client.post(f"/admin/rectification/{late.id}", data=_item("逾期项目", yesterday, status="done",
                                                                    done_on=TODAY.isoformat()))
    assert edit.status_code == 302
    assert 'class="overdue"' not in client.get(f"/c/{ids['u1']}").get_data(as_text=True)
    saves = [a for a in audit_actions(app) if a[0] == "rectification_save"]
    assert len(saves) == 5 and all(target == f"unit:{ids['u1']}" for _, target, _ in saves)


def test_rectification_scoped_to_the_liaisons_units(app, client, campaign):
    ids = make_accounts(app, campaign)
    login(client, "l1")
    _add(client, ids["u1"], _item("项目一"))
    item = rows(app, RectificationItem)[0]
    switch(client, "l2")
    assert client.get(f"/admin/work/units/{ids['u1']}/rectification").status_code == 404
    assert _add(client, ids["u1"], _item("越权")).status_code == 404
    assert client.get(f"/admin/rectification/{item.id}").status_code == 404
    assert client.post(f"/admin/rectification/{item.id}", data=_item("改名")).status_code == 404
    assert client.post(f"/admin/rectification/{item.id}/delete").status_code == 404
    switch(client, "view")
    assert client.get(f"/admin/work/units/{ids['u1']}/rectification").status_code == 200
    assert _add(client, ids["u1"], _item("越权")).status_code == 403
    assert client.post(f"/admin/rectification/{item.id}/delete").status_code == 403
    assert [r.project for r in rows(app, RectificationItem)] == ["项目一"]
    switch(client, "org")
    assert client.post(f"/admin/rectification/{item.id}/delete").status_code == 302
    assert rows(app, RectificationItem) == []
    assert any(a == "rectification_delete" for a, _, _ in audit_actions(app))


def test_bad_items_are_refused(app, client, campaign):
    ids = make_accounts(app, campaign)
    login(client, "org")
    assert _add(client, ids["u1"], _item("")).status_code == 400
    assert _add(client, ids["u1"], _item("x", category="someday")).status_code == 400
    assert _add(client, ids["u1"], _item("x", done_on=TODAY.isoformat())).status_code == 400  # not done
    assert _add(client, ids["u1"], _item("x", deadline=None, makeup_id="12345")).status_code == 400
    assert _add(client, ids["u1"], _item("x", commitment="承诺\x00")).status_code == 400  # NUL: PostgreSQL refuses
    assert rows(app, RectificationItem) == []


def test_makeup_unit_rectified_and_reevaluated_shows_as_passed(app, client, campaign):
    ids = seed_results(app, campaign)
    make_accounts(app, campaign)
    login(client, "org")
    assert client.post(f"/admin/evaluations/{ids['a']}/makeup", data={"confirm": "1"}).status_code == 302
    [decision] = rows(app, MakeUp)
    # the form offers the decision, chosen by default, on the make-up unit's page
    page = client.get(f"/admin/work/units/{ids['unit_a']}/rectification").get_data(as_text=True)
    assert f'<option selected value="{decision.id}">' in page and "补课决定" in page
    _add(client, ids["unit_a"], _item("改进服务窗口", makeup_id=str(decision.id)))
    _add(client, ids["unit_a"], _item("公开办事流程", makeup_id=str(decision.id)))
    _add(client, ids["unit_a"], _item("与补课无关", makeup_id="0"))
    linked = rows(app, RectificationItem, RectificationItem.makeup_id == decision.id)
    assert [i.project for i in linked] == ["改进服务窗口", "公开办事流程"]
    # another unit cannot link to this decision
    assert _add(client, ids["unit_b"], _item("挂错", makeup_id=str(decision.id))).status_code == 400
    overview = client.get(f"/admin/campaigns/{ids['campaign']}").get_data(as_text=True)
    assert "0 / 2" in overview and ">进行中<" in overview
    for item in linked:
        client.post(f"/admin/rectification/{item.id}", data=_item(item.project, status="done",
                                                                  makeup_id=str(decision.id)))
    with app.app_context():
        for _ in range(8):
            _submit(app, decision.followup_id, "党员", [0] * 6, None)
        from surveys import box

        box.close([decision.followup_id])  # the round's voting is over: every sealed ballot counted
    overview = client.get(f"/admin/campaigns/{ids['campaign']}").get_data(as_text=True)
    section = overview.split("补课单位:前后对比")[1].split("</table>")[0]
    assert "2 / 2" in section and "已通过" in section and "58.0%" in section and "100.0%" in section
    unit_page = client.get(f"/admin/work/units/{ids['unit_a']}/rectification").get_data(as_text=True)
    loop = unit_page.split("补课 <small")[1].split("</table>")[0]
    assert "2 / 2" in loop and "已通过" in loop and f"测评 #{decision.followup_id}" in loop


def test_campaign_rectification_summary(app, client, campaign):
    ids = make_accounts(app, campaign)
    login(client, "org")
    _add(client, ids["u1"], _item("a", TODAY - dt.timedelta(days=3)))
    _add(client, ids["u1"], _item("b", status="done", category="hard"))
    _add(client, ids["u2"], _item("c", category="period"))
    html = client.get(f"/admin/campaigns/{ids['campaign']}/rectification").get_data(as_text=True)
    table = html.split("<tbody>")[1]
    first = table.split("第一单位")[1].split("</tr>")[0]
    assert [c.split("<")[0] for c in first.split('class="num">')[1:]] == ["2", "1", "", "1", "0", "1"]
    assert '<strong class="flag">1</strong>' in first
    hub = client.get(f"/admin/campaigns/{ids['campaign']}/work").get_data(as_text=True)
    assert "<strong>3</strong> 项" in hub and '<strong class="flag">1</strong> 已逾期' in hub
    switch(client, "l2")
    scoped = client.get(f"/admin/campaigns/{ids['campaign']}/rectification").get_data(as_text=True)
    assert "第二单位" in scoped and "第一单位</a>" not in scoped
