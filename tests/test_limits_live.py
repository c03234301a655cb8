"""Limits that hold on a live gunicorn server (issue 13).

Without Redis the counters live in one process: the default server is one worker with
threads, and there the 11th failed sign-in and the 31st wrong code from an address are
refused exactly. Several workers without Redis would each count alone, so that refuses to
start in production and warns elsewhere. With Redis, four workers count together.
"""
from __future__ import annotations

import random
import re

import pytest
import requests
from conftest import require_redis, server_log, start_server, stop_server

from evaluation.services import create_user
from surveys.codes import generate_code

PASSWORD = "correct-horse"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PRODUCTION_KEYS = {"CEPING_ENV": "production", "SECRET_KEY": "s" * 40, "CEPING_CODE_KEY": "c" * 40,
                   "CEPING_BALLOT_KEY": "b" * 40}


def _sign_in(base: str, username: str, password: str) -> int:
    """One sign-in attempt by a fresh browser (CSRF on, as in production); the HTTP status."""
    browser = requests.Session()
    token = TOKEN.search(browser.get(f"{base}/login", timeout=30).text)
    data = {"username": username, "password": password, "csrf_token": token.group(1) if token else ""}
    return browser.post(f"{base}/login", data=data, allow_redirects=False, timeout=30).status_code


def _exact_limits(base: str, username: str) -> None:
    statuses = [_sign_in(base, username, "wrong-password") for _ in range(10)]
    assert statuses == [400] * 10
    assert _sign_in(base, username, PASSWORD) == 429  # the 11th attempt waits, right password or not
    codes = [requests.post(f"{base}/v", data={"code": generate_code()}, timeout=30).status_code for _ in range(31)]
    assert codes == [404] * 30 + [429]


def test_one_threaded_process_without_redis_counts_exactly(app, database_url):
    with app.app_context():
        create_user("org", PASSWORD, "organiser")
    proc, base = start_server(database_url, workers=1, extra_env={"CEPING_RATELIMIT": "1"})
    try:
        _exact_limits(base, "org")
        assert "gthread" in server_log(proc)
    finally:
        stop_server(proc)


def test_four_workers_with_redis_count_together(app, database_url):
    redis_url = require_redis()
    username = f"org{random.randrange(10**9)}"  # counters of earlier runs stay in Redis for a while
    with app.app_context():
        create_user(username, PASSWORD, "organiser")
    # A fresh client address per run, through one trusted proxy (ProxyFix), for the same reason.
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    proc, base = start_server(database_url, workers=4, extra_env={
        "CEPING_RATELIMIT": "1", "REDIS_URL": redis_url, "CEPING_PROXY_COUNT": "1"})
    original = requests.Session.request

    def forwarded(self, method, url, **kwargs):
        kwargs.setdefault("headers", {})["X-Forwarded-For"] = address
        return original(self, method, url, **kwargs)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(requests.Session, "request", forwarded)
            _exact_limits(base, username)
    finally:
        stop_server(proc)


def test_several_workers_without_redis_refuse_to_start_in_production(database_url):
    with pytest.raises(RuntimeError, match="4 worker processes without REDIS_URL"):
        start_server(database_url, workers=4, extra_env=PRODUCTION_KEYS)


def test_several_workers_without_redis_warn_outside_production(database_url):
    proc, _ = start_server(database_url, workers=2)
    try:
        assert "WARNING: 2 worker processes without REDIS_URL" in server_log(proc)
    finally:
        stop_server(proc)
