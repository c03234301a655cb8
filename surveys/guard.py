"""Code-guessing guard: failed code look-ups are counted per address and globally.

Flask-Limiter caps how many requests an address may make; this module caps how
many *wrong codes* may be tried, per address and across the whole site, in
the same shared storage (Redis when configured, so every app server counts
together). The arithmetic that makes guessing hopeless is in docs/security.md.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

# A meeting room often shares one address, so the per-address budget allows for
# a few dozen typing mistakes; the global budget is what bounds a distributed guesser.
DEFAULTS = {
    "CODE_FAILURES_PER_ADDRESS": "30 per hour",
    "CODE_FAILURES_GLOBAL": "2000 per hour",
    "CODE_REQUESTS_PER_ADDRESS": "120 per minute;2000 per hour",
}


def init_app(app: Flask) -> None:
    """Create the guard's counter storage for this app (shared with Flask-Limiter's URI)."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["ceping_guard"] = FixedWindowRateLimiter(storage)


def _limits():
    return parse(current_app.config["CODE_FAILURES_PER_ADDRESS"]), parse(current_app.config["CODE_FAILURES_GLOBAL"])


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED")) and "ceping_guard" in current_app.extensions


def blocked() -> bool:
    """True when this address, or the site as a whole, has used up its wrong-code budget."""
    if not _enabled():
        return False
    limiter = current_app.extensions["ceping_guard"]
    per_address, overall = _limits()
    address = request.remote_addr or "unknown"
    try:
        return not (limiter.test(per_address, "code-fail", address) and limiter.test(overall, "code-fail", "all"))
    except Exception:  # noqa: BLE001 - counter storage down: stay available, say so in the log
        current_app.logger.error("code-guess counter unavailable; not blocking")
        return False


def record_failure() -> None:
    """Count one wrong or malformed code against this address and the global budget."""
    if not _enabled():
        return
    limiter = current_app.extensions["ceping_guard"]
    per_address, overall = _limits()
    try:
        limiter.hit(per_address, "code-fail", request.remote_addr or "unknown")
        limiter.hit(overall, "code-fail", "all")
    except Exception:  # noqa: BLE001
        current_app.logger.error("code-guess counter unavailable; failure not counted")


def request_limit() -> str:
    """Flask-Limiter limit string for code entry and ballot pages, per address."""
    return current_app.config.get("CODE_REQUESTS_PER_ADDRESS", DEFAULTS["CODE_REQUESTS_PER_ADDRESS"])
