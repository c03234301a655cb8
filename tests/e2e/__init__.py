"""End-to-end tests: a real Chromium, driven by Playwright, against a live gunicorn.

A package (unlike the other test folders) so its conftest is ``e2e.conftest``
and does not shadow ``tests/conftest.py``, which other modules import by name.
"""
