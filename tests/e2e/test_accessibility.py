"""axe-core in Chromium: no serious or critical violations on the rater pages and the dashboards.

axe checks labels, names, contrast (WCAG AA), landmarks, ARIA use and more; the
rater pages are checked on a phone viewport, the organiser pages on a laptop,
each in the states people meet (a questionnaire with errors shown, charts drawn).
Data: the ``seeded`` campaign of tests/e2e/seed.py, built once for the module.
"""
from __future__ import annotations

import re

from .conftest import LAPTOP, PHONE, login, open_slip, readme_shot
from .seed import FLAGGED, PASSWORD


def _assert_clean(axe, page, shot, name: str, undecided_too: bool = False) -> None:
    """No serious or critical violation; with ``undecided_too`` none that axe left for review either.

    The rater pages and sign-in meet the stricter check. On the dashboards axe cannot read
    the contrast of text inside the plotly charts' SVG and leaves it for review.
    """
    shot(page, name)
    violations, undecided = axe(page, name)
    assert not violations, f"{name}: {violations}"
    if undecided_too:
        assert not undecided, f"{name}, for review: {undecided}"


def test_rater_pages_have_no_serious_violations(seeded, server, new_page, shot, axe, artifacts):
    code = seeded["codes"]["祝屋巷社区"][0]
    page = new_page(bypass_csp=True, **PHONE)

    page.goto(server + "/")
    _assert_clean(axe, page, shot, "home", undecided_too=True)

    open_slip(page, server, code)
    _assert_clean(axe, page, shot, "questionnaire", undecided_too=True)
    # The README's phone picture: the first screen and the first item, answered.
    first = page.locator("fieldset.item").first
    first.get_by_label("比较满意", exact=True).check()
    readme_shot(page, artifacts, "rater-phone.png", first)

    # Submitted with the five other required items missing: error summary and per-item errors.
    page.get_by_role("button", name=re.compile("提交测评票")).click()
    page.wait_for_selector("[role=alert]")
    _assert_clean(axe, page, shot, "questionnaire-errors", undecided_too=True)

    for fieldset in page.locator("fieldset.item").all():
        fieldset.locator("input[type=radio]").first.check()
    page.get_by_role("button", name=re.compile("提交测评票")).click()
    page.wait_for_url(re.compile("/thanks$"))
    _assert_clean(axe, page, shot, "thanks", undecided_too=True)

    open_slip(page, server, code)
    _assert_clean(axe, page, shot, "already-used", undecided_too=True)


def test_organiser_pages_have_no_serious_violations(seeded, server, new_page, shot, axe):
    ids = seeded
    page = new_page(bypass_csp=True, **LAPTOP)

    page.goto(f"{server}/login")
    _assert_clean(axe, page, shot, "login", undecided_too=True)

    login(page, server, ids["organiser"], PASSWORD)
    page.goto(f"{server}/admin/campaigns/{ids['campaign']}")
    page.wait_for_selector("#fig-ranking .main-svg")
    _assert_clean(axe, page, shot, "overview")

    page.goto(f"{server}/admin/evaluations/{ids['evaluations'][FLAGGED]}")
    page.wait_for_selector("#fig-shares .main-svg")
    _assert_clean(axe, page, shot, "unit")

    page.goto(f"{server}/admin/campaigns/{ids['campaign']}/turnout")
    _assert_clean(axe, page, shot, "turnout")

    page.goto(f"{server}/admin/evaluations/{ids['evaluations'][FLAGGED]}/codes")
    _assert_clean(axe, page, shot, "codes")

    page.locator("p.langs").get_by_role("link", name="English").click()  # the same rules in English
    page.goto(f"{server}/admin/campaigns/{ids['campaign']}")
    page.wait_for_selector("#fig-ranking .main-svg")
    _assert_clean(axe, page, shot, "overview-english")
