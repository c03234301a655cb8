"""Configuration for Ceping, read from the environment.

Every setting has a safe development default so that the README's one-line run
command works on a fresh machine; production deployments set at least
``SECRET_KEY`` and usually ``DATABASE_URL``.
"""
from __future__ import annotations

import os

from keys import DEFAULT_SECRET  # noqa: F401  (re-exported: older settings and tests name it here)


def _normalise_database_url(url: str) -> str:
    """Let operators write ``postgresql://`` and still get the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    """Settings for a normal run; values come from environment variables."""

    # Unset: generated into instance/ on first start (keys.py); required in production.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    # The key that turns a printed ballot code into its stored hash. It defaults
    # to SECRET_KEY outside production; set it separately so the session secret
    # can be rotated without invalidating codes already printed on slips.
    CODE_KEY = os.environ.get("CEPING_CODE_KEY") or None
    # The key that seals ballots in the box until they are counted; never stored in the database.
    BALLOT_KEY = os.environ.get("CEPING_BALLOT_KEY") or None
    # None means "SQLite file in the instance folder", filled in by create_app.
    SQLALCHEMY_DATABASE_URI = (
        _normalise_database_url(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else None
    )
    # hide_parameters: a failed INSERT must not write answers or code hashes into logs.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # A whole questionnaire fits comfortably in 64 KiB; anything larger is abuse.
    MAX_CONTENT_LENGTH = int(os.environ.get("CEPING_MAX_BODY", 64 * 1024))
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH
    # Spreadsheet uploads (the unit import) get a larger limit, on their own route only:
    # a 300-row XLSX is about 15 KB, 5,000 rows well under 1 MB.
    UPLOAD_MAX = int(os.environ.get("CEPING_UPLOAD_MAX", 2 * 1024 * 1024))
    MAX_FORM_PARTS = 200
    WTF_CSRF_TIME_LIMIT = 6 * 3600  # a rater may read slowly on a phone
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure (HTTPS-only) cookies: on in production unless explicitly switched off.
    SESSION_COOKIE_SECURE = os.environ.get(
        "CEPING_SECURE_COOKIES", "1" if os.environ.get("CEPING_ENV") == "production" else "0") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Organiser sessions end after this long without a request, and this long after sign-in.
    SESSION_IDLE = int(os.environ.get("CEPING_SESSION_IDLE", 8 * 3600))
    SESSION_MAX_AGE = int(os.environ.get("CEPING_SESSION_MAX_AGE", 24 * 3600))
    PERMANENT_SESSION_LIFETIME = SESSION_MAX_AGE
    # Longest free-text answer accepted, in characters.
    TEXT_ANSWER_MAX = int(os.environ.get("CEPING_TEXT_MAX", 2000))
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # The cached overview (evaluation/results/overview_cache.py), keyed by the campaign's data
    # version: shared in Redis when there is one, else a few entries per process.
    CACHE_TYPE = "RedisCache" if REDIS_URL else "SimpleCache"
    CACHE_REDIS_URL = REDIS_URL
    CACHE_KEY_PREFIX = "ceping:cache:"
    CACHE_DEFAULT_TIMEOUT = 3600
    CACHE_THRESHOLD = 32
    # A hung Redis must not hang pages: fail fast and compute the page directly.
    CACHE_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2} if REDIS_URL else {}
    RATELIMIT_ENABLED = os.environ.get("CEPING_RATELIMIT", "1") == "1"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis unreachable: keep serving. Flask-Limiter falls back to per-process memory
    # counters and logs the error; the wrong-code guard logs and does not block. Without
    # these every rate-limited page, /v/<code> included, answered 500 (docs/deploy.md).
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Sign-in attempts per account and per address (issue: sign-in attempts limited).
    LOGIN_LIMIT = os.environ.get("CEPING_LOGIN_LIMIT", "10 per 5 minutes")
    # Organiser-side times (the audit log) are shown and filtered by day in this zone.
    TIMEZONE = os.environ.get("CEPING_TIMEZONE", "Asia/Shanghai")
    # Code guessing (docs/security.md has the arithmetic): wrong codes per address and
    # site-wide, and plain request limits on the code and ballot pages per address.
    CODE_FAILURES_PER_ADDRESS = os.environ.get("CEPING_CODE_FAILURES_PER_ADDRESS", "30 per hour")
    CODE_FAILURES_GLOBAL = os.environ.get("CEPING_CODE_FAILURES_GLOBAL", "2000 per hour")
    CODE_REQUESTS_PER_ADDRESS = os.environ.get("CEPING_CODE_REQUESTS_PER_ADDRESS", "120 per minute;2000 per hour")
    # While the site-wide budget is spent, an address is blocked after this many wrong codes.
    CODE_FAILURES_WHEN_BUSY = os.environ.get("CEPING_CODE_FAILURES_WHEN_BUSY", "3 per hour")
    # The site's address as raters reach it, for QR links printed outside a request (``sheets print``).
    PUBLIC_URL = os.environ.get("CEPING_PUBLIC_URL") or None
    # Scanned answer sheets wait here (private, never in the database) until stored or refused.
    SCAN_DIR = os.environ.get("CEPING_SCAN_DIR") or None
    # A scan batch untouched this long is deleted at start-up (its sheets can simply be scanned again).
    SCAN_KEEP_HOURS = float(os.environ.get("CEPING_SCAN_KEEP_HOURS", 24))
    # Scans this large are refused (a 300 dpi A4 page is a few MB; 200 pages fit well).
    SCAN_UPLOAD_MAX = int(os.environ.get("CEPING_SCAN_UPLOAD_MAX", 200 * 1024 * 1024))
    # Number of trusted reverse proxies in front of the app (0: none).
    PROXY_COUNT = int(os.environ.get("CEPING_PROXY_COUNT", 0))
    TESTING = False


class TestConfig(Config):
    """Settings for the test suite: in-memory defaults, CSRF checked by dedicated tests."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    BALLOT_KEY = "test-ballot-key"
    SQLALCHEMY_DATABASE_URI = (
        _normalise_database_url(os.environ["TEST_DATABASE_URL"])
        if os.environ.get("TEST_DATABASE_URL")
        else None
    )
    WTF_CSRF_ENABLED = False
    # Limits are switched on by the tests that check them.
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    # Each test app starts with an empty per-process memo; a test that wants Redis says so.
    CACHE_TYPE = "SimpleCache"
    CACHE_OPTIONS: dict = {}
