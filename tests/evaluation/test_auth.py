"""Organiser sign-in: everything outside the rater flow needs an account; no open redirect."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from evaluation.services import create_user
from extensions import db
from models import User

PASSWORD = "correct-horse"


@pytest.fixture()
def organiser(app):
    with app.app_context():
        create_user("org", PASSWORD, "organiser")
    return "org"


def _login(client, username="org", password=PASSWORD, next_=None):
    url = "/login" if next_ is None else f"/login?next={quote(next_, safe='')}"
    return client.post(url, data={"username": username, "password": password})


@pytest.mark.parametrize("path", ["/admin/", "/admin/campaigns/1"])
def test_admin_pages_redirect_to_login(client, campaign, path):
    response = client.get(path)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login"
    assert quote(path, safe="") in target.query


def test_logout_needs_login(client):
    response = client.post("/logout")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def test_rater_pages_need_no_login(client):
    assert client.get("/").status_code == 200
    assert client.get("/thanks").status_code == 200


def test_login_page_is_labelled(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'for="username"' in html and 'for="password"' in html


@pytest.mark.parametrize("username, password", [
    ("org", "wrong-password"),
    ("nobody", PASSWORD),
    ("ORG", PASSWORD),
    ("org", ""),
])
def test_wrong_credentials_show_an_error(client, organiser, username, password):
    response = _login(client, username, password)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "用户名或密码错误" in body or "请输入密码" in body
    assert client.get("/admin/").status_code == 302  # still signed out


def test_inactive_account_cannot_sign_in(app, client, organiser):
    with app.app_context():
        db.session.scalars(db.select(User)).one().active = False
        db.session.commit()
    assert _login(client).status_code == 400
    assert client.get("/admin/").status_code == 302


def test_right_password_shows_the_campaign_list(client, organiser, campaign):
    response = _login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    home = client.get("/admin/")
    assert home.status_code == 200
    body = home.get_data(as_text=True)
    assert "测试活动" in body and f"/admin/campaigns/{campaign['campaign']}" in body
    detail = client.get(f"/admin/campaigns/{campaign['campaign']}").get_data(as_text=True)
    assert "第一单位" in detail
    assert client.get("/admin/campaigns/999999").status_code == 404


def test_login_follows_a_local_next(client, organiser, campaign):
    response = _login(client, next_=f"/admin/campaigns/{campaign['campaign']}")
    assert response.headers["Location"] == f"/admin/campaigns/{campaign['campaign']}"


@pytest.mark.parametrize("next_", [
    "//evil.com", "//evil.com/admin/", "https://evil.com/", "http:evil.com", "///evil.com",
    "/\\evil.com", "\\\\evil.com", "/\t/evil.com", "/\n/evil.com", " //evil.com", "javascript:alert(1)",
])
def test_open_redirect_is_ignored(client, organiser, next_):
    response = _login(client, next_=next_)
    assert response.status_code == 302
    location = response.headers["Location"]
    # Either home, or a harmless path on this site (a backslash is sent percent-encoded, "/%5Cevil.com").
    assert location == "/admin/" or location == "/%5Cevil.com", location
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc
    assert not location.startswith("//") and "\\" not in location
    assert not any(ch.isspace() or ord(ch) < 32 for ch in location)


def test_signed_in_user_visiting_login_goes_home(client, organiser):
    _login(client)
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_logout_is_post_only_and_signs_out(client, organiser):
    _login(client)
    assert client.get("/admin/").status_code == 200
    assert client.get("/logout").status_code == 405
    assert client.get("/admin/").status_code == 200  # a GET (e.g. a link elsewhere) did not sign out
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/admin/").status_code == 302


def test_login_form_needs_its_csrf_token(csrf_app):
    with csrf_app.app_context():
        create_user("org", PASSWORD, "organiser")
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": "org", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_the_session_never_holds_the_password(client, organiser):
    response = _login(client)
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert PASSWORD not in cookies
    assert "HttpOnly" in cookies
