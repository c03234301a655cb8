"""The overview page's body (evaluation/overview_cache.overview_body): cached data, yet per viewer.

The overview's data is cached per data version and key, and the body below the tabs
rendered from it for each request; these tests check what must differ per viewer: each
session's own CSRF token in the make-up forms, and the forms shown only to organisers.
"""
from __future__ import annotations

import re

from results_data import PASSWORD, login, seed_results

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
MAKEUP_FORM = re.compile(r'<form method="post" action="(/admin/evaluations/\d+/makeup)"[^>]*>\s*'
                         r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def _sign_in(client, username: str) -> None:
    """Sign in with CSRF on: the login form's own token first."""
    token = LOGIN_TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_each_session_gets_its_own_csrf_token_in_the_stored_body(app, csrf_app, campaign):
    from evaluation.services import create_user

    ids = seed_results(app, campaign)
    with app.app_context():
        create_user("organiser2", PASSWORD, "organiser")
    pages = []
    for username in ("organiser1", "organiser2"):
        client = csrf_app.test_client()
        _sign_in(client, username)
        page = client.get(f"/admin/campaigns/{ids['campaign']}").get_data(as_text=True)
        forms = MAKEUP_FORM.findall(page)
        assert forms and "<!--csrf-token-->" not in page
        # the form's token is the session's own (the same as the sign-out form's), so the form works
        assert {token for _, token in forms} == {TOKEN.search(page).group(1)}
        pages.append((client, forms[0]))
    assert pages[0][1][1] != pages[1][1][1]
    client, (action, token) = pages[1]
    assert client.post(action, data={"csrf_token": token}).status_code == 200  # the token passes; the page asks
    assert client.post(action, data={"csrf_token": token, "confirm": "1"}).status_code == 302


def test_only_organisers_see_the_makeup_buttons(app, client, campaign):
    from evaluation.services import create_user

    ids = seed_results(app, campaign)
    with app.app_context():
        create_user("viewer1", PASSWORD, "viewer")
    login(client, ids["organiser"])
    assert "决定补课并开启第二轮" in client.get(f"/admin/campaigns/{ids['campaign']}").get_data(as_text=True)
    client.post("/logout")
    login(client, "viewer1")
    page = client.get(f"/admin/campaigns/{ids['campaign']}").get_data(as_text=True)
    assert "决定补课并开启第二轮" not in page and "待决定" in page
