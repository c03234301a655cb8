"""The campaign overview's first view in a throttled Chromium (issue 14, point 2): bytes, `load`, height.

Builds the 272-unit demo campaign (``flask --app app demo``) in ``--db`` unless
``--keep`` finds it there, serves it with gunicorn (``gunicorn.conf.py``, 2 workers),
signs in as the demo organiser, empties the browser cache and opens the overview with
the phone-like profile of the issue through the DevTools protocol:
``Network.emulateNetworkConditions`` (1.6 Mbit/s down, 750 kbit/s up, 150 ms latency)
and ``Emulation.setCPUThrottlingRate`` 4, at 1366×900. It prints, per run, the bytes
transferred (``encodedDataLength`` of every response: headers and compressed bodies),
the time to the ``load`` event, and the page's height; then the medians.

    python -m bench.overview_load --runs 3
    python -m bench.overview_load --keep --phone --liaison 区教育工委
    python -m bench.overview_load --base http://127.0.0.1:5000 --user demo --password ceping-demo

Run by hand from the repository root; pytest never runs it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench.common import BENCH_BALLOT_KEY, BENCH_SECRET, ROOT, Server, normalise, print_facts

CHROMIUM = os.environ.get("CEPING_CHROMIUM", "/usr/bin/chromium")
#: The issue's throttled profile: bytes per second for 1.6 Mbit/s down, 750 kbit/s up; 150 ms latency.
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8,
           "uploadThroughput": 750_000 / 8}
CPU_SLOWDOWN = 4
VIEWPORT = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LIAISON = ("bench-liaison", "bench-liaison-password")


def add_liaison(url: str, committee: str) -> None:
    """A liaison account bound to the demo committee named ``committee`` (once)."""
    from bench.common import make_app
    from evaluation.services import create_user
    from extensions import db
    from models import Unit, User

    app = make_app(url)
    with app.app_context():
        if db.session.scalar(db.select(User.id).where(User.username == LIAISON[0])) is None:
            unit = db.session.scalar(db.select(Unit.id).where(Unit.name == committee))
            create_user(LIAISON[0], LIAISON[1], "liaison", unit)


def build_demo(url: str) -> None:
    """The demo campaign in an empty database at ``url`` (with the bench's keys, so the server can read it)."""
    env = dict(os.environ, DATABASE_URL=normalise(url), SECRET_KEY=BENCH_SECRET, CEPING_BALLOT_KEY=BENCH_BALLOT_KEY)
    env.pop("TEST_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "demo"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def measure(browser, base: str, path: str, user: str, password: str, viewport: dict = VIEWPORT) -> dict:
    """One cold first view of ``path``: bytes transferred, ms to `load`, page height, requests."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")  # the sign-in page fetched the stylesheet: a first view has nothing
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    sizes: dict[str, float] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    started = time.perf_counter()
    page.goto(base + path, wait_until="load", timeout=120_000)
    wall_ms = (time.perf_counter() - started) * 1000
    # charts.js draws after `load` and marks when the last chart is done: report that too.
    page.wait_for_function("() => performance.getEntriesByName('ceping-charts-drawn').length > 0", timeout=120_000)
    timing = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                           " const js = performance.getEntriesByType('resource').find(r => r.name.includes('plotly'));"
                           " const c = performance.getEntriesByName('ceping-charts-drawn')[0];"
                           " return {load: n.loadEventStart, dcl: n.domContentLoadedEventEnd,"
                           " plotly: js ? js.responseEnd : 0, charts: c ? c.startTime : 0}; }")
    page.wait_for_timeout(500)  # late loadingFinished events of resources that arrived before `load`
    height = page.evaluate("() => document.documentElement.scrollHeight")
    per_url = {urls.get(rid, rid).replace(base, ""): int(size) for rid, size in sizes.items()
               if not urls.get(rid, "").startswith("data:")}  # plotly's inline images: no transfer
    context.close()
    return {"bytes": int(sum(sizes.values())), "load_ms": timing["load"], "dcl_ms": timing["dcl"],
            "plotly_ms": timing["plotly"], "charts_ms": timing["charts"],
            "wall_ms": wall_ms, "height": height, "requests": per_url}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:////tmp/ceping-bench/overview_demo.sqlite")
    parser.add_argument("--keep", action="store_true", help="use the demo already in --db")
    parser.add_argument("--base", help="measure a server already running here instead of starting one")
    parser.add_argument("--user", default="demo")
    parser.add_argument("--password", default="ceping-demo")
    parser.add_argument("--path", default="/admin/campaigns/1")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--phone", action="store_true", help="a 390x844 phone instead of 1366x900")
    parser.add_argument("--liaison", metavar="COMMITTEE",
                        help="sign in as a liaison of this demo committee (created in --db), e.g. 区教育工委")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print_facts(f"overview first view, throttled (1.6 Mbit/s, 150 ms, 4x CPU), {'390x844' if args.phone else '1366x900'}"
                f"{', liaison of ' + args.liaison if args.liaison else ''}")
    server = None
    if args.base is None:
        if args.db.startswith("sqlite:///") and not args.keep:
            path = args.db[len("sqlite:///"):]
            os.makedirs(os.path.dirname(path), exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
        if not args.keep:
            build_demo(args.db)
        if args.liaison:
            add_liaison(args.db, args.liaison)
        server = Server(args.db, workers=2)
    base = args.base or server.base
    try:
        with sync_playwright() as manager:
            browser = manager.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
            user, password = LIAISON if args.liaison else (args.user, args.password)
            viewport = PHONE if args.phone else VIEWPORT
            runs = [measure(browser, base, args.path, user, password, viewport) for _ in range(args.runs)]
            browser.close()
    finally:
        if server is not None:
            server.stop()
    for n, run in enumerate(runs, 1):
        print(f"run {n}: {run['bytes'] / 1024:.0f} KiB transferred, load {run['load_ms']:.0f} ms "
              f"(DOMContentLoaded {run['dcl_ms']:.0f} ms, plotly.js received {run['plotly_ms']:.0f} ms, "
              f"charts drawn {run['charts_ms']:.0f} ms), height {run['height']} px")
    for url, size in sorted(runs[-1]["requests"].items(), key=lambda kv: -kv[1]):
        print(f"  {size / 1024:8.1f} KiB  {url}")
    print(f"median: {statistics.median(r['bytes'] for r in runs) / 1024:.0f} KiB, "
          f"load {statistics.median(r['load_ms'] for r in runs):.0f} ms, "
          f"charts drawn {statistics.median(r['charts_ms'] for r in runs):.0f} ms, "
          f"height {statistics.median(r['height'] for r in runs):.0f} px")


if __name__ == "__main__":
    main()
