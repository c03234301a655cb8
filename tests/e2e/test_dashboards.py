"""Organisers and liaisons in a real browser: sign in, overview, committee filter, unit page, XLSX.

Data: the ``seeded`` campaign of tests/e2e/seed.py (two committees, five units,
下角社区 flagged for make-up), built once for the module; the tests here only
read it. The README's overview picture is taken on the 272-unit demo (test_overview_demo.py).
"""
from __future__ import annotations

import re

from .conftest import LAPTOP, README_SCREENSHOTS, ROOT, SCREENSHOTS, login
from .seed import FLAGGED, LIAISON, NOT_JUDGED, PASSWORD


def _ranking_units(page) -> set[str]:
    """Unit names in the ranking table beside the chart."""
    table = page.locator("#ranking-table")
    return {name.strip() for name in table.locator("tbody tr td:nth-child(2)").all_text_contents()}


def test_organiser_filters_opens_flagged_unit_and_downloads_xlsx(seeded, server, new_page, shot, artifacts):
    import openpyxl

    ids = seeded
    page = new_page(accept_downloads=True, **LAPTOP)
    login(page, server, ids["organiser"], PASSWORD)
    shot(page, "campaigns")
    page.get_by_role("link", name=re.compile("深入学习实践科学发展观活动")).click()
    page.wait_for_selector("#fig-ranking .main-svg")  # plotly, served locally, drew the chart
    shot(page, "overview")
    kpis = page.locator("ul.kpis").inner_text()
    assert re.search(r"5\s*个单位", kpis) and re.search(r"1\s*个需补课", kpis), kpis
    assert _ranking_units(page) == set(ids["units"])

    page.get_by_role("combobox", name=re.compile("党\\(工\\)委")).select_option(label="江南街道党工委")
    page.get_by_role("button", name=re.compile("筛选")).click()
    page.wait_for_url(re.compile(rf"committee={ids['committees']['江南街道党工委']}"))
    page.wait_for_selector("#fig-ranking .main-svg")
    shot(page, "filtered-by-committee")
    assert _ranking_units(page) == {"祝屋巷社区", FLAGGED}

    makeup = page.locator("section[aria-labelledby=makeup-h]")
    makeup.get_by_role("link", name=FLAGGED).click()
    page.wait_for_url(re.compile(rf"/admin/evaluations/{ids['evaluations'][FLAGGED]}$"))
    shot(page, "flagged-unit")
    verdict = page.locator("section.verdict").inner_text()
    assert "需要补课" in verdict and "低于 60%" in verdict, verdict

    with page.expect_download() as download_info:
        page.get_by_role("link", name="XLSX", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = artifacts / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(saved, read_only=True)
    cells = {str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
             for cell in row if cell is not None}
    assert FLAGGED in cells and "开展学习实践活动的总体评价" in " ".join(cells)


def test_liaison_sees_own_unit_and_cannot_reach_another(seeded, server, new_page, shot):
    ids = seeded
    username, own = LIAISON
    page = new_page(**LAPTOP)
    page.route("**/plotly.min.js*", lambda route: route.abort())  # charts are not the point here (saves time)
    login(page, server, username, PASSWORD)

    response = page.goto(f"{server}/admin/evaluations/{ids['evaluations'][own]}")
    assert response.status == 200
    shot(page, "own-unit")
    assert own in page.locator("h1").inner_text()

    for other in (FLAGGED, NOT_JUDGED):
        response = page.goto(f"{server}/admin/evaluations/{ids['evaluations'][other]}")
        assert response.status in (403, 404), other
        shot(page, f"other-unit-{response.status}")
        assert f"错误代码 {response.status}" in page.locator("main").inner_text()  # the error page, not a blank
        assert other not in page.content()

    response = page.goto(f"{server}/admin/campaigns/{ids['campaign']}")
    assert response.status == 200
    shot(page, "overview-narrowed")
    assert _ranking_units(page) == {own}
    assert FLAGGED not in page.content()


def test_readme_shows_the_screenshots():
    """The README's screenshots exist and are shown (the flows above and in test_accessibility take them)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in README_SCREENSHOTS:
        assert (SCREENSHOTS / name).is_file(), f"docs/screenshots/{name} missing: CEPING_UPDATE_SCREENSHOTS=1"
        assert f"docs/screenshots/{name}" in readme, f"README.md does not show docs/screenshots/{name}"
