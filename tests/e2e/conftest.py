"""Fixtures of the browser tests: Chromium through Playwright, a live gunicorn, screenshots, axe.

Chromium is Debian's (``/usr/bin/chromium``; ``CEPING_CHROMIUM`` points elsewhere):
Playwright's own browser download does not work on our machines. Without
Playwright or Chromium the tests skip with the reason, except when
``CEPING_E2E_REQUIRED=1`` (CI), where a missing browser is a failure.

The server is one gunicorn for the whole session, running the production
``Config`` (CSRF on) on the test database. Tests fill the database either per
test through the ``app`` fixture (emptied after each test) or per module through
``seeded`` (emptied after the module). Every step's screenshot goes to
``test-artifacts/e2e/<test>/`` (git-ignored).
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import _empty_all_tables, start_server, stop_server  # tests/conftest.py; this is e2e.conftest

from .seed import LIAISON, PASSWORD, seed_campaign

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: The README's screenshots, taken by the flows that pass those pages (see :func:`readme_shot`).
SCREENSHOTS = ROOT / "docs" / "screenshots"
README_SCREENSHOTS = ("rater-phone.png", "campaign-overview.png", "units-list.png")
CHROMIUM = os.environ.get("CEPING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
REQUIRED = os.environ.get("CEPING_E2E_REQUIRED") == "1"
PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
LAPTOP = {"viewport": {"width": 1280, "height": 900}}


def unavailable(reason: str) -> None:
    """Skip for a missing tool, or fail when CI requires the browser tests to run."""
    if REQUIRED:
        pytest.fail(f"{reason} — CEPING_E2E_REQUIRED=1, so the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so teardown knows whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -r requirements-dev.txt)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CEPING_CHROMIUM)")
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception:
        manager.stop()
        raise
    yield chromium
    chromium.close()
    manager.stop()


@pytest.fixture(scope="session")
def server(browser, database_url):
    """Base URL of a gunicorn (2 workers, production config) on the test database."""
    proc, base = start_server(database_url, workers=2)
    yield base
    stop_server(proc)


@pytest.fixture(scope="module")
def seeded(server, database_url):
    """The campaign of :mod:`e2e.seed` plus a liaison of 区财政局, built once for a module.

    For modules whose tests only read: it must not be mixed with the
    function-scoped ``app`` fixture, which empties the database after each test.
    """
    from app import create_app
    from evaluation.services import create_user
    from extensions import db
    from surveys.catalog import load_catalog

    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with application.app_context():
        load_catalog()
    ids = seed_campaign(application)
    with application.app_context():
        create_user(LIAISON[0], PASSWORD, "liaison", ids["units"][LIAISON[1]])
    yield ids
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    _empty_all_tables(database_url)


@pytest.fixture()
def artifacts(request) -> Path:
    """This test's screenshot folder, emptied first."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.*"):
        old.unlink(missing_ok=True)  # another run may share the folder
    return folder


@pytest.fixture()
def new_page(browser, artifacts, request):
    """``new_page(**context_options)`` → a page in a fresh browser context (no shared cookies).

    Contexts close after the test; when the test failed, each page's last
    screen is saved as ``failed-<n>.png``.
    """
    contexts = []

    def _new_page(**options):
        context = browser.new_context(locale="zh-CN", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for n, context in enumerate(contexts):
        if failed:
            for page in context.pages:
                page.screenshot(path=str(artifacts / f"failed-{n}.png"), full_page=True)
        context.close()


@pytest.fixture()
def shot(artifacts):
    """``shot(page, "name")`` saves a full-page screenshot as the test's next numbered step."""
    count = [0]

    def _shot(page, name: str) -> Path:
        count[0] += 1
        path = artifacts / f"{count[0]:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script (``npm ci`` installs it from package-lock.json)."""
    if not AXE_JS.is_file():
        unavailable(f"axe-core is not installed ({AXE_JS.relative_to(ROOT)} missing: run npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture()
def axe(axe_source, artifacts):
    """``axe(page, name)`` → (violations, undecided): axe's serious and critical findings on the page now.

    The page's context must bypass CSP (``bypass_csp=True``): axe goes in as an
    inline script, which our own CSP rightly refuses. Every violation and every
    check axe could not decide ("incomplete", for a person to review) is written
    to ``axe-<name>.json`` beside the screenshots.
    """

    def _axe(page, name: str) -> list[dict]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.add_script_tag(content=axe_source)
        result = page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations', 'incomplete']})")
        summary = {kind: [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": len(v["nodes"]),
                           "first": v["nodes"][0]["target"] if v["nodes"] else None} for v in result[kind]]
                   for kind in ("violations", "incomplete")}
        (artifacts / f"axe-{name}.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
        serious = ("serious", "critical")
        return [v for v in summary["violations"] if v["impact"] in serious], \
            [v for v in summary["incomplete"] if v["impact"] in serious]

    return _axe


def readme_shot(page, artifacts: Path, name: str, down_to) -> None:
    """Screenshot ``page`` from its top to the bottom of the ``down_to`` locator, as README picture ``name``.

    Always saved with the test's artifacts; ``CEPING_UPDATE_SCREENSHOTS=1``
    also writes it to docs/screenshots/, so the README shows the pages as they are.
    """
    assert name in README_SCREENSHOTS, name
    bottom = down_to.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
    page.screenshot(path=str(artifacts / name), full_page=True,
                    clip={"x": 0, "y": 0, "width": page.viewport_size["width"], "height": bottom + 16})
    if os.environ.get("CEPING_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifacts / name, SCREENSHOTS / name)


def login(page, server: str, username: str, password: str) -> None:
    """Sign in through the real form (CSRF token and all)."""
    page.goto(f"{server}/login")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(password)
    page.get_by_role("button", name=re.compile("登录")).click()
    page.wait_for_load_state()


def open_slip(page, server: str, code: str):
    """Open a slip's link ``/v#CODE`` as a phone's camera does; returns the page's response (after the redirect).

    static/js/code-link.js takes the code from after "#" and posts it in the body.
    """
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/v")) as posted:
        page.goto(f"{server}/v#{code}")
    page.wait_for_load_state()
    response = posted.value
    # Post/Redirect/Get: a ready code answers 303 to /v/questionnaire; the page is that GET's answer.
    while 300 <= response.status < 400 and response.request.redirected_to is not None:
        response = response.request.redirected_to.response()
    return response


def type_code(page, server: str, code: str):
    """Without JavaScript: open ``/v`` and type the code printed on the slip; returns the questionnaire's response."""
    page.goto(f"{server}/v")
    page.locator("input[name=code]").fill(code)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=re.compile("开始测评|Start")).click()
    return navigation.value
