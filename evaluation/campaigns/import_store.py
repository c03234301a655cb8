"""Keep a parsed upload on the server between its preview and its confirmation.

The rows of a 300-unit sheet do not fit a cookie session (4 KB), and sending
them back through the browser would mean trusting — or re-verifying — whatever
the client returns. So the parsed rows stay on the server under a random
128-bit token; the browser holds only the token. A pending import belongs to
the account that uploaded it and expires after :data:`TTL_SECONDS`.

Where: in Redis when ``REDIS_URL`` is set — the store every app server of a
multi-server deployment shares (docs/deploy.md), so preview and confirmation
may land on different servers — otherwise in JSON files under
``instance/imports/`` (``IMPORT_FOLDER``), which all workers of one server share.
Nothing is written to the database before confirmation, so losing a pending
import only means uploading the sheet again.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from typing import Any, Optional

from flask import current_app

TTL_SECONDS = 3600
REDIS_PREFIX = "ceping:import:"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")


def _valid(token: str) -> bool:
    """Only strings we could have made are looked up (no path tricks, no odd Redis keys)."""
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


def _redis():
    """A Redis client for ``REDIS_URL`` (one per app), or None when Redis is not configured."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("ceping_import_redis")
    if client is None:
        import redis

        client = current_app.extensions["ceping_import_redis"] = redis.Redis.from_url(url)
    return client


def _folder() -> str:
    """``IMPORT_FOLDER`` when configured, else ``instance/imports``."""
    path = current_app.config.get("IMPORT_FOLDER") or os.path.join(current_app.instance_path, "imports")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def sweep(now: Optional[float] = None) -> int:
    """Delete pending-import files older than the TTL (Redis expires its keys itself)."""
    now = now or time.time()
    removed = 0
    folder = _folder()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if name.endswith(".json") and now - os.path.getmtime(path) > TTL_SECONDS:
                os.remove(path)
                removed += 1
        except OSError:  # another worker removed it first
            continue
    return removed


def save(kind: str, user_id: int, payload: dict[str, Any]) -> str:
    """Store ``payload`` for ``user_id`` and return its new token."""
    token = secrets.token_urlsafe(16)
    text = json.dumps({"kind": kind, "user_id": user_id, "created": time.time(), "payload": payload},
                      ensure_ascii=False)
    client = _redis()
    if client is not None:
        client.set(REDIS_PREFIX + token, text.encode("utf-8"), ex=TTL_SECONDS)
        return token
    sweep()
    path = os.path.join(_folder(), f"{token}.json")
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)  # readers never see half a file
    return token


def _read(token: str) -> Optional[str]:
    client = _redis()
    if client is not None:
        raw = client.get(REDIS_PREFIX + token)
        return raw.decode("utf-8") if raw is not None else None
    try:
        with open(os.path.join(_folder(), f"{token}.json"), encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def load(kind: str, user_id: int, token: str) -> Optional[dict[str, Any]]:
    """The payload of a token if it exists, is of this kind, belongs to this user and has not expired."""
    if not _valid(token):
        return None
    try:
        stored = json.loads(_read(token) or "null")
    except ValueError:
        return None
    if not isinstance(stored, dict) or stored.get("kind") != kind or stored.get("user_id") != user_id:
        return None
    if time.time() - float(stored.get("created", 0)) > TTL_SECONDS:
        discard(token)
        return None
    return stored["payload"]


def discard(token: str) -> None:
    """Forget a pending import (after it was imported)."""
    if not _valid(token):
        return
    client = _redis()
    if client is not None:
        client.delete(REDIS_PREFIX + token)
        return
    try:
        os.remove(os.path.join(_folder(), f"{token}.json"))
    except OSError:
        pass
