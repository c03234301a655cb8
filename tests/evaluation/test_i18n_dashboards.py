"""The dashboards in English (issue 7, point 5): no Chinese UI text is left, charts included.

On the hand-made results of ``results_data`` (第一单位 flagged for make-up with 3 of 5
indicators below 60%, a unit named ``<script>…`` not judged), an organiser who chose
English opens the campaign list, the overview (every filter, before and after a make-up
decision), the evaluations list, the unit pages (first round, second round, a unit not
judged), both print reports, and makes a failing make-up decision; a liaison sees a unit
not judged. :func:`tests.i18n_check.chinese_left` must find no Han character that is not
stored content (unit, group and campaign names, questionnaire items and options,
comments) — plotly titles, axis titles, legends and hover labels included, the page
check decoding the figure JSON. The downloads still open, with English file names and
sheet labels. Chinese stays the default, the reasons in Chinese only.
"""
from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import unquote

import openpyxl
from results_data import PASSWORD, _submit, seed_results
from work_data import switch

from extensions import db
from tests.i18n_check import english as english_page

#: Axis ticks shorten long indicator texts to this many characters and "…" (analysis.figures._short).
TICK_CHARS = 13


def shortened_items() -> tuple[str, ...]:
    """Stored indicator texts as the heatmap's and option chart's axis ticks shorten them (content)."""
    from models import Item

    return tuple(text[:TICK_CHARS] + "…" for text in db.session.scalars(db.select(Item.text).distinct())
                 if text and len(text) > TICK_CHARS + 1)


def english(app, response, status: int = 200) -> str:
    """The page in English with no Chinese UI text left; shortened axis ticks of stored texts are content."""
    with app.app_context():
        shortened = shortened_items()
    return english_page(app, response, status, shortened)


def figure(html: str, target: str) -> dict:
    block = re.search(rf'data-target="{target}">(.*?)</script>', html, re.S)
    assert block, f"no figure {target}"
    return json.loads(block.group(1))


def as_user(client, username: str) -> None:
    """Sign ``username`` in and choose English (the cookie outlives the sign-out)."""
    switch(client, username)
    with client.session_transaction() as session:  # signing out nobody flashed "please sign in"
        session.pop("_flashes", None)
    client.get("/lang/en")


def as_organiser(app, client, campaign) -> dict:
    """The results of ``results_data``, an organiser signed in, English chosen."""
    ids = seed_results(app, campaign)
    as_user(client, ids["organiser"])
    return ids


def _mass_group(app) -> int:
    from models import RaterGroup

    with app.app_context():
        return db.session.scalar(db.select(RaterGroup.id).where(RaterGroup.name == "群众代表"))


def test_campaign_list_and_overview_with_every_filter_in_english(app, client, campaign):
    ids = as_organiser(app, client, campaign)
    html = english(app, client.get("/admin/"))
    assert 'href="/admin/campaigns/%d"' % ids["campaign"] in html
    base = f"/admin/campaigns/{ids['campaign']}"
    html = english(app, client.get(base))
    assert "Campaign overview" in html and "Units that must make up" in html
    assert "<strong>2</strong> units" in html and "<strong>1</strong> judged" in html
    assert "Threshold <strong>60%</strong>" in html and "Decide make-up" in html
    # the reason in English, naming the indicators below the threshold (stored texts)
    assert "3 of 5 indicators below 60%: " in html and "5 项指标中有" not in html
    assert ">Satisfaction survey</option>" in html and ">All</option>" in html
    # the charts: title, legend, axis and hover in English; unit names stay as stored
    ranking = figure(html, "fig-ranking")
    names = {t["name"] for t in ranking["data"]}
    assert names == {"Must make up", "passed", "Too few ballots, not judged"}
    assert ranking["layout"]["title"]["text"] == "Units ranked by overall satisfaction rate"
    assert ranking["layout"]["xaxis"]["title"]["text"] == "Overall rate"
    assert all("Overall rate %{x:.1%}<br>Ballots:" in t["hovertemplate"] for t in ranking["data"])
    assert "3 of 5 indicators below 60%" in json.dumps(ranking["data"], ensure_ascii=False)
    assert ranking["layout"]["annotations"][0]["text"] == "Threshold 60%"
    heat = figure(html, "fig-heatmap")
    assert heat["layout"]["title"]["text"] == "Indicator rates per unit (threshold 60%)"
    assert heat["data"][0]["colorbar"]["title"]["text"] == "Rate"
    assert "Rate 50.0% (95% CI " in json.dumps(heat["data"][0]["text"], ensure_ascii=False)
    # every filter, and filters that select nothing
    mass = _mass_group(app)
    filtered = english(app, client.get(f"{base}?questionnaire=satisfaction&group={mass}"))
    assert "No unit needs to make up." in filtered
    english(app, client.get(f"{base}?committee={ids['committee']}"))
    english(app, client.get(f"{base}?questionnaire=satisfaction&committee={ids['committee']}&group={mass}"))
    english(app, client.get(f"{base}?committee=99999"))
    english(app, client.get(f"{base}?questionnaire=nope&committee=abc&group=x"))


def test_overview_of_a_campaign_without_evaluations_in_english(app, client, campaign):
    from models import Campaign

    as_organiser(app, client, campaign)
    with app.app_context():
        empty = Campaign(name="空活动")
        db.session.add(empty)
        db.session.commit()
        empty_id = empty.id
    html = english(app, client.get(f"/admin/campaigns/{empty_id}"))
    assert "This campaign has no evaluations yet." in html
    html = english(app, client.get(f"/admin/campaigns/{empty_id}/evaluations"))
    assert "0 evaluations · 0 codes issued · 0 ballots received" in html


def test_evaluations_list_in_english(app, client, campaign):
    ids = as_organiser(app, client, campaign)
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/evaluations"))
    assert "2 evaluations · 15 codes issued · 15 ballots received" in html
    assert ">open</span>" in html and "Code batches" in html and "100%" in html


def test_unit_pages_and_make_up_rounds_in_english(app, client, campaign):
    ids = as_organiser(app, client, campaign)
    html = english(app, client.get(f"/admin/evaluations/{ids['a']}"))
    assert "<h2>Must make up</h2>" in html and "3 of 5 indicators below 60%: " in html
    assert "Overall rate (mean of the indicators): <strong>58.0%</strong>" in html
    assert "10 ballots" in html and "Decide make-up and open a second round" in html
    assert "31.3% – 83.2%" in html and "Comments and suggestions" in html
    # both groups below 8: option shares pooled over all raters, not by group (disclosure)
    assert 'data-target="fig-shares"' in html and "All raters" in html
    # a unit not judged: no figures for anyone; the reason in English
    html = english(app, client.get(f"/admin/evaluations/{ids['b']}"))
    assert "Too few ballots, not judged" in html and "Only 5 ballots, fewer than the minimum of 8" in html
    # refused: the unit is not flagged; the refusal and its reason in English
    html = english(app, client.post(f"/admin/evaluations/{ids['b']}/makeup", data={"confirm": "1"}, follow_redirects=True))
    assert "This unit is not flagged for make-up: Only 5 ballots" in html
    # decided: the second round opens; the first round shows the decision
    response = client.post(f"/admin/evaluations/{ids['a']}/makeup", data={"confirm": "1"})
    assert response.status_code == 302
    followup = int(response.headers["Location"].rsplit("/", 1)[1])
    html = english(app, client.get(response.headers["Location"]))
    assert "Make-up decided; the second round is open." in html and "make-up round" in html
    assert "Before and after make-up" in html and "First round" in html and "Second round" in html
    html = english(app, client.post(f"/admin/evaluations/{ids['a']}/makeup", data={"confirm": "1"}, follow_redirects=True))
    assert "A make-up decision was already taken for this evaluation." in html
    html = english(app, client.get(f"/admin/evaluations/{ids['a']}"))
    assert "Make-up decided on " in html and "See the second round" in html
    overview = english(app, client.get(f"/admin/campaigns/{ids['campaign']}"))
    assert "Make-up units: before and after" in overview and ">in progress<" not in overview
    with app.app_context():
        for _ in range(8):
            _submit(app, followup, "党员", [0] * 6, None)
        from surveys import box

        box.close([followup])  # the round's voting is over: every sealed ballot counted
    overview = english(app, client.get(f"/admin/campaigns/{ids['campaign']}"))
    assert ">passed<" in overview
    html = english(app, client.get(f"/admin/evaluations/{followup}"))
    assert "<h2>Passed</h2>" in html and "None of 6 indicators below 60%" in html


def test_print_reports_in_english(app, client, campaign):
    ids = as_organiser(app, client, campaign)
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}/report"))
    assert "Satisfaction survey results report" in html
    assert "2 units · 1 to make up · 15 ballots · threshold 60%" in html
    assert "3 of 5 indicators below 60%" in html and "By committee" in html
    assert figure(html, "fig-heatmap")["layout"]["title"]["text"].startswith("Indicator rates per unit")
    english(app, client.get(f"/admin/campaigns/{ids['campaign']}/report?questionnaire=satisfaction"))
    html = english(app, client.get(f"/admin/evaluations/{ids['a']}/report"))
    assert "results report" in html and "10 ballots · Threshold 60%" in html and "Must make up" in html
    english(app, client.get(f"/admin/evaluations/{ids['b']}/report"))


def test_liaison_sees_a_unit_not_judged_in_english(app, client, campaign):
    ids = seed_results(app, campaign)
    from evaluation.services import create_user

    with app.app_context():
        create_user("liaison-b", PASSWORD, "liaison", ids["unit_b"])
    as_user(client, "liaison-b")
    html = english(app, client.get(f"/admin/evaluations/{ids['b']}"))
    assert "Fewer than 8 ballots: per-item figures are hidden to protect raters." in html
    html = english(app, client.get(f"/admin/campaigns/{ids['campaign']}"))
    assert "Decide make-up" not in html


def test_downloads_still_open_in_english(app, client, campaign):
    ids = as_organiser(app, client, campaign)
    base = f"/admin/campaigns/{ids['campaign']}"
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}/results.xlsx").data))
    assert book.sheetnames == ["Units", "Items", "Committees"]
    header = [c.value for c in book["Units"][1]]
    assert header[:2] == ["Evaluation ID evaluation_id", "Committee ID committee_id"]
    rate = header.index("Overall rate overall_rate")
    assert book["Units"].cell(row=2, column=rate + 1).number_format == "0.0%"
    response = client.get(f"/admin/evaluations/{ids['a']}/results.xlsx")
    assert unquote(response.headers["Content-Disposition"].split("''")[1]) == f"第一单位-evaluation-{ids['a']}-results.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(response.data)).sheetnames == ["Units", "Items", "Rater groups"]
    # CSV: the JSON names stay the header (a data contract); the file name is English
    response = client.get(f"{base}/results.csv")
    assert unquote(response.headers["Content-Disposition"].split("''")[1]) == "测试活动-satisfaction-results.csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and {"evaluation_id", "reason", "reason_en"} <= set(rows[0])
    response = client.get(f"{base}/ballots.csv")
    assert unquote(response.headers["Content-Disposition"].split("''")[1]) == "测试活动-ballots.csv"
    assert len(list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))) > 1
    response = client.get(f"{base}/ballots.xlsx")
    assert unquote(response.headers["Content-Disposition"].split("''")[1]) == "测试活动-ballots.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [c.value for c in sheet[1]][:2] == ["Ballots ballot_id", "Evaluation ID evaluation_id"]


def test_chinese_stays_the_default(app, client, campaign):
    ids = seed_results(app, campaign)
    switch(client, ids["organiser"])
    html = client.get(f"/admin/campaigns/{ids['campaign']}").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "活动总览" in html and "需要补课的单位" in html
    assert "5 项指标中有 3 项低于 60%" in html and "3 of 5 indicators" not in html
    assert "Campaign overview" not in html and "Decide make-up" not in html
    ranking = figure(html, "fig-ranking")
    assert {t["name"] for t in ranking["data"]} == {"需要补课", "通过", "票数不足,不作评判"}
    html = client.get(f"/admin/evaluations/{ids['a']}").get_data(as_text=True)
    assert "<h2>需要补课</h2>" in html and "Must make up" not in html and "总体满意率(各指标平均)" in html
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/admin/campaigns/{ids['campaign']}/results.xlsx").data))
    assert book.sheetnames == ["单位 units", "指标 items", "党(工)委 committees"]
    # switching back to Chinese after English
    client.get("/lang/en")
    assert "Campaign overview" in client.get(f"/admin/campaigns/{ids['campaign']}").get_data(as_text=True)
    client.get("/lang/zh")
    assert "活动总览" in client.get(f"/admin/campaigns/{ids['campaign']}").get_data(as_text=True)
