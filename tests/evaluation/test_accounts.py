"""Accounts in the browser: creating liaison / viewer / organiser accounts, deactivating,
changing one's password, and what a liaison sees (only their own unit and the units below it)."""
from __future__ import annotations

import pytest
from results_data import PASSWORD, SCRIPT_NAME, login, make_token, seed_results
from sqlalchemy import select

from extensions import db
from models import Role, Unit, UnitKind, User


@pytest.fixture()
def organiser(app, client, campaign):
    from evaluation.services import create_user

    with app.app_context():
        create_user("org", PASSWORD, "organiser")
    login(client, "org")
    return campaign


def user(app, name: str):
    with app.app_context():
        found = db.session.scalar(select(User).where(User.username == name))
        if found is not None:
            db.session.expunge(found)
        return found


def test_organiser_creates_liaison_viewer_and_organiser_accounts(app, client, organiser):
    unit = organiser["units"][0]
    assert client.get("/admin/users").status_code == 200
    for name, role, unit_id in (("li", "liaison", unit), ("vi", "viewer", 0), ("or2", "organiser", 0)):
        response = client.post("/admin/users", data={"username": name, "role": role, "unit": unit_id,
                                                     "password": "long-enough-1"})
        assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert (user(app, "li").role, user(app, "li").unit_id) == (Role.LIAISON, unit)
    assert (user(app, "vi").role, user(app, "vi").unit_id) == (Role.VIEWER, None)
    assert user(app, "or2").role is Role.ORGANISER
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<td>联络员</td>" in page and "第一单位" in page
    fresh = app.test_client()
    fresh.post("/login", data={"username": "li", "password": "long-enough-1"})
    assert fresh.get(f"/admin/evaluations/{organiser['evaluation']}").status_code == 200


@pytest.mark.parametrize("data, message", [
    ({"username": "li", "role": "liaison", "unit": 0, "password": "long-enough-1"}, "联络员须指定单位"),
    ({"username": "li", "role": "liaison", "unit": 999999, "password": "long-enough-1"}, "不是有效的选择"),
    ({"username": "vi", "role": "viewer", "unit": 0, "password": "short"}, "密码须为 8 到 200 个字符"),
    ({"username": "org", "role": "viewer", "unit": 0, "password": "long-enough-1"}, "已存在"),
    ({"username": "", "role": "viewer", "unit": 0, "password": "long-enough-1"}, "请输入用户名"),
    ({"username": "x", "role": "admin", "unit": 0, "password": "long-enough-1"}, "不是有效的选择"),
])
def test_bad_account_requests_are_refused(app, client, organiser, data, message):
    response = client.post("/admin/users", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_only_organisers_manage_accounts(app, client, organiser):
    from evaluation.services import create_user

    with app.app_context():
        create_user("vi", PASSWORD, "viewer")
        create_user("li", PASSWORD, "liaison", organiser["units"][0])
    for name in ("vi", "li"):
        other = app.test_client()
        login(other, name)
        assert other.get("/admin/users").status_code == 403
        assert other.post("/admin/users", data={"username": "x", "role": "organiser", "unit": 0,
                                                "password": "long-enough-1"}).status_code == 403
        assert other.get("/admin/audit").status_code == 403
    assert user(app, "x") is None


def test_deactivated_account_cannot_sign_in_or_use_its_token_and_self_is_protected(app, client, organiser):
    from evaluation.services import create_user

    with app.app_context():
        create_user("vi", PASSWORD, "viewer")
    token = make_token(app, "vi")
    vi = user(app, "vi")
    other = app.test_client()
    login(other, "vi")
    client.post(f"/admin/users/{vi.id}/active", data={"active": "0", "confirm": "vi"})  # as its page states
    assert user(app, "vi").active is False
    assert other.get("/admin/").status_code == 302  # the open session ends too
    assert app.test_client().post("/login", data={"username": "vi", "password": PASSWORD}).status_code == 400
    assert client.get(f"/api/v1/campaigns/{organiser['campaign']}/results",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401
    me = user(app, "org")
    refused = client.post(f"/admin/users/{me.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "不能停用自己的账号" in refused.get_data(as_text=True) and user(app, "org").active
    client.post(f"/admin/users/{vi.id}/active", data={"active": "1"})
    assert user(app, "vi").active is True


@pytest.mark.parametrize("data, message", [
    ({"old": "wrong-password", "new": "new-password-1", "confirm": "new-password-1"}, "原密码不正确"),
    ({"old": PASSWORD, "new": "short", "confirm": "short"}, "密码须为 8 到 200 个字符"),
    ({"old": PASSWORD, "new": "new-password-1", "confirm": "new-password-2"}, "两次输入的新密码不一致"),
    ({"old": PASSWORD, "new": PASSWORD, "confirm": PASSWORD}, "不能与原密码相同"),
    ({"old": "", "new": "new-password-1", "confirm": "new-password-1"}, "请输入原密码"),
])
def test_password_change_refusals(app, client, organiser, data, message):
    response = client.post("/admin/password", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert user(app, "org").check_password(PASSWORD)


@pytest.mark.parametrize("role", ["organiser", "liaison", "viewer"])
def test_any_role_changes_its_own_password(app, organiser, role):
    from evaluation.services import create_user

    with app.app_context():
        create_user("someone", PASSWORD, role, organiser["units"][0] if role == "liaison" else None)
    client = app.test_client()
    login(client, "someone")
    assert client.get("/admin/password").status_code == 200
    response = client.post("/admin/password", data={"old": PASSWORD, "new": "new-password-1",
                                                    "confirm": "new-password-1"})
    assert response.status_code == 302
    assert user(app, "someone").check_password("new-password-1")
    client.post("/logout")
    assert client.post("/login", data={"username": "someone", "password": PASSWORD}).status_code == 400
    assert client.post("/login", data={"username": "someone", "password": "new-password-1"}).status_code == 302


@pytest.fixture()
def deep(app, campaign):
    """Seeded results, plus a branch under unit A with its own evaluation; liaisons on the committee and unit A."""
    from evaluation.services import create_evaluation, create_user

    ids = seed_results(app, campaign)
    with app.app_context():
        branch = Unit(campaign_id=ids["campaign"], parent_id=ids["unit_a"], code="B1", name="第一支部",
                      kind=UnitKind.BRANCH, members=6)
        db.session.add(branch)
        db.session.commit()
        ids["branch_eval"] = create_evaluation(branch.id, "satisfaction", open_now=True).id
        create_user("li-a", PASSWORD, "liaison", ids["unit_a"])
        create_user("li-c", PASSWORD, "liaison", ids["committee"])
    return ids


def test_liaison_sees_only_its_subtree_in_overview_and_evaluations_list(app, client, deep):
    escaped_b = SCRIPT_NAME.replace("<", "&lt;").replace(">", "&gt;")
    login(client, "li-a")
    evaluations = client.get(f"/admin/campaigns/{deep['campaign']}/evaluations").get_data(as_text=True)
    assert "第一单位" in evaluations and "第一支部" in evaluations and escaped_b not in evaluations
    overview = client.get(f"/admin/campaigns/{deep['campaign']}").get_data(as_text=True)
    assert "第一单位" in overview and escaped_b not in overview
    assert client.get(f"/admin/evaluations/{deep['branch_eval']}").status_code == 200
    assert client.get(f"/admin/evaluations/{deep['b']}").status_code == 404
    # the committee's liaison sees both units and the branch
    committee = app.test_client()
    login(committee, "li-c")
    evaluations = committee.get(f"/admin/campaigns/{deep['campaign']}/evaluations").get_data(as_text=True)
    assert all(name in evaluations for name in ("第一单位", "第一支部", escaped_b))
    assert committee.get(f"/admin/evaluations/{deep['b']}").status_code == 200
