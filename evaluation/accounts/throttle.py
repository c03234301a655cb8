"""Sign-in throttling: a growing wait per (username, address) and per address, never a lockout.

The first ``LOGIN_LIMIT`` failures (say "10 per 5 minutes": ten) cost nothing;
each failure after them makes that pair, or that address, wait before its next
attempt: one window (five minutes), then two, four … up to a day. Keys always
include the client address, so a stranger failing from elsewhere can slow only
their own address, never keep an account's owner out. A successful sign-in
clears its pair. Counters live in the limiter's storage (Redis when
``REDIS_URL`` is set, else this process's memory: see gunicorn.conf.py).

Failed sign-ins are also counted per address and hour in ``sign_in_failures``
instead of one timestamped audit row each.
"""
from __future__ import annotations

import datetime as dt
import math
import time

from flask import Flask, current_app
from limits import parse
from limits.storage import storage_from_string
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from extensions import db

MEMORY = 24 * 3600  # failures are remembered this long, and no wait is longer


def init_app(app: Flask) -> None:
    """Create this app's counter storage (the same URI as Flask-Limiter's)."""
    app.extensions["ceping_login_throttle"] = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED")) and "ceping_login_throttle" in current_app.extensions


def _scopes(username: str, address: str) -> list[str]:
    name = (username or "").strip().lower()[:80]
    return [f"pair:{address}|{name}", f"addr:{address}"]


def _budget() -> tuple[int, int]:
    limit = parse(current_app.config["LOGIN_LIMIT"])
    return limit.amount, limit.get_expiry()


def wait_seconds(username: str, address: str) -> int:
    """Seconds this pair or address must still wait before trying again (0: go ahead)."""
    if not _enabled():
        return 0
    storage, now = current_app.extensions["ceping_login_throttle"], time.time()
    try:
        waits = [storage.get_expiry("login-wait:" + s) - now for s in _scopes(username, address)
                 if storage.get("login-wait:" + s) > 0]
    except Exception:  # noqa: BLE001 - counter storage down: stay available, say so in the log
        current_app.logger.error("sign-in counter unavailable; not throttling")
        return 0
    return max([0] + [math.ceil(w) for w in waits if w > 0])


def record_failure(username: str, address: str) -> None:
    """Count a failed attempt; past the free ones, start a wait that doubles with each failure."""
    _count_in_database(address)
    if not _enabled():
        return
    storage = current_app.extensions["ceping_login_throttle"]
    free, window = _budget()
    try:
        for scope in _scopes(username, address):
            failures = storage.incr("login-fail:" + scope, MEMORY)
            if failures >= free:
                delay = min(MEMORY, window * 2 ** min(failures - free, 20))
                storage.clear("login-wait:" + scope)
                storage.incr("login-wait:" + scope, delay)
    except Exception:  # noqa: BLE001
        current_app.logger.error("sign-in counter unavailable; failure not counted")


def record_success(username: str, address: str) -> None:
    """The owner got in: their pair starts afresh (the address keeps its count)."""
    if not _enabled():
        return
    storage = current_app.extensions["ceping_login_throttle"]
    pair = _scopes(username, address)[0]
    try:
        storage.clear("login-fail:" + pair)
        storage.clear("login-wait:" + pair)
    except Exception:  # noqa: BLE001
        current_app.logger.error("sign-in counter unavailable")


def _count_in_database(address: str) -> None:
    """Add one to this address's failures in this hour (committed here, on its own)."""
    from models import SignInFailures

    hour = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H")
    address = (address or "unknown")[:64]
    step = update(SignInFailures).where(SignInFailures.address == address, SignInFailures.hour == hour)
    for _ in range(2):  # a concurrent first failure of the hour may insert the row between our two steps
        if db.session.execute(step.values(failures=SignInFailures.failures + 1)).rowcount:
            db.session.commit()
            return
        db.session.add(SignInFailures(address=address, hour=hour, failures=1))
        try:
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()


def failures_by_hour(limit: int = 200) -> list:
    """The newest per-address, per-hour counts of failed sign-ins (for the audit page)."""
    from models import SignInFailures

    return list(db.session.scalars(select(SignInFailures).order_by(SignInFailures.hour.desc(),
                                                                  SignInFailures.failures.desc()).limit(limit)))
