"""Sessions that end when they should (issue 13): a cookie copied before sign-out, a password
change, disabling or an organiser's reset is refused afterwards; idle and absolute limits hold;
a forged X-Forwarded-For header never makes a replayed cookie pass."""
from __future__ import annotations

import time

import pytest

from evaluation.services import create_user
from extensions import db
from models import User
from tests.evaluation.html_forms import post_confirmed

PASSWORD = "correct-horse"


@pytest.fixture()
def accounts(app):
    with app.app_context():
        create_user("org", PASSWORD, "organiser")
        create_user("boss", PASSWORD, "organiser")
    return app


def _signed_in(app, username="org", password=PASSWORD, **environ):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password},
                           environ_base=environ)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _copy(app, client, **environ):
    """Another client carrying the same session cookie (the attacker's replay)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _opens_admin(client, **environ) -> bool:
    return client.get("/admin/users", environ_base=environ).status_code == 200


def test_cookie_replayed_after_sign_out_is_refused(accounts):
    victim = _signed_in(accounts)
    thief = _copy(accounts, victim)
    assert _opens_admin(thief)  # the copy works while the session lives …
    assert victim.post("/logout").status_code == 302
    assert not _opens_admin(thief)  # … and dies with the sign-out


def test_other_sessions_end_at_a_password_change_but_this_one_stays(accounts):
    office, home = _signed_in(accounts), _signed_in(accounts)
    response = office.post("/admin/password", data={"old": PASSWORD, "new": "new-password-1",
                                                    "confirm": "new-password-1"})
    assert response.status_code == 302
    assert not _opens_admin(home)
    assert _opens_admin(office)


def test_disabling_and_resetting_end_the_sessions(accounts):
    boss = _signed_in(accounts, "boss")
    victim = _signed_in(accounts)
    response = boss.post("/admin/users/1/password", data={"new": "reset-password-1", "confirm": "reset-password-1"})
    assert response.status_code == 302
    assert not _opens_admin(victim)
    again = _signed_in(accounts, "org", "reset-password-1")
    with accounts.app_context():
        org = db.session.scalar(db.select(User).where(User.username == "org"))
    assert post_confirmed(boss, f"/admin/users/{org.id}/active", {"active": "0"}).status_code == 302
    assert not _opens_admin(again)


def test_reset_page_refuses_a_short_password_and_oneself(accounts):
    boss = _signed_in(accounts, "boss")
    response = boss.post("/admin/users/1/password", data={"new": "short", "confirm": "short"})
    assert response.status_code == 400 and "密码须为 8 到 200 个字符" in response.get_data(as_text=True)
    assert boss.get("/admin/users/2/password").status_code == 404  # boss is user 2: own password page instead
    assert boss.get("/admin/users/999/password").status_code == 404


def test_a_spoofed_forwarded_for_does_not_pass(accounts):
    """Session protection fingerprints the address ProxyFix trusts, never a raw header."""
    victim = _signed_in(accounts, REMOTE_ADDR="10.1.1.1")
    thief = _copy(accounts, victim)
    assert not _opens_admin(thief, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="10.1.1.1")


def test_idle_and_absolute_limits(accounts, monkeypatch):
    client = _signed_in(accounts)
    accounts.config.update(SESSION_IDLE=100, SESSION_MAX_AGE=1000)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 90)
    assert _opens_admin(client)  # within the idle time: the request renews it
    monkeypatch.setattr(time, "time", lambda: now + 170)
    assert _opens_admin(client)
    monkeypatch.setattr(time, "time", lambda: now + 400)
    assert not _opens_admin(client)  # idle for 230 s
    client = _signed_in(accounts)
    start = time.time()
    for step in range(1, 13):  # active every 90 s, but the absolute limit ends it
        monkeypatch.setattr(time, "time", lambda step=step: start + 90 * step)
        if not _opens_admin(client):
            break
    assert 90 * step > 1000 and 90 * (step - 1) <= 1000


@pytest.mark.parametrize("user_id", ["1", "1:", "x:1", "1:99", "99999999999999999999:1", ""])
def test_forged_session_ids_load_nobody(accounts, user_id):
    client = accounts.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_signed_in_at"] = session["_seen_at"] = int(time.time())
    assert client.get("/admin/users").status_code == 302
