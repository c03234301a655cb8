"""征求意见: the public form (day only, CSRF, rate limit), moderation scoping, XSS and CSV safety."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from work_data import audit_actions, login, make_accounts, rows, switch

from app import create_app
from extensions import db
from models import Suggestion, Unit

SCRIPT = "<script>alert('x')</script>"
FORMULA = '=HYPERLINK("http://evil.example","点我")'


def _send(client, unit_id, text="多听群众意见", category="ideas", **kw):
    return client.post(f"/s/{unit_id}", data={"category": category, "text": text}, **kw)


def test_public_form_stores_the_day_only(app, client, campaign):
    unit_id = campaign["units"][0]
    page = client.get(f"/s/{unit_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "我为科学发展献一策" in html and "第一单位" in html
    assert 'maxlength="1000"' in html and "发展思路" in html
    response = _send(client, unit_id, "  建议增加便民窗口  ")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/s/{unit_id}/thanks")
    assert "谢谢" in client.get(response.headers["Location"]).get_data(as_text=True)
    [stored] = rows(app, Suggestion)
    assert stored.text == "建议增加便民窗口" and stored.status == "pending" and stored.category == "ideas"
    assert type(stored.submitted_on) is dt.date  # a day, not a timestamp
    assert abs((stored.submitted_on - dt.date.today()).days) <= 1
    # the table has no place for an address, a time of day or a session
    columns = set(Suggestion.__table__.columns.keys())
    assert columns == {"id", "campaign_id", "unit_id", "category", "text", "status", "submitted_on",
                       "moderated_by", "moderated_at"}
    # no organiser action happened: nothing audited
    assert audit_actions(app) == []


@pytest.mark.parametrize("data", [
    {"category": "", "text": "有内容"},
    {"category": "nonsense", "text": "有内容"},
    {"category": "ideas", "text": "   "},
    {"category": "ideas", "text": "字" * 1001},
    {"category": "ideas", "text": "含\x00空字符"},  # PostgreSQL cannot store NUL: refused, never a 500
])
def test_bad_suggestions_are_refused_with_the_form(app, client, campaign, data):
    response = client.post(f"/s/{campaign['units'][0]}", data=data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    # the form shows its field errors; a NUL is refused earlier by the app-wide guard, naming it
    assert "errors" in body or "控制字符" in body
    assert rows(app, Suggestion) == []


def test_exactly_1000_characters_is_accepted(app, client, campaign):
    assert _send(client, campaign["units"][0], "字" * 1000).status_code == 302


def test_unknown_and_inactive_units_are_not_found(app, client, campaign):
    assert client.get("/s/99999").status_code == 404
    assert _send(client, 99999).status_code == 404
    assert client.get("/c/99999").status_code == 404
    with app.app_context():
        db.session.get(Unit, campaign["units"][1]).active = False
        db.session.commit()
    page = client.get(f"/s/{campaign['units'][1]}")
    assert page.status_code == 404 and "页面不存在" in page.get_data(as_text=True)
    assert client.get(f"/c/{campaign['units'][1]}").status_code == 404
    assert _send(client, campaign["units"][1]).status_code == 404
    assert rows(app, Suggestion) == []


def test_csrf_token_is_required(csrf_app, campaign):
    client = csrf_app.test_client()
    unit_id = campaign["units"][0]
    refused = _send(client, unit_id)
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    html = client.get(f"/s/{unit_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    ok = client.post(f"/s/{unit_id}", data={"csrf_token": token, "category": "other", "text": "好"})
    assert ok.status_code == 302
    with csrf_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Suggestion)) == 1


def test_rate_limited_per_address(database_url, app, campaign):
    limited = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_STORAGE_URI": "memory://"})
    client = limited.test_client()
    unit_id = campaign["units"][0]
    here = {"environ_base": {"REMOTE_ADDR": "10.9.0.1"}}
    statuses = [_send(client, unit_id, f"第{n}条", **here).status_code for n in range(6)]
    assert statuses == [302] * 5 + [429]
    page = _send(client, unit_id, "再来", **here)
    assert page.status_code == 429 and "操作过于频繁" in page.get_data(as_text=True)
    # reading the form is not limited, and another address may still send
    assert client.get(f"/s/{unit_id}", **here).status_code == 200
    assert _send(client, unit_id, "另一处", environ_base={"REMOTE_ADDR": "10.9.0.2"}).status_code == 302
    with limited.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Suggestion)) == 6
        db.engine.dispose()


def _seed_two(client, campaign):
    u1, u2 = campaign["units"]
    _send(client, u1, "第一单位的意见")
    _send(client, u2, "第二单位的意见")


def test_liaison_moderates_own_subtree_only(app, client, campaign):
    ids = make_accounts(app, campaign)
    _seed_two(client, campaign)
    first, second = rows(app, Suggestion)
    login(client, "l2")
    listing = client.get(f"/admin/campaigns/{ids['campaign']}/suggestions").get_data(as_text=True)
    assert "第二单位的意见" in listing and "第一单位的意见" not in listing
    # another unit's suggestion does not exist for this liaison
    assert client.post(f"/admin/suggestions/{first.id}/moderate", data={"status": "approved"}).status_code == 404
    assert rows(app, Suggestion, Suggestion.id == first.id)[0].status == "pending"
    csv = client.get(f"/admin/campaigns/{ids['campaign']}/suggestions.csv").get_data(as_text=True)
    assert "第二单位的意见" in csv and "第一单位的意见" not in csv
    # own unit: approved, with who and when; the audit entry names the id, never the text
    assert client.post(f"/admin/suggestions/{second.id}/moderate", data={"status": "approved"}).status_code == 302
    moderated = rows(app, Suggestion, Suggestion.id == second.id)[0]
    assert moderated.status == "approved" and moderated.moderated_by is not None and moderated.moderated_at
    entries = [e for e in audit_actions(app) if e[0] == "suggestion_moderate"]
    assert len(entries) == 1 and entries[0][1] == f"suggestion:{second.id}" and "意见" not in entries[0][2]
    # an unknown status changes nothing
    client.post(f"/admin/suggestions/{second.id}/moderate", data={"status": "deleted"})
    assert rows(app, Suggestion, Suggestion.id == second.id)[0].status == "approved"
    # viewers read but may not moderate; the organiser moderates any unit
    switch(client, "view")
    assert client.post(f"/admin/suggestions/{first.id}/moderate", data={"status": "rejected"}).status_code == 403
    switch(client, "org")
    assert client.post(f"/admin/suggestions/{first.id}/moderate", data={"status": "rejected"}).status_code == 302
    assert rows(app, Suggestion, Suggestion.id == first.id)[0].status == "rejected"


def test_moderation_needs_sign_in(app, client, campaign):
    _seed_two(client, campaign)
    first = rows(app, Suggestion)[0]
    response = client.post(f"/admin/suggestions/{first.id}/moderate", data={"status": "approved"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert rows(app, Suggestion, Suggestion.id == first.id)[0].status == "pending"


def test_script_is_inert_in_pages_and_formulas_neutralised_in_csv(app, client, campaign):
    ids = make_accounts(app, campaign)
    for text in (SCRIPT, FORMULA, "-1+1", "普通意见"):
        _send(client, ids["u1"], text, category="problems")
    login(client, "org")
    for item in rows(app, Suggestion)[:3]:
        client.post(f"/admin/suggestions/{item.id}/moderate", data={"status": "approved"})
    pages = [client.get(f"/admin/campaigns/{ids['campaign']}/suggestions").get_data(as_text=True),
             client.get(f"/admin/work/units/{ids['u1']}").get_data(as_text=True),
             client.get(f"/admin/evaluations/{campaign['evaluation']}").get_data(as_text=True)]
    for html in pages:
        assert SCRIPT not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    # the unit page lists the approved ones with the counts
    unit_page = pages[2]
    assert "共 4 条:已采纳 3 · 待审核 1 · 未采纳 0" in unit_page and "普通意见" not in unit_page
    response = client.get(f"/admin/campaigns/{ids['campaign']}/suggestions.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffid,unit,category,text,status,submitted_on\r\n")
    assert "'=HYPERLINK" in body and '\n=HYPERLINK' not in body and ",=HYPERLINK" not in body
    assert "'-1+1" in body and "突出问题" in body and "已采纳" in body
    assert body.count("\r\n") == 5  # header + 4 suggestions
    # filtered export: pending only
    pending = client.get(f"/admin/campaigns/{ids['campaign']}/suggestions.csv?status=pending").get_data(as_text=True)
    assert "普通意见" in pending and "HYPERLINK" not in pending
    assert any(a == "export" for a, _, _ in audit_actions(app))


def test_services_refuse_control_characters_too(app, campaign):
    """Defence in depth: a caller that skips the forms still gets a message, not a database error."""
    from evaluation.work import suggestions
    from evaluation.services import ServiceError

    with app.app_context():
        unit = db.session.get(Unit, campaign["units"][0])
        with pytest.raises(ServiceError, match="控制字符"):
            suggestions.submit(unit, "ideas", "a\x00b")
    assert rows(app, Suggestion) == []
