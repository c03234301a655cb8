"""Organisers in a real browser: a long task shows its progress and is sent once; turnout updates
itself as ballots arrive; English is chosen and kept.

Data: the ``seeded`` campaign of tests/e2e/seed.py, its own copy for this module
(issuing codes here changes its batches, so no other module shares it).
"""
from __future__ import annotations

import re
import time

from .conftest import LAPTOP, login, open_slip
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
    page.get_by_role("button", name=re.compile("打印测评条")).click()
    # First the count, in words, and no code yet: one click never issues (evaluation/campaigns/confirm.py).
    page.wait_for_selector(".confirm-question")
    # busy.js is a deferred script: clicking before it runs (a loaded machine) would show no count at all.
    page.wait_for_load_state("load")
    assert f"共 {3 * groups} 个" in page.locator(".confirm-question").inner_text()
    assert page.locator(".slip").count() == 0
    page.evaluate(WATCH_BUSY)
    page.get_by_role("button", name=re.compile(f"确认发放 {3 * groups} 个测评码")).click()
    page.wait_for_selector(".slip")  # the slips answer the POST at the same address
    shot(page, "slips-after-busy")
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('busy-seen') || '[]')")
    assert seen, "no progress was shown while the server worked"
    assert re.search(r"正在处理.*已用 \d+ 秒", seen[-1]["text"]), seen
    assert seen[-1]["busy"] == "true", seen  # (its one button is the submitter; the count below shows the hold)
    assert len(posts) == 2, posts  # the question, then the confirmation; the second submit was held back
    assert groups >= 1 and page.locator(".slip").count() == 3 * groups


def test_english_is_chosen_in_the_header_and_remembered(seeded, server, new_page, shot):
    ids = seeded
    page = new_page(**LAPTOP)
    page.route("**/plotly.min.js*", lambda route: route.abort())  # the charts are not the point here
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


def test_turnout_counts_update_in_place_as_a_ballot_arrives(seeded, server, new_page, shot):
    ids = seeded
    unit = "区发展和改革局"
    organiser = new_page(**LAPTOP)
    login(organiser, server, ids["organiser"], PASSWORD)
    organiser.goto(f"{server}/admin/campaigns/{ids['campaign']}/turnout")
    live = organiser.locator("#turnout-live")
    assert "15" in live.inner_text()  # turnout.js took over the "reload to see" hint
    row = organiser.locator(f"tr[data-turnout='{ids['evaluations'][unit]}:党员']")
    used_before = int(row.locator("[data-field=used]").inner_text())
    total_before = int(organiser.locator("[data-total=used]").inner_text().replace(",", ""))

    rater = new_page(**LAPTOP)  # a rater votes meanwhile, in another browser
    open_slip(rater, server, ids["codes"][unit][0])
    for item in rater.locator("fieldset.item").all():
        item.get_by_label("满意", exact=True).check()
    rater.get_by_role("button", name=re.compile("提交测评票")).click()
    rater.wait_for_url(re.compile(r"/thanks$"))

    # The next round of turnout.js (every 15 s, and whenever the tab comes back into view).
    organiser.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    organiser.wait_for_function(
        "([selector, n]) => document.querySelector(selector).textContent === String(n)",
        arg=[f"tr[data-turnout='{ids['evaluations'][unit]}:党员'] [data-field=used]", used_before + 1])
    assert organiser.locator("[data-total=used]").inner_text().replace(",", "") == str(total_before + 1)
    assert "最近一次" in live.inner_text()
    shot(organiser, "turnout-updated")


def test_voiding_a_batch_asks_once_and_a_no_changes_nothing(seeded, server, new_page, shot):
    """Voiding cannot be undone: the first click only shows a page naming the batch and the count."""
    ids = seeded
    page = new_page(**LAPTOP)
    login(page, server, ids["organiser"], PASSWORD)
    codes_page = f"{server}/admin/evaluations/{ids['evaluations']['祝屋巷社区']}/codes"
    page.goto(codes_page)
    void = page.locator("form button", has_text="作废未使用的").first
    before = void.locator("xpath=ancestor::tr").inner_text()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    void.click()
    page.wait_for_load_state()
    shot(page, "void-asked")
    question = page.locator("main").inner_text()
    assert re.search(r"作废第 \d+ 批中 \d+ 个未使用的测评码", question), question
    page.get_by_role("link", name=re.compile("返回|取消")).first.click()  # "no": nothing changed
    page.wait_for_load_state()
    assert page.locator("form button", has_text="作废未使用的").first.locator("xpath=ancestor::tr").inner_text() == before

    page.locator("form button", has_text="作废未使用的").first.click()
    page.wait_for_load_state()
    page.get_by_role("button", name=re.compile("作废 \\d+ 个测评码")).click()
    page.wait_for_load_state()
    shot(page, "batch-voided")
    assert dialogs == []  # asked once, by the page
    assert "已作废" in page.locator("table").first.inner_text()


def test_reprinting_a_lost_batch_states_the_count_first_then_prints_as_many(seeded, server, new_page, shot):
    ids = seeded
    page = new_page(**LAPTOP)
    login(page, server, ids["organiser"], PASSWORD)
    page.goto(f"{server}/admin/evaluations/{ids['evaluations']['下角社区']}/codes")
    page.get_by_role("button", name="补印(丢失时)").first.click()
    page.wait_for_selector(".confirm-question")
    question = page.locator(".confirm-question").inner_text()
    match = re.search(r"补印第 (\d+) 批:作废其中 (\d+) 个未使用的测评码,并为下角社区 · ", question)
    assert match, question
    shot(page, "reprint-asks")
    assert page.locator(".slip").count() == 0  # nothing voided or issued yet
    n = int(match.group(2))
    page.get_by_role("button", name=f"确认补印 {n} 个测评码").click()
    page.wait_for_selector(".slip")
    shot(page, "reprint-slips")
    assert page.locator(".slip").count() == n
    assert page.locator(".slip .slip-unit", has_text="下角社区").count() == n
