"""Languages (issue 7, point 5): Chinese by default, English chosen and remembered, every string translated."""
from __future__ import annotations

import os

from babel.messages.pofile import read_po

import i18n


def test_chinese_is_the_default_whatever_the_browser_asks(client):
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "跳到正文" in html and "Skip to content" not in html


def test_english_is_chosen_and_remembered(client):
    switched = client.get("/lang/en?next=/thanks")
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/thanks")
    cookie = switched.headers["Set-Cookie"]
    assert "ceping_lang=en" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Remembered on the next request, with no parameter.
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Skip to content" in html and "跳到正文" not in html
    # And back.
    client.get("/lang/zh")
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_unknown_language_changes_nothing_and_foreign_next_stays_on_site(client):
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = client.get("/lang/zh", query_string={"next": target})
        assert response.status_code == 302
        assert response.headers["Location"] in ("/", "http://localhost/"), target
    response = client.get("/lang/xx?next=/thanks")
    assert response.status_code == 302 and "Set-Cookie" not in response.headers
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)
    client.set_cookie("ceping_lang", "de")
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_every_marked_string_has_an_english_translation():
    """The committed catalog covers every string marked in code and templates (run `flask --app app i18n build`)."""
    extracted = {m.id for m in i18n.extract_messages() if m.id}
    with open(os.path.join(i18n.SOURCE_DIR, "en", "LC_MESSAGES", "messages.po"), "rb") as handle:
        catalog = read_po(handle, locale="en")
    missing = sorted(str(m) for m in extracted if m not in catalog or i18n.untranslated(catalog[m]))
    assert not missing, f"{len(missing)} untranslated, e.g. {missing[:10]}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, fuzzy[:10]


def test_catalogs_are_compiled_when_the_app_starts(app):
    compiled = os.path.join(app.instance_path, "translations", "en", "LC_MESSAGES", "messages.mo")
    source = os.path.join(i18n.SOURCE_DIR, "en", "LC_MESSAGES", "messages.po")
    assert os.path.exists(compiled)
    assert os.path.getmtime(compiled) >= os.path.getmtime(source)
