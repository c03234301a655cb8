"""Code-guessing guard: failed code look-ups are counted per address and globally.

Flask-Limiter caps how many *failed* requests an address may make (successful
rater requests are free, so a meeting room behind one address gets through);
this module caps how many *wrong codes* may be tried, in the same shared
storage (Redis when configured, so every app server counts together).

Blocks only ever fall on addresses that failed. An address is blocked after
``CODE_FAILURES_PER_ADDRESS`` wrong codes; once the site-wide budget
``CODE_FAILURES_GLOBAL`` is spent (a distributed guesser), an address is blocked
after only ``CODE_FAILURES_WHEN_BUSY`` — failures slow down everywhere, while an
address that has not failed, with a valid code, always opens its questionnaire.
The arithmetic that makes guessing hopeless is in docs/security.md.
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
    "CODE_FAILURES_WHEN_BUSY": "3 per hour",
}


def init_app(app: Flask) -> None:
    """Create the guard's counter storage for this app (shared with Flask-Limiter's URI)."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["ceping_guard"] = FixedWindowRateLimiter(storage)


def _limits():
    config = current_app.config
    return (parse(config["CODE_FAILURES_PER_ADDRESS"]), parse(config["CODE_FAILURES_GLOBAL"]),
            parse(config["CODE_FAILURES_WHEN_BUSY"]))


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED")) and "ceping_guard" in current_app.extensions


def blocked() -> bool:
    """True when this address has used up its wrong-code budget (a smaller one while the site's is spent)."""
    if not _enabled():
        return False
    limiter = current_app.extensions["ceping_guard"]
    per_address, overall, when_busy = _limits()
    address = request.remote_addr or "unknown"
    try:
        if not limiter.test(per_address, "code-fail", address):
            return True
        return not limiter.test(overall, "code-fail", "all") and not limiter.test(when_busy, "code-fail", address)
    except Exception:  # noqa: BLE001 - counter storage down: stay available, say so in the log
        current_app.logger.error("code-guess counter unavailable; not blocking")
        return False


def record_failure() -> None:
    """Count one wrong or malformed code against this address and the global budget."""
    if not _enabled():
        return
    limiter = current_app.extensions["ceping_guard"]
    per_address, overall, when_busy = _limits()
    address = request.remote_addr or "unknown"
    try:
        limiter.hit(per_address, "code-fail", address)
        limiter.hit(when_busy, "code-fail", address)
        limiter.hit(overall, "code-fail", "all")
    except Exception:  # noqa: BLE001
        current_app.logger.error("code-guess counter unavailable; failure not counted")


def request_limit() -> str:
    """Flask-Limiter limit string for code entry and ballot pages, per address."""
    return current_app.config.get("CODE_REQUESTS_PER_ADDRESS", DEFAULTS["CODE_REQUESTS_PER_ADDRESS"])


def request_failed(response) -> bool:
    """Only failed rater requests count towards the per-address request limit (``deduct_when``).

    An opened questionnaire (200) and a stored ballot (a redirect to the thanks page)
    cost nothing, so 150 raters voting in turn from one address all get through.
    """
    return response.status_code >= 400
