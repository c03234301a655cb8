"""Issue 4's "Done when", walked through HTTP as a new organiser would, from an empty database.

One test, in the order a campaign is set up: an organiser made with the CLI
signs in, creates the campaign and its rater groups, uploads a 300-row unit
sheet with one bad row (reported in Chinese, nothing imported), fixes it
(all imported), creates satisfaction evaluations for every unit in one step and
opens them, prints slips for one unit; a phone scans a QR link and votes; a
liaison of one committee sees its units only; a paper ballot keyed in twice
with one mismatch is reconciled and counted once; the audit log shows each
step and nothing about a rater.

CSRF is on (``csrf_app``) and every POST fills in the form the page actually
offers (:mod:`html_forms`), so a form the page forgets to show fails here.
"""
from __future__ import annotations

import base64
import csv
import io
import re
from urllib.parse import urlsplit

from html_forms import confirm_step, form_with, open_link
from sqlalchemy import func, select

from extensions import db
from models import AuditLog, Ballot, BallotCode, BallotTally, CodeStatus, PaperEntry, SealedBallot, Tally, Unit

PASSWORD = "walk-password-1"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
GROUPS = ("党员", "群众代表", "服务对象")
BAD_LINE, BAD_CODE = 251, "B150"  # header is line 1; B150 is the 250th data row


def unit_sheet(bad: bool) -> bytes:
    """10 committees → 90 units (9 each) → 200 branches = 300 rows; ``bad``: B150's parent does not exist."""
    rows = [[f"C{c:02d}", f"第{c:02d}党委", "", "党委", 0] for c in range(1, 11)]
    rows += [[f"U{u:03d}", f"第{u:03d}单位", f"C{(u - 1) // 9 + 1:02d}", "单位", 20 + u % 7] for u in range(1, 91)]
    rows += [[f"B{b:03d}", f"第{b:03d}支部", f"U{(b - 1) % 90 + 1:03d}", "支部", 5 + b % 11] for b in range(1, 201)]
    if bad:
        rows[BAD_LINE - 2][2] = "U999"
    out = io.StringIO()
    csv.writer(out).writerows([["编码", "名称", "上级编码", "类型", "人数"], *rows])
    return out.getvalue().encode("utf-8-sig")  # what Excel saves as "CSV UTF-8"


def page(client, url: str, status: int = 200) -> str:
    """GET ``url`` and return its text, checking the status."""
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def post(client, url: str, data, status: int = 302, **kwargs):
    """POST a form and check the status; returns the response."""
    response = client.post(url, data=data, **kwargs)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:600])
    return response


def follow(client, response) -> str:
    """The page a redirect leads to."""
    return page(client, response.headers["Location"])


def sign_in(app, username: str) -> object:
    """A fresh browser that signs in through the sign-in form."""
    client = app.test_client()
    form = form_with(page(client, "/login"), "/login", fields=("username", "password"))
    post(client, "/login", form.data(username=username, password=PASSWORD))
    return client


def test_a_new_organiser_walks_through_issue_4(csrf_app, count_rows):
    app = csrf_app
    result = app.test_cli_runner().invoke(args=["users", "create", "org1", "--role", "organiser",
                                                "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    org = sign_in(app, "org1")

    # Campaign and rater groups, from the units page of an empty installation.
    html = page(org, "/admin/units")
    form = form_with(html, "/admin/units", action="/admin/units/campaigns", fields=("name",))
    html = follow(org, post(org, form.action, form.data(name="2009年学习实践活动")))
    campaign_id = int(re.search(r"campaign=(\d+)", html).group(1))
    for name in GROUPS:
        html = page(org, f"/admin/groups?campaign={campaign_id}")
        form = form_with(html, action=f"/admin/groups?campaign={campaign_id}", fields=("name", "weight"))
        post(org, form.action, form.data(name=name))
    html = page(org, f"/admin/groups?campaign={campaign_id}")
    assert all(name in html for name in GROUPS)

    # The sheet with one bad row: that row's error in Chinese, no import button, nothing imported.
    units_url = f"/admin/units?campaign={campaign_id}"
    upload = form_with(page(org, units_url), units_url, action="/admin/units/import", fields=("file",))
    sent = upload.data()  # the CSRF token; the file is attached as a browser would
    sent["file"] = (io.BytesIO(unit_sheet(bad=True)), "单位表.csv")
    preview_response = post(org, upload.action, sent, content_type="multipart/form-data")
    preview_url = preview_response.headers["Location"]
    html = follow(org, preview_response)
    assert "有 1 行存在错误,未导入任何单位" in html
    assert f"第 {BAD_LINE} 行(编码 {BAD_CODE})" in html
    assert "上级编码 U999 不存在(本表和本活动中都没有)" in html
    assert "确认导入" not in html
    html = follow(org, post(org, preview_url, {"csrf_token": upload.data()["csrf_token"]}))  # forcing it anyway
    assert "未导入任何单位" in html
    assert count_rows(Unit, Unit.campaign_id == campaign_id) == 0

    # Fixed: the preview is clean and one confirmation imports all 300.
    sent = upload.data()
    sent["file"] = (io.BytesIO(unit_sheet(bad=False)), "单位表.csv")
    preview_response = post(org, upload.action, sent, content_type="multipart/form-data")
    html = follow(org, preview_response)
    assert "全部 300 行均无错误" in html
    confirm = form_with(html, preview_response.headers["Location"], action="/admin/units/import/")
    html = follow(org, post(org, confirm.action, confirm.data()))
    assert "已导入 300 个单位" in html
    assert count_rows(Unit, Unit.campaign_id == campaign_id) == 300

    # Satisfaction evaluations for every unit in one step, all three rater groups, paper double entry.
    new_url = f"/admin/campaigns/{campaign_id}/evaluations/new"
    form = form_with(page(org, new_url), new_url, fields=("questionnaire", "groups", "threshold"))
    assert set(form.choices("groups")) == set(form.data().getlist("groups")) and len(form.choices("groups")) == 3
    double_entry = form.choices("paper_double_entry")[0]  # ticking the box ("paper ballots keyed in twice")
    asked = post(org, new_url, form.data(questionnaire="satisfaction", paper_double_entry=double_entry), status=200)
    html = follow(org, confirm_step(org, asked.get_data(as_text=True), new_url, 90))
    assert "已建立 90 个测评,跳过 0 个" in html and "共 90 个测评" in html
    manage_url = f"/admin/campaigns/{campaign_id}/evaluations/manage"
    form = form_with(html, manage_url, action="/evaluations/apply", fields=("target",))
    asked = post(org, form.action, form.data(target="key:satisfaction", button=("action", "open")), status=200)
    html = follow(org, confirm_step(org, asked.get_data(as_text=True), form.action, 90))
    assert "已开启 90 个测评" in html
    page_two = page(org, manage_url + "?page=2")  # 50 a page
    evaluation_of = {code: int(eid) for eid, code in re.findall(r'<label for="ev-(\d+)">(U\d{3}) ', html + page_two)}
    assert len(evaluation_of) == 90 and "草稿" not in html.split("<tbody>")[1] + page_two.split("<tbody>")[1]
    own, other = evaluation_of["U001"], evaluation_of["U010"]  # U010 belongs to the second committee

    codes = print_slips(org, own)
    vote_on_a_phone(app, codes[0])
    create_accounts(org)
    liaison_sees_only_their_units(app, campaign_id, own, other, evaluation_of)
    key_in_a_paper_ballot_twice(app, org, own, codes[1], count_rows)
    check_the_count(app, count_rows, own, codes)
    check_the_audit_log(app, org, codes)


def print_slips(org, evaluation_id: int) -> list[dict]:
    """Issue 5 codes per group for one unit as slips; return the CSV rows offered on the slip page."""
    from evaluation.codes.slips import qr_svg

    url = f"/admin/evaluations/{evaluation_id}/codes"
    form = form_with(page(org, url), url, fields=("groups", "count", "nonce"))
    asked = post(org, url, form.data(count="5", button=("output", "slips")), status=200).get_data(as_text=True)
    assert "共 15 个" in asked and "slip-code" not in asked  # the count first, no code yet
    html = confirm_step(org, asked, url, 15).get_data(as_text=True)
    uri = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', html).group(1)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(uri).decode("utf-8-sig"))))
    assert len(rows) == 15 and {r["unit_code"] for r in rows} == {"U001"} and html.count("<svg") == 15
    for row in rows:
        assert row["code"] in html  # the typed code, as printed (K7QX-M3PD-9TWR)
        assert str(qr_svg(row["url"])) in html  # the QR code opens that very code's link
        assert urlsplit(row["url"]).path == "/v" and urlsplit(row["url"]).fragment == row["code"]
    assert "第001单位" in html and "满意度" in html
    after = page(org, url)  # afterwards only counts remain
    assert not any(r["code"] in after or r["code"].replace("-", "") in after for r in rows)
    return rows


def vote_on_a_phone(app, slip: dict) -> None:
    """A phone with no session opens the QR link, answers every item and submits once."""
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = PHONE
    html = open_link(phone, slip["url"])
    assert "第001单位" in html and slip["group"] in html
    form = form_with(html, "/v", action="/v")
    choices = {name: form.choices(name)[0] for name in form.names() if name.startswith("item_") and form.choices(name)}
    text = [c.name for c in form.controls if c.tag == "textarea"]
    post(phone, "/v", form.data(**choices, **{name: "希望多听群众意见" for name in text}), status=303)
    assert "测评码已使用" in open_link(phone, slip["url"], status=409)  # scanned again: counted once, nothing to do


def create_accounts(org) -> None:
    """In the browser: a liaison for the first committee, and a second organiser to key in paper ballots."""
    form = form_with(page(org, "/admin/users"), "/admin/users", action="/admin/users",
                     fields=("username", "role", "unit", "password"))
    post(org, form.action, form.data(username="liaison1", role="liaison", unit=form.pick("unit", "C01 第01党委"),
                                     password=PASSWORD))
    post(org, form.action, form.data(username="org2", role="organiser", unit="0", password=PASSWORD))


def liaison_sees_only_their_units(app, campaign_id, own, other, evaluation_of) -> None:
    """The liaison of committee C01 sees its nine units, and nothing of another committee's unit."""
    liaison = sign_in(app, "liaison1")
    html = page(liaison, f"/admin/campaigns/{campaign_id}/evaluations")
    assert all(f"第{u:03d}单位" in html for u in range(1, 10))
    assert not any(f"第{u:03d}单位" in html for u in range(10, 91))
    assert "第001单位" in page(liaison, f"/admin/evaluations/{own}")
    assert "第001单位" in page(liaison, f"/admin/campaigns/{campaign_id}/turnout")
    page(liaison, f"/admin/evaluations/{evaluation_of['U009']}/codes")
    # Another unit's pages: its evaluation pages answer 404 (no hint that it exists), admin pages 403.
    for url in (f"/admin/evaluations/{other}", f"/admin/evaluations/{other}/report",
                f"/admin/evaluations/{other}/codes"):
        page(liaison, url, status=404)
    for url in ("/admin/units", f"/admin/evaluations/{other}/paper", "/admin/audit",
                f"/admin/campaigns/{campaign_id}/evaluations/manage"):
        page(liaison, url, status=403)


def key_in_a_paper_ballot_twice(app, org, evaluation_id: int, slip: dict, count_rows) -> None:
    """org1 keys in a paper ballot; org2 keys it again with one answer different; org1 reconciles it."""
    url = f"/admin/evaluations/{evaluation_id}/paper"
    form = form_with(page(org, url), url, fields=("code",))
    scale = sorted((n for n in form.names() if n.startswith("item_") and form.choices(n)), key=lambda n: int(n[5:]))
    first = {name: form.choices(name)[0] for name in scale}  # 满意 everywhere
    html = follow(org, post(org, url, form.data(code=slip["code"], **first), status=303))
    assert "第一遍已录入" in html

    org2 = sign_in(app, "org2")
    form = form_with(page(org2, url), url, fields=("code",))
    second = {**first, scale[2]: form.choices(scale[2])[1]}  # 比较满意 on the third item
    typed = slip["code"].replace("-", "").lower()  # typed from the paper, lower case, no hyphens
    response = post(org2, url, form.data(code=typed, **second), status=303)
    reconcile_url = response.headers["Location"]
    html = follow(org2, response)
    assert "两遍录入不一致" in html and "不一致的题目(1)" in html
    assert "解决群众反映强烈的突出问题情况" in html and "比较满意" in html and "org1" in html and "org2" in html
    stored = count_rows(Ballot, Ballot.evaluation_id == evaluation_id) + \
        count_rows(SealedBallot, SealedBallot.evaluation_id == evaluation_id)
    assert stored == 1  # only the phone's (sealed in the box): the paper one is not stored yet

    form = form_with(page(org, reconcile_url), reconcile_url, action=reconcile_url)
    assert form.data().get(scale[0]) == first[scale[0]] and scale[2] not in form.data()  # to be decided
    html = follow(org, post(org, reconcile_url, form.data(**{scale[2]: second[scale[2]]}), status=303))
    assert "核对完成" in html
    form = form_with(page(org, url), url, fields=("code",))
    html = post(org, url, form.data(code=slip["code"], **first), status=400).get_data(as_text=True)
    assert "此测评码已使用" in html  # keyed in once more: refused, still one ballot


def check_the_count(app, count_rows, evaluation_id: int, slips: list[dict]) -> None:
    """Two ballots (the phone's and the paper one), tallies that say exactly that once counted, no entries left."""
    from surveys import box
    from surveys.codes import hash_code, normalise_code

    assert count_rows(SealedBallot, SealedBallot.evaluation_id == evaluation_id) == 2  # both sealed in the box
    with app.app_context():
        assert box.close([evaluation_id]) == {evaluation_id: 2}  # voting over: closing counts them
    assert count_rows(Ballot, Ballot.evaluation_id == evaluation_id) == 2
    assert count_rows(PaperEntry) == 0
    with app.app_context():
        assert db.session.scalar(select(func.sum(BallotTally.n)).where(BallotTally.evaluation_id == evaluation_id)) == 2
        tallies = db.session.execute(select(Tally.item_id, Tally.option_id, Tally.n)
                                     .where(Tally.evaluation_id == evaluation_id)).all()
        key = app.config["CODE_KEY"]
        used = {s["code"] for s in slips if db.session.get(
            BallotCode, hash_code(normalise_code(s["code"]), key)).status is CodeStatus.USED}
    per_item: dict[int, dict[int, int]] = {}
    for item_id, option_id, n in tallies:
        per_item.setdefault(item_id, {})[option_id] = n
    assert len(per_item) == 6 and all(sum(options.values()) == 2 for options in per_item.values())
    assert sorted(len(options) for options in per_item.values()) == [1, 1, 1, 1, 1, 2]  # the reconciled item
    assert used == {slips[0]["code"], slips[1]["code"]}


def check_the_audit_log(app, org, slips: list[dict]) -> None:
    """Every organiser step is in the log, with who did it; nothing about a rater is."""
    from surveys.codes import hash_code, normalise_code

    expected = {"sign_in": ("org1", "liaison1", "org2"), "user_create": ("cli", "org1"),
                "campaign_create": ("org1",), "groups_edit": ("org1",), "units_import": ("org1",),
                "evaluations_create": ("org1",), "evaluation_open": ("org1",), "codes_issue": ("org1",),
                "paper_entry": ("org1", "org2"), "paper_reconcile": ("org1",)}
    for action, who in expected.items():  # the page's own filter, one action at a time
        html = page(org, f"/admin/audit?action={action}")
        assert all(f"<td>{name}</td>" in html for name in who), action
    html = page(org, "/admin/audit")
    with app.app_context():
        ballots = list(db.session.scalars(select(Ballot.id)))
        hashes = [hash_code(normalise_code(s["code"]), app.config["CODE_KEY"]) for s in slips]
        rows = list(db.session.scalars(select(AuditLog)))
    stored = "\n".join(f"{r.username} {r.action} {r.target} {r.detail}" for r in rows)
    secrets = [s["code"] for s in slips] + [s["code"].replace("-", "") for s in slips] + hashes + ballots
    assert len(ballots) == 2 and not [x for x in secrets if x in html or x in stored]
    for text in ("希望多听群众意见", "iPhone", "/v/"):  # the phone's answer, its browser, its link
        assert text not in html and text not in stored
    assert {r.username for r in rows} == {"cli", "org1", "org2", "liaison1"}  # only accounts act
