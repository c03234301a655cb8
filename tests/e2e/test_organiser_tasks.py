"""Organisers in a real browser: a long task shows its progress and is sent once; English is chosen and kept.

Data: the ``seeded`` campaign of tests/e2e/seed.py, its own copy for this module
(issuing codes here changes its batches, so no other module shares it).
"""
from __future__ import annotations

import re
import time

from .conftest import LAPTOP, login
from .seed import LIAISON, PASSWORD

# Installed before the submit: records what the page shows while the server works, in
# sessionStorage so it survives the navigation to the slips, and tries a second submit.
WATCH_BUSY = """() => {
  const form = document.querySelector("form[data-busy]");
  const seen = [];
  new MutationObserver(() => {
    const status = form.querySelector(".busy-status");
    if (!status) { return; }
    seen.push({text: status.textContent, busy: form.getAttribute("aria-busy"),
               disabled: [...form.querySelectorAll("button")].filter(b => b.disabled).length});
    sessionStorage.setItem("busy-seen", JSON.stringify(seen));
    if (seen.length === 1) { form.requestSubmit(); }  // a second click while the first is running
  }).observe(form, {subtree: true, childList: true, characterData: true});
}"""


def test_bulk_issue_shows_running_seconds_and_is_sent_once(seeded, server, new_page, shot):
    ids = seeded
    page = new_page(**LAPTOP)
    login(page, server, ids["organiser"], PASSWORD)
    url = f"{server}/admin/evaluations/{ids['evaluations'][LIAISON[1]]}/codes"
    page.goto(url)
    posts = []

    def slow_post(route):
        # The server answers in milliseconds for a few codes; hold the answer back like a
        # bulk issue of thousands would, so the running count has time to show.
        if route.request.method == "POST":
            posts.append(route.request.url)
            time.sleep(2.5)
        route.continue_()

    page.route(re.compile(r".*/codes$"), slow_post)
    page.get_by_label(re.compile("每个测评主体的数量")).fill("3")
    groups = page.locator("input[name=groups]:checked").count()
    page.evaluate(WATCH_BUSY)
    page.get_by_role("button", name=re.compile("打印测评条")).click()
    page.wait_for_selector(".slip")  # the slips answer the POST at the same address
    shot(page, "slips-after-busy")
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('busy-seen') || '[]')")
    assert seen, "no progress was shown while the server worked"
    assert re.search(r"正在处理.*已用 \d+ 秒", seen[-1]["text"]), seen
    assert seen[-1]["busy"] == "true" and seen[-1]["disabled"] >= 1, seen
    assert len(posts) == 1, posts  # the second submit was held back
    assert groups >= 1 and page.locator(".slip").count() == 3 * groups


def test_english_is_chosen_in_the_header_and_remembered(seeded, server, new_page, shot):
    ids = seeded
    page = new_page(**LAPTOP)
    page.route("**/plotly.min.js", lambda route: route.abort())  # the charts are not the point here
    login(page, server, ids["organiser"], PASSWORD)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.locator("p.langs").get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "campaigns-in-english")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name=re.compile(r"^Campaigns?$")).is_visible()

    page.goto(f"{server}/admin/campaigns/{ids['campaign']}")  # another page: still English
    assert page.locator("html").get_attribute("lang") == "en"
    assert "units" in page.locator("ul.kpis").inner_text().lower()
    shot(page, "overview-in-english")

    page.locator("p.langs").get_by_role("link", name="中文").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert re.search(r"个单位", page.locator("ul.kpis").inner_text())
