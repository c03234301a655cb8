"""The scanned-sheets pages: print, upload, progress, the review queue, and what each screen may show."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from extensions import db
from models import AuditLog, CodeStatus
from tests.evaluation import sheet_scans
from tests.evaluation.manage_data import login, make_user
from tests.evaluation.sheets_data import print_sheets, scans, some_answers
from tests.evaluation.test_sheets_read import _files, faint, no_qr


def _organiser(app):
    make_user(app, "scanner")
    client = app.test_client()
    login(client, "scanner")
    return client


def _upload(client, evaluation: int, files: dict[str, bytes]):
    data = {"files": [(io.BytesIO(content), name) for name, content in files.items()]}
    response = client.post(f"/admin/evaluations/{evaluation}/sheets/upload", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[-1]


def _run(client, batch: str) -> dict:
    while True:
        data = client.post(f"/admin/sheets/{batch}/step", headers={"Accept": "application/json"}).get_json()
        if data["finished"]:
            return data


def test_print_from_the_page_gives_a_pdf(app, campaign, scan_dir):
    client = _organiser(app)
    page = client.get(f"/admin/evaluations/{campaign['evaluation']}/sheets")
    assert page.status_code == 200 and "印制测评表" in page.get_data(as_text=True)
    response = client.post(f"/admin/evaluations/{campaign['evaluation']}/sheets/print",
                           data={"group": "党员", "count": "2", "paper": "A4"})
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "codes_issue"))
        assert entry.username == "scanner" and '"codes": 2' in entry.detail and '"sheets"' in entry.detail


def test_upload_review_decision_and_code_entry_store_the_ballots(app, campaign, scan_dir, count_box, code_status):
    evaluation = campaign["evaluation"]
    client = _organiser(app)
    printed = print_sheets(app, evaluation, 3)
    answers = some_answers(app, evaluation, 3)
    first = printed.layout.items[0]
    for a in answers:
        a[first.item_id] = (first.bubbles[0].option_id,)
    images = scans(printed, answers, extra={0: faint, 1: no_qr})
    batch = _upload(client, evaluation, {"stack.pdf": sheet_scans.to_pdf(images)})
    progress = client.get(f"/admin/sheets/{batch}")
    assert progress.status_code == 200 and "sheets.js" in progress.get_data(as_text=True)
    result = _run(client, batch)
    assert result["counts"]["stored"] == 1 and result["counts"]["review"] == 2 and result["pending"] == 2
    seen = set()
    while True:
        response = client.get(f"/admin/sheets/{batch}/review")
        if response.status_code != 303 or "/review/" not in response.headers["Location"]:
            break
        url = response.headers["Location"]
        html = client.get(url).get_data(as_text=True)
        for code in printed.codes:  # neither screen ever shows a code as text
            assert code not in html and code.replace("-", "") not in html
        if "输入测评码" in html:
            seen.add("code")
            assert "核对填涂" not in html and "按此计入" not in html  # no answers on the code screen
            crop = client.get(re.search(r'src="([^"]+code\.png)"', html).group(1))
            assert crop.status_code == 200 and crop.headers["Cache-Control"] == "no-store"
            # The straightened page waits beside it for the reader, but is never served.
            assert client.get(url + "/page.png").status_code == 404
            wrong = client.post(url, data={"code": "2222-2222-2222"})
            assert wrong.status_code == 400 and "没有这个测评码" in wrong.get_data(as_text=True)
            assert client.post(url, data={"code": printed.codes[1]}).status_code == 303
        else:
            seen.add("marks")
            assert "核对填涂" in html
            crops = re.findall(r'src="([^"]+/(\d+)\.png)"', html)
            assert [int(i) for _, i in crops] == [first.item_id]  # only the unsure item
            assert client.get(crops[0][0]).status_code == 200
            assert client.get(url + "/page.png").status_code == 404
            response = client.post(url, data={f"item_{first.item_id}": str(first.bubbles[0].option_id)})
            assert response.status_code == 303
    assert seen == {"code", "marks"}
    assert all(code_status(c) is CodeStatus.USED for c in printed.codes)
    assert _files(scan_dir) == []  # every image, crop and record is gone
    assert count_box(evaluation) == 3
    with app.app_context():
        details = [e.detail for e in db.session.scalars(select(AuditLog).where(AuditLog.action == "sheets_review"))]
    assert len(details) == 2 and all(c not in d and c.replace("-", "") not in d for d in details for c in printed.codes)


def test_bad_files_are_a_clear_page_never_a_500(app, campaign, scan_dir):
    client = _organiser(app)
    batch = _upload(client, campaign["evaluation"], {"x.pdf": b"%PDF-1.7 broken", "y.png": b"\x89PNG\r\n\x1a\nxx",
                                                     "z.txt": b"hello"})
    result = _run(client, batch)
    assert result["counts"]["files_refused"] == 3 and result["counts"]["stored"] == 0
    empty = client.post(f"/admin/evaluations/{campaign['evaluation']}/sheets/upload", data={},
                        content_type="multipart/form-data")
    assert empty.status_code == 400 and "请选择扫描文件" in empty.get_data(as_text=True)
    assert client.get("/admin/sheets/nothere").status_code == 404
    assert client.get("/admin/sheets/abcdef/review/00/1.png").status_code == 404


def test_a_liaison_or_stranger_cannot_reach_the_pages(app, campaign, scan_dir):
    make_user(app, "viewer1", "viewer")
    client = app.test_client()
    login(client, "viewer1")
    assert client.get(f"/admin/evaluations/{campaign['evaluation']}/sheets").status_code in (403, 404)
    assert app.test_client().get(f"/admin/evaluations/{campaign['evaluation']}/sheets").status_code in (302, 401)


def test_no_code_reaches_a_log_line(app, campaign, scan_dir, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    client = _organiser(app)
    printed = print_sheets(app, campaign["evaluation"], 2)
    images = scans(printed, some_answers(app, campaign["evaluation"], 2), extra={1: no_qr})
    batch = _upload(client, campaign["evaluation"], {"a.png": sheet_scans.encode(images[0]),
                                                     "b.png": sheet_scans.encode(images[1])})
    _run(client, batch)
    url = client.get(f"/admin/sheets/{batch}/review").headers["Location"]
    client.post(url, data={"code": printed.codes[1]})
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    for code in printed.codes:
        assert code not in logged and code.replace("-", "") not in logged
    assert _files(scan_dir) == []


def test_an_oversized_image_or_a_page_that_breaks_the_reader_never_stalls_or_500s(app, campaign, scan_dir,
                                                                                  monkeypatch):
    import numpy as np

    from evaluation.sheets import images, processing

    client = _organiser(app)
    monkeypatch.setattr(images, "MAX_PIXELS", 500 * 500)
    big = sheet_scans.encode(np.full((600, 600), 255, np.uint8))
    batch = _upload(client, campaign["evaluation"], {"big.png": big})
    assert _run(client, batch)["counts"]["files_refused"] == 1
    monkeypatch.setattr(images, "MAX_PIXELS", 80_000_000)

    def broken(image):
        raise RuntimeError("cv2 error quoting pixels")

    monkeypatch.setattr(processing, "locate", broken)
    printed = print_sheets(app, campaign["evaluation"], 2)
    pages = scans(printed, some_answers(app, campaign["evaluation"], 2))
    batch = _upload(client, campaign["evaluation"], {"s.pdf": sheet_scans.to_pdf(pages)})
    result = _run(client, batch)
    assert result["counts"]["unreadable"] == 2 and result["finished"]
    assert _files(scan_dir) == []


def test_reading_can_be_left_and_resumed_where_it_stopped(app, campaign, scan_dir, count_ballots):
    client = _organiser(app)
    printed = print_sheets(app, campaign["evaluation"], 5)
    pages = scans(printed, some_answers(app, campaign["evaluation"], 5))
    batch = _upload(client, campaign["evaluation"], {"s.pdf": sheet_scans.to_pdf(pages)})
    first = client.post(f"/admin/sheets/{batch}/step")  # no script: one step, then back to the page
    assert first.status_code == 303 and first.headers["Location"].endswith(f"/admin/sheets/{batch}")
    page = client.get(f"/admin/sheets/{batch}").get_data(as_text=True)  # the operator comes back later
    assert "已读 3 / 5 页" in page and "继续读取" in page
    assert count_ballots() == 3
    listed = client.get(f"/admin/evaluations/{campaign['evaluation']}/sheets").get_data(as_text=True)
    assert batch[:8] in listed and "读取中(可继续)" in listed
    assert _run(client, batch)["counts"]["stored"] == 5 and count_ballots() == 5
    assert client.get(f"/admin/sheets/{batch}").status_code == 404  # finished with nothing to review: gone
