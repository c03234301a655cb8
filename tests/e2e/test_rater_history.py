"""A rater's Back button and first screen in Chromium, on the questionnaire the demo campaign uses.

Post/Redirect/Get: Back from the thanks page never sends anything again (no POST, no
"confirm form resubmission" page) and shows that the ballot was stored; no URL the browser
asks for carries the code. On a 390×844 phone the intro is read once and question 1 is on the
first screen, its options included.
"""
from __future__ import annotations

import re

from .conftest import open_slip, type_code

SUBMIT = re.compile("提交测评票")
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
             "has_touch": True}


def _answer_all(page, skip: int | None = None) -> None:
    for n, item in enumerate(page.locator("fieldset.item").all(), start=1):
        if n != skip:
            item.get_by_label("满意", exact=True).check()


def _watch(page) -> tuple[list, list]:
    posts, urls = [], []
    page.on("request", lambda r: (urls.append(r.url), posts.append(r.url) if r.method == "POST" else None))
    return posts, urls


def test_back_after_submitting_shows_it_was_stored_and_posts_nothing(campaign, issue, server, new_page, shot,
                                                                     count_ballots):
    code = issue(campaign["evaluation"])[0]
    page = new_page(**PHONE_390)
    posts, urls = _watch(page)
    assert open_slip(page, server, code).status == 200
    _answer_all(page)
    page.get_by_role("button", name=SUBMIT).click()
    page.wait_for_url(re.compile(r"/thanks$"))
    posts.clear()
    page.go_back()  # raises on Chromium's "confirm form resubmission" error page (ERR_CACHE_MISS)
    page.wait_for_load_state()
    shot(page, "back-after-submitting")
    assert posts == [] and "提交成功" in page.locator("h1").inner_text()
    assert page.locator("form.ballot").count() == 0 and count_ballots() == 1
    grouped = f"{code[:4]}-{code[4:8]}-{code[8:]}"
    assert not [u for u in urls if code in u.upper().replace("-", "") or grouped in u], urls


def test_back_after_fixing_a_missed_item_posts_nothing_either(campaign, issue, server, new_page, shot, count_ballots):
    """The page that answers a POST with a missed item becomes a GET entry (static/js/no-repost.js)."""
    code = issue(campaign["evaluation"])[0]
    page = new_page(**PHONE_390)
    posts, _urls = _watch(page)
    open_slip(page, server, code)
    _answer_all(page, skip=3)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=SUBMIT).click()
    assert navigation.value.status == 400
    page.wait_for_load_state()
    assert page.url.endswith("/v/questionnaire")  # the entry is now the questionnaire's GET address
    page.locator("fieldset.item").nth(2).get_by_label("满意", exact=True).check()
    page.get_by_role("button", name=SUBMIT).click()
    page.wait_for_url(re.compile(r"/thanks$"))
    posts.clear()
    page.go_back()
    page.wait_for_load_state()
    assert posts == [] and "提交成功" in page.locator("h1").inner_text() and count_ballots() == 1


def test_without_javascript_back_after_submitting_posts_nothing(campaign, issue, server, new_page, count_ballots):
    code = issue(campaign["evaluation"])[0]
    page = new_page(java_script_enabled=False, **PHONE_390)
    posts, _urls = _watch(page)
    assert type_code(page, server, code).status == 200
    _answer_all(page)
    page.get_by_role("button", name=SUBMIT).click()
    page.wait_for_url(re.compile(r"/thanks$"))
    posts.clear()
    page.go_back()
    page.wait_for_load_state()
    assert posts == [] and "提交成功" in page.locator("h1").inner_text() and count_ballots() == 1


def test_question_one_is_on_the_first_phone_screen_after_one_short_intro(campaign, issue, server, new_page, shot):
    code = issue(campaign["evaluation"])[0]
    page = new_page(**PHONE_390)
    open_slip(page, server, code)
    shot(page, "first-screen-390x844")
    first = page.locator("fieldset.item").first
    box = first.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844, box  # the whole of question 1, options included
    card = page.locator("section.card").first.inner_text()
    assert card.count("无记名") == 1  # the secrecy statement once, not again in the intro
    intro = page.locator(".intro").inner_text().strip()
    assert 0 < len(intro) <= 80 and intro.endswith("。")  # short, and whole sentences
