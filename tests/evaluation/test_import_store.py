"""Pending imports between preview and confirmation: bound to their uploader, expiring, in files or Redis."""
from __future__ import annotations

import os
import time

import pytest

from evaluation.campaigns import import_store


def roundtrip(app) -> None:
    """What both backends must do."""
    with app.test_request_context():
        token = import_store.save("units", 7, {"rows": [{"line": 2, "name": "党委"}]})
        assert import_store.load("units", 7, token) == {"rows": [{"line": 2, "name": "党委"}]}
        assert import_store.load("units", 8, token) is None  # another account
        assert import_store.load("questions", 7, token) is None  # another kind of upload
        for bad in ("../../etc/passwd", "", "x" * 500, None, "*"):
            assert import_store.load("units", 7, bad) is None
        import_store.discard(token)
        assert import_store.load("units", 7, token) is None


def test_file_backend_roundtrip_expiry_and_sweep(app, tmp_path, monkeypatch):
    app.config.update(REDIS_URL=None, IMPORT_FOLDER=str(tmp_path))
    roundtrip(app)
    with app.test_request_context():
        token = import_store.save("units", 7, {"rows": []})
        path = tmp_path / f"{token}.json"
        assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
        later = time.time() + import_store.TTL_SECONDS + 1
        monkeypatch.setattr(import_store.time, "time", lambda: later)
        assert import_store.load("units", 7, token) is None and not path.exists()
        old = tmp_path / ("a" * 22 + ".json")
        old.write_text("{}")
        os.utime(old, (0, 0))
        assert import_store.sweep(now=later) == 1 and not old.exists()


def test_redis_backend_shared_by_every_server(app):
    """With REDIS_URL the pending rows live in Redis, with a TTL, so any app server can confirm."""
    import redis

    url = os.environ.get("CEPING_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CEPING_SERVICES_REQUIRED") == "1":
            raise
        pytest.skip("no Redis at " + url)
    app.config.update(REDIS_URL=url, IMPORT_FOLDER="/nonexistent/never-used")
    roundtrip(app)
    with app.test_request_context():
        token = import_store.save("units", 1, {"rows": []})
        client = redis.Redis.from_url(url)
        assert 0 < client.ttl(import_store.REDIS_PREFIX + token) <= import_store.TTL_SECONDS
        import_store.discard(token)
        assert client.exists(import_store.REDIS_PREFIX + token) == 0
