"""Cookies, headers on organiser pages and the code in the URL (docs/security.md, section "Headers and cookies")."""
from __future__ import annotations

import importlib
import re

import config


def _set_cookie_headers(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_session_cookie_is_httponly_and_samesite(csrf_app, campaign, issue):
    code = issue(campaign["evaluation"], "党员", 1)[0]
    response = csrf_app.test_client().post("/v", data={"code": code}, follow_redirects=True)  # the form needs a CSRF token → session cookie
    # (Flask-Login may also send an expired remember_token to clear it: not a cookie it keeps)
    cookies = [c for c in _set_cookie_headers(response) if "Max-Age=0" not in c]
    assert cookies, "the ballot form sets a session cookie for its CSRF token"
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain HTTP in development


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("CEPING_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-for-this-test-only")
    try:
        reloaded = importlib.reload(config)
        assert reloaded.Config.SESSION_COOKIE_SECURE is True
        assert reloaded.Config.REMEMBER_COOKIE_SECURE is True
        monkeypatch.setenv("CEPING_SECURE_COOKIES", "0")
        assert importlib.reload(config).Config.SESSION_COOKIE_SECURE is False
    finally:
        monkeypatch.delenv("CEPING_ENV")
        monkeypatch.delenv("CEPING_SECURE_COOKIES", raising=False)
        importlib.reload(config)


def test_organiser_pages_forbid_inline_scripts_and_framing(app, client, campaign):
    from evaluation.services import create_user

    with app.app_context():
        create_user("sec-organiser", "correct-horse-1", "organiser")
    client.post("/login", data={"username": "sec-organiser", "password": "correct-horse-1"})
    response = client.get(f"/admin/campaigns/{campaign['campaign']}")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    script = re.search(r"script-src ([^;]+)", csp).group(1)
    assert script.strip() == "'self'"
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    # every <script> either loads a local file or is a JSON data block plotly reads
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert "cdn" not in html.lower()


def test_code_in_the_url_never_leaves_through_referer_or_links(client, campaign, issue):
    code = issue(campaign["evaluation"], "党员", 1)[0]
    response = client.post("/v", data={"code": code}, follow_redirects=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert '<meta name="referrer" content="no-referrer">' in html
    # no link or resource on the ballot page points off-site
    for url in re.findall(r'(?:href|src|action)="([^"]+)"', html):
        assert url.startswith("/") or url.startswith("data:") or url.startswith("#"), url


def test_a_raters_session_is_not_rewritten_on_every_request(csrf_app, campaign, issue):
    """Flask-Login's session protection is for signed-in sessions: a rater's cookie (its token, its
    code) is sent back only when the app changes it, and no response clears a remember-me cookie."""
    code = issue(campaign["evaluation"], "党员", 1)[0]
    client = csrf_app.test_client()
    opened = client.post("/v", data={"code": code, "scripted": "1"})
    assert opened.status_code == 200 and any(c.startswith("session=") for c in _set_cookie_headers(opened))
    for response in (client.get("/v/questionnaire"), client.get("/thanks")):
        assert response.status_code == 200
        assert _set_cookie_headers(response) == [], _set_cookie_headers(response)
    assert "remember_token" not in " ".join(_set_cookie_headers(opened))
