"""Caching and transport headers (issue 13): no admin page, download or ballot page may be kept by a
browser or proxy; HSTS whenever cookies are marked secure (the site is behind TLS)."""
from __future__ import annotations

import pytest

from app import create_app
from evaluation.services import create_user
from extensions import db

PASSWORD = "correct-horse"


@pytest.fixture()
def signed_in(app, campaign):
    with app.app_context():
        create_user("org", PASSWORD, "organiser")
    client = app.test_client()
    assert client.post("/login", data={"username": "org", "password": PASSWORD}).status_code == 302
    return client, campaign


@pytest.mark.parametrize("path", [
    "/admin/", "/admin/users", "/admin/audit", "/admin/campaigns/{c}", "/admin/campaigns/{c}/codes",
    "/admin/campaigns/{c}/results.csv", "/admin/campaigns/{c}/results.xlsx", "/admin/evaluations/{e}/results.csv",
    "/admin/campaigns/{c}/ballots.csv", "/admin/campaigns/{c}/turnout", "/admin/password",
])
def test_admin_pages_and_downloads_are_never_stored(signed_in, path):
    client, campaign = signed_in
    response = client.get(path.format(c=campaign["campaign"], e=campaign["evaluation"]))
    assert response.status_code == 200, path
    assert "no-store" in response.headers["Cache-Control"], path


def test_the_sign_in_page_is_never_stored(client):
    assert "no-store" in client.get("/login").headers["Cache-Control"]


def test_the_questionnaire_is_never_stored_and_static_files_may_be(client, campaign, issue):
    code = issue(campaign["evaluation"], "党员", 1)[0]
    assert "no-store" in client.post("/v", data={"code": code}, follow_redirects=True).headers["Cache-Control"]
    assert "no-store" not in client.get("/static/vendor/plotly.min.js").headers.get("Cache-Control", "")


def test_hsts_when_cookies_are_secure(database_url):
    secure = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SESSION_COOKIE_SECURE": True})
    plain = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SESSION_COOKIE_SECURE": False})
    assert secure.test_client().get("/").headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain.test_client().get("/").headers
    for application in (secure, plain):
        with application.app_context():
            db.engine.dispose()
