"""Every organiser list and the overview fit a 390 × 844 phone without sideways scrolling (issue 14).

A table wider than the phone scrolls inside its own box (``.table-scroll``, overflow-x: auto);
the page itself never does: ``document.documentElement.scrollWidth`` stays within the screen.
Data: the ``seeded`` campaign of tests/e2e/seed.py, only read here.
"""
from __future__ import annotations

from .conftest import login
from .seed import PASSWORD

WIDTH = 390
PHONE = {"viewport": {"width": WIDTH, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}

#: Elements that stick out past the screen's right edge and are not inside a box that scrolls
#: or clips sideways: what makes the page scroll sideways (named for the failure message).
OVERFLOWING = """(width) => {
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) { return true; }
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && !clipped(el)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
               ' right=' + Math.round(box.right));
    }
  }
  return out.slice(0, 8);
}"""


def _pages(ids: dict) -> dict[str, str]:
    campaign = ids["campaign"]
    return {
        "overview": f"/admin/campaigns/{campaign}",
        "units": f"/admin/units?campaign={campaign}",
        "evaluations": f"/admin/campaigns/{campaign}/evaluations",
        "turnout": f"/admin/campaigns/{campaign}/turnout",
        "worklist": f"/admin/campaigns/{campaign}/worklist",
        "batches": f"/admin/campaigns/{campaign}/batches",
        "suggestions": f"/admin/campaigns/{campaign}/suggestions",
        "accounts": "/admin/users",
        "audit": "/admin/audit",
        "makeup": f"/admin/campaigns/{campaign}/makeup",
    }


def test_organiser_lists_and_the_overview_fit_a_phone(seeded, server, new_page, shot):
    page = new_page(**PHONE)
    page.route("**/plotly.min.js*", lambda route: route.abort())  # charts size themselves to their box anyway
    login(page, server, seeded["organiser"], PASSWORD)
    too_wide = {}
    for name, path in _pages(seeded).items():
        response = page.goto(f"{server}{path}")
        assert response.status == 200, (name, response.status)
        page.wait_for_load_state("load")
        shot(page, name)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > WIDTH + 1:
            too_wide[name] = (width, page.evaluate(OVERFLOWING, WIDTH))
    assert too_wide == {}, too_wide
