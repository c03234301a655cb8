"""Lists that scale (issue 14), continued: suggestions, code batches, accounts and the audit log.

Each list is searched, sorted and paged on the server with its filters in the URL, and its
download holds the filtered rows; a liaison's lists hold their own units only; the English
audit log shows no Chinese target or action word.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from results_data import PASSWORD

from evaluation.services import create_evaluation, create_user, issue_codes
from extensions import db
from tests.evaluation.list_helpers import csv_rows as _csv, signed_in as _client
from models import Campaign, Role, Suggestion, Unit, UnitKind, User

DAY = dt.date(2026, 1, 1)


@pytest.fixture()
def world(app, campaign):
    """55 suggestions to 第一单位 ("意见 NN"), one to 别处单位 under another committee; batches on both;
    accounts org and liaison "li" of 测试党委, plus 55 viewers."""
    with app.app_context():
        c = db.session.get(Campaign, campaign["campaign"])
        other = Unit(campaign=c, code="C2", name="别处党委", kind=UnitKind.COMMITTEE, members=5)
        elsewhere = Unit(campaign=c, parent=other, code="Z001", name="别处单位", kind=UnitKind.UNIT, members=5)
        db.session.add_all([other, elsewhere])
        db.session.commit()
        mine = campaign["units"][0]
        db.session.add_all([Suggestion(campaign_id=c.id, unit_id=mine, category="ideas", text=f"意见 {n:02d}",
                                       status="pending", submitted_on=DAY + dt.timedelta(days=n))
                            for n in range(1, 56)])
        db.session.add(Suggestion(campaign_id=c.id, unit_id=elsewhere.id, category="other", text="别处的意见",
                                  status="pending", submitted_on=DAY))
        db.session.commit()
        for group in ("党员", "群众代表"):
            issue_codes(campaign["evaluation"], group, 2)
        issue_codes(create_evaluation(elsewhere.id, "satisfaction", open_now=True).id, "服务对象", 3)
        create_user("org", PASSWORD, "organiser")
        create_user("li", PASSWORD, "liaison", campaign["committee"])
        # 55 more accounts for the pager: one password hash shared (hashing each costs ~0.15 s).
        viewer = create_user("viewer00", PASSWORD, "viewer")
        db.session.add_all([User(username=f"viewer{n:02d}", password_hash=viewer.password_hash, role=Role.VIEWER)
                            for n in range(1, 55)])
        db.session.commit()
    return campaign


def test_suggestions_search_sort_pages_and_export(app, world):
    client = _client(app, "org")
    base = f"/admin/campaigns/{world['campaign']}/suggestions"
    first = client.get(base + "?sort=unit&dir=asc").get_data(as_text=True)
    assert first.count('class="suggestion-text"') == 50 and "共 56 条" in first
    found = client.get(base + "?q=意见 07").get_data(as_text=True)
    assert re.findall(r'suggestion-text">(意见 \d\d)<', found) == ["意见 07"]
    page_two = client.get(base + "?q=意见&sort=date&dir=desc&page=2").get_data(as_text=True)
    assert page_two.count('class="suggestion-text"') == 6
    rows = _csv(client.get(base + ".csv?q=别处"))
    assert [r[3] for r in rows[1:]] == ["别处的意见"]


def test_a_liaison_sees_only_their_suggestions_and_batches(app, world):
    client = _client(app, "li")
    campaign = world["campaign"]
    assert "别处的意见" not in client.get(f"/admin/campaigns/{campaign}/suggestions?q=别处").get_data(as_text=True)
    assert len(_csv(client.get(f"/admin/campaigns/{campaign}/suggestions.csv"))) == 1 + 55
    html = client.get(f"/admin/campaigns/{campaign}/batches").get_data(as_text=True)
    assert "第一单位" in html and "别处单位" not in html and "别处党委" not in html
    rows = _csv(client.get(f"/admin/campaigns/{campaign}/batches.csv"))
    assert {r[2] for r in rows[1:]} == {"第一单位"}


def test_batches_list_search_sort_and_export(app, world):
    client = _client(app, "org")
    base = f"/admin/campaigns/{world['campaign']}/batches"
    assert "共 3 条" in client.get(base).get_data(as_text=True)
    html = client.get(base + "?q=服务对象").get_data(as_text=True)
    assert "别处单位" in html and "第一单位" not in html
    rows = _csv(client.get(base + ".csv?sort=count&dir=desc"))
    assert [int(r[5]) for r in rows[1:]] == [3, 2, 2]
    assert [r[4] for r in _csv(client.get(base + ".csv?q=群众"))[1:]] == ["群众代表"]


def test_accounts_list_search_and_pages(app, world):
    client = _client(app, "org")
    html = client.get("/admin/users").get_data(as_text=True)
    assert "共 57 条" in html and 'rel="next"' in html
    assert html.index(">org<") < html.index(">li<") < html.index(">viewer00<")  # organisers, liaisons, viewers
    assert "viewer54" in client.get("/admin/users?page=2").get_data(as_text=True)
    found = client.get("/admin/users?q=测试党委").get_data(as_text=True)
    assert "共 1 条" in found and ">li<" in found
    assert "共 55 条" in client.get("/admin/users?role=viewer").get_data(as_text=True)


def test_audit_log_search_export_and_english_labels(app, world):
    client = _client(app, "org")
    client.post("/admin/users", data={"username": "新人", "password": "long-enough-1", "role": "viewer", "unit": 0})
    html = client.get("/admin/audit?q=新人").get_data(as_text=True)
    assert "共 1 条" in html and "账号 新人" in html
    rows = _csv(client.get("/admin/audit.csv?q=新人"))
    assert len(rows) == 2 and rows[1][3] == "账号 新人"
    client.get(f"/admin/campaigns/{world['campaign']}/evaluations.csv")  # audited as campaign:<id>
    client.get("/lang/en")
    english = client.get("/admin/audit?q=新人").get_data(as_text=True)
    table = english[english.index("<tbody>"):english.index("</tbody>")]
    assert "账号" not in table and "Account 新人" in table and "Create account" in table
    exports = client.get("/admin/audit?action=export").get_data(as_text=True)
    assert f"Campaign {world['campaign']}" in exports and "Export" in exports


BAD_ARGS = ["page=-1", "page=abc", "sort=DROP", "dir=x", "q=" + "y" * 3000, "q=%00", "role=god", "state=?",
            "action=nope", "since=never", "campaign_id=1", "_scheme=ftp", "committee=%00"]


def test_bad_arguments_give_a_page_never_a_500(app, world):
    client = _client(app, "org")
    c = world["campaign"]
    for arg in BAD_ARGS:
        for path in (f"/admin/campaigns/{c}/suggestions?", f"/admin/campaigns/{c}/suggestions.csv?",
                     f"/admin/campaigns/{c}/batches?", f"/admin/campaigns/{c}/batches.xlsx?", "/admin/users?",
                     "/admin/audit?", "/admin/audit.csv?"):
            status = client.get(path + arg).status_code
            assert status in (200, 400), (path + arg[:30], status)


def test_work_hub_lists_units_a_page_at_a_time_in_the_readers_scope(app, world):
    campaign = world["campaign"]
    organiser = _client(app, "org").get(f"/admin/campaigns/{campaign}/work?q=别处单位").get_data(as_text=True)
    assert "共 1 条" in organiser and ">别处单位</a>" in organiser
    liaison = _client(app, "li").get(f"/admin/campaigns/{campaign}/work").get_data(as_text=True)
    assert ">第一单位</a>" in liaison and "别处单位" not in liaison
