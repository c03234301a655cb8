"""A rater in a real browser: phone flow without JavaScript, keyboard only, and the page's weight.

The questionnaire is the built-in satisfaction one: six required scale items
(满意 … 不了解) and an optional comment, on the ``campaign`` fixture's 第一单位.
"""
from __future__ import annotations

import json
import re

from .conftest import PHONE, open_slip, type_code

SUBMIT = re.compile("提交测评票")
OPTIONS = ("满意", "比较满意", "基本满意", "不满意", "不了解")
#: The rater pages' budget (issue 7): all responses of one page, fonts excluded.
BUDGET = 50 * 1024


def _item(page, n: int):
    """The fieldset of the n-th questionnaire item (1-based)."""
    return page.locator("fieldset.item").nth(n - 1)


def test_phone_rater_answers_fixes_a_missed_item_submits_once(campaign, issue, server, new_page, shot,
                                                              count_ballots, count_box):
    from models import Answer

    code = issue(campaign["evaluation"])[0]
    # No JavaScript at all: the rater pages must work without it; the rater types the slip's code.
    page = new_page(java_script_enabled=False, **PHONE)
    page.goto(f"{server}/v#{code}")
    shot(page, "code-box")
    assert page.locator("input[name=code]").input_value() == ""  # nothing read the fragment
    response = type_code(page, server, code)
    assert response.status == 200
    shot(page, "questionnaire")
    # The first screen states the secrecy of the ballot; every item says where the rater is.
    secrecy = page.locator(".card .secrecy")
    assert "无记名" in secrecy.inner_text()
    assert secrecy.bounding_box()["y"] + secrecy.bounding_box()["height"] <= 667
    assert [p.strip() for p in page.locator(".item .progress").all_inner_texts()] == \
        [f"第 {n} / 7 题" for n in range(1, 8)]
    # Large tap targets: every option is a whole-width label at least 44 px high.
    for box in (o.bounding_box() for o in _item(page, 1).locator("label.option").all()):
        assert box["height"] >= 44 and box["width"] >= 300

    chosen = {1: "满意", 2: "比较满意", 3: "基本满意", 5: "不了解", 6: "不满意"}  # item 4 missed
    for n, label in chosen.items():
        _item(page, n).get_by_label(label, exact=True).check()  # a tap on the label
    page.get_by_label(re.compile("意见和建议")).fill("希望多听群众意见。")
    shot(page, "answered-but-one")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=SUBMIT).click()
    assert navigation.value.status == 400
    shot(page, "error-shown")
    assert "有 1 处需要修改,已填写的答案已保留" in page.get_by_role("alert").first.inner_text()
    assert "此题为必答题" in _item(page, 4).inner_text()
    for n, label in chosen.items():  # the answers given are kept
        assert _item(page, n).get_by_label(label, exact=True).is_checked(), n
    assert page.get_by_label(re.compile("意见和建议")).input_value() == "希望多听群众意见。"
    assert count_ballots() == 0

    _item(page, 4).get_by_label("比较满意", exact=True).check()
    page.get_by_role("button", name=SUBMIT).click()
    page.wait_for_url(re.compile(r"/thanks$"))
    shot(page, "thanks")
    assert "提交成功" in page.locator("h1").inner_text()
    assert count_ballots() == 1

    again = type_code(page, server, code)
    shot(page, "already-used")
    assert again.status == 409
    assert "测评码已使用" in page.locator("h1").inner_text()
    assert count_ballots() == 1
    assert count_box(campaign["evaluation"]) == 1


def test_keyboard_only_completion_with_visible_focus(campaign, issue, server, new_page, shot, count_ballots):
    """Tab to each item, Space picks its first option (满意), Enter on the button submits.

    The slip's link puts the code after "#": no request the browser makes carries it in its URL.
    """
    code = issue(campaign["evaluation"])[0]
    page = new_page(viewport={"width": 1024, "height": 768})
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    assert open_slip(page, server, code).status == 200
    assert page.locator("fieldset.item").count() == 6  # the six rated items
    focused = """() => { const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
        return {tag: e.tagName, type: e.type || '', checked: !!e.checked, name: e.name || '',
                text: (e.innerText || '').trim(), visible: e.matches(':focus-visible'),
                outline: s.outlineStyle, width: parseFloat(s.outlineWidth), left: r.left, top: r.top}; }"""

    page.keyboard.press("Tab")
    skip = page.evaluate(focused)
    assert skip["text"].startswith("跳到正文") and skip["left"] >= 0  # the skip link shows when focused
    shot(page, "skip-link")
    picked, outlines = [], []
    for _ in range(40):
        page.keyboard.press("Tab")
        element = page.evaluate(focused)
        if element["type"] == "radio":
            outlines.append(element)
            if not element["checked"]:
                page.keyboard.press("Space")
                picked.append(element["name"])
                if len(picked) == 1:
                    shot(page, "first-radio-focused")
        elif element["tag"] == "BUTTON" and SUBMIT.search(element["text"]):
            shot(page, "submit-focused")
            page.keyboard.press("Enter")
            break
    else:
        raise AssertionError("the submit button was never reached with Tab")
    page.wait_for_url(re.compile(r"/thanks$"))
    shot(page, "thanks")
    assert len(picked) == 6 and len(set(picked)) == 6  # one stop per item, each answered
    # Visible focus: a keyboard-focused radio matches :focus-visible and draws a real outline.
    for element in outlines:
        assert element["visible"] and element["outline"] != "none" and element["width"] >= 2, element
    assert count_ballots() == 1
    grouped = f"{code[:4]}-{code[4:8]}-{code[8:]}"
    assert urls and not [u for u in urls if code in u.upper().replace("-", "") or grouped in u], urls
    assert page.url == f"{server}/thanks"


def test_rater_pages_are_light_and_load_no_plotly(campaign, issue, server, new_page, artifacts):
    """Each rater page, opened in a fresh context (nothing cached, as from a QR code), stays under 50 KB."""
    code = issue(campaign["evaluation"])[0]

    def weigh(path: str, before=None) -> dict:
        page = new_page(**PHONE)
        responses = []
        page.on("response", lambda response: responses.append(response))
        if path.startswith("/v#"):
            open_slip(page, server, path[3:])  # the code box, its script, then the questionnaire
        else:
            page.goto(server + path)  # returns at the load event: the stylesheet is in by then
        if before:
            before(page)
        assert page.evaluate("() => typeof window.Plotly") == "undefined"
        return _weigh(responses)

    def submit(page) -> None:
        for fieldset in page.locator("fieldset.item").all():
            fieldset.locator("input[type=radio]").first.check()
        page.get_by_role("button", name=SUBMIT).click()
        page.wait_for_url(re.compile(r"/thanks$"))

    sizes = {"home": weigh("/"), "questionnaire": weigh(f"/v#{code}")}
    weigh(f"/v#{code}", submit)
    sizes["thanks"] = weigh("/thanks")
    sizes["already-used"] = weigh(f"/v#{code}")
    (artifacts / "sizes.json").write_text(json.dumps(sizes, indent=2, ensure_ascii=False))
    for name, weighed in sizes.items():
        assert weighed["total"] < BUDGET, (name, weighed)
        assert "/static/css/ceping.css" in weighed["files"], (name, weighed)  # really nothing cached
        scripts = [url for url in weighed["files"] if "plotly" in url.lower() or url.endswith(".js")]
        # Only the code box's few lines that post a slip's code, and the questionnaire's that keep Back from
        # re-posting; never a chart library.
        assert set(scripts) <= {"/static/js/code-link.js", "/static/js/no-repost.js"}, (name, weighed)


def _weigh(responses) -> dict:
    """Body bytes per URL and in total, fonts left out (the budget excludes them)."""
    files = {}
    for response in responses:
        if response.request.resource_type == "font":
            continue
        try:
            body = response.body()
        except Exception:  # a redirect has no body to read
            body = b""
        path = "/" + response.url.split("/", 3)[-1].split("?")[0]  # static URLs carry ?v=<hash>
        files[path] = files.get(path, 0) + len(body)
    return {"total": sum(files.values()), "files": files}
