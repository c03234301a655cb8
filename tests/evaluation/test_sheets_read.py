"""Reading scanned sheets from the command line: stored exactly, once per code, refusals, review, clean-up."""
from __future__ import annotations

import os
import re

from sqlalchemy import select

from extensions import db
from models import Answer, AuditLog, BallotCode, CodeStatus
from tests.evaluation import sheet_scans
from tests.evaluation.sheets_data import print_sheets, scans, some_answers


def _files(path) -> list[str]:
    return [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if not f.startswith(".lock")]


def _read(runner, *paths, evaluation=None):
    args = ["sheets", "read", *map(str, paths)] + (["--evaluation", str(evaluation)] if evaluation else [])
    return runner.invoke(args=args)


def test_clean_stack_is_stored_exactly_and_nothing_remains(app, runner, campaign, scan_dir, tmp_path, count_box,
                                                           code_status):
    evaluation = campaign["evaluation"]
    printed = print_sheets(app, evaluation, 3)
    answers = some_answers(app, evaluation, 3)
    (tmp_path / "stack.pdf").write_bytes(sheet_scans.to_pdf(scans(printed, answers)))
    result = _read(runner, tmp_path / "stack.pdf", evaluation=evaluation)
    assert result.exit_code == 0, result.output
    assert "已计入 / stored 3" in result.stdout and "待复核 / to review 0" in result.stdout
    assert all(code_status(c) is CodeStatus.USED for c in printed.codes)
    count_box(evaluation)
    with app.app_context():
        stored = sorted(sorted((a.item_id, a.option_id) for a in b) for b in _by_ballot())
    assert stored == sorted(sorted((i, o[0]) for i, o in a.items()) for a in answers)
    assert _files(scan_dir) == []  # no image, crop or state file outlives the batch
    for code in printed.codes:
        assert code not in result.output
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "sheets_read"))
        assert '"stored": 3' in entry.detail and all(c not in entry.detail for c in printed.codes)


def _by_ballot():
    grouped = {}
    for answer in db.session.scalars(select(Answer)):
        grouped.setdefault(answer.ballot_id, []).append(answer)
    return list(grouped.values())


def test_a_sheet_scanned_twice_stores_once(app, runner, campaign, scan_dir, tmp_path, count_ballots):
    evaluation = campaign["evaluation"]
    printed = print_sheets(app, evaluation, 2)
    images = scans(printed, some_answers(app, evaluation, 2))
    first, again = tmp_path / "a.png", tmp_path / "b.jpg"
    first.write_bytes(sheet_scans.encode(images[0]))
    again.write_bytes(sheet_scans.encode(images[0], "jpeg", 60))
    result = _read(runner, first, again)
    assert "已计入 / stored 1" in result.stdout and "已使用 used 1" in result.stdout
    assert count_ballots() == 1


def test_used_void_and_other_evaluation_codes_are_refused(app, runner, campaign, scan_dir, tmp_path, count_ballots):
    from evaluation.services import create_evaluation, void_batch
    from surveys.ballots import submit_ballot
    from surveys.codes import hash_code, normalise_code

    evaluation = campaign["evaluation"]
    printed = print_sheets(app, evaluation, 3)
    with app.app_context():
        other = create_evaluation(campaign["units"][1], "satisfaction", open_now=True).id
        rows = {c: db.session.get(BallotCode, hash_code(normalise_code(c), app.config["CODE_KEY"]))
                for c in printed.codes}
        used = rows[printed.codes[0]]
        assert submit_ballot(used.code_hash, evaluation, used.rater_group_id, []).value == "stored"  # online first
    printed_void = print_sheets(app, evaluation, 1)
    with app.app_context():
        void_batch(db.session.get(BallotCode, hash_code(normalise_code(printed_void.codes[0]),
                                                        app.config["CODE_KEY"])).batch_id)
    printed_other = print_sheets(app, other, 1)
    paths = []
    for n, (p, k) in enumerate([(printed, 0), (printed_void, 0), (printed_other, 0)]):
        path = tmp_path / f"{n}.png"
        path.write_bytes(sheet_scans.encode(scans(p, some_answers(app, evaluation, 3))[k]))
        paths.append(path)
    result = _read(runner, *paths, evaluation=evaluation)
    assert result.exit_code == 0, result.output
    assert "已计入 / stored 0" in result.stdout
    assert "已使用 used 1" in result.stdout and "已作废 void 1" in result.stdout
    assert "非本测评 not this evaluation 1" in result.stdout
    assert count_ballots() == 1  # only the online ballot
    assert _files(scan_dir) == []


def faint(image, layout, rnd):
    """A faint trace in a second circle of the first item."""
    bubble = layout.items[0].bubbles[-1]
    sheet_scans.mark(image, bubble.x, bubble.y, bubble.r, "faint", 150, rnd)


def two_marks(image, layout, rnd):
    """A second circle filled on a single-choice item."""
    bubble = layout.items[1].bubbles[-2]
    sheet_scans.mark(image, bubble.x, bubble.y, bubble.r, "fill", 150, rnd)


def no_qr(image, layout, rnd):
    sheet_scans.damage_qr(image, layout.qr_box(), 150)


def test_ambiguous_marks_and_a_damaged_qr_go_to_review(app, runner, campaign, scan_dir, tmp_path, count_ballots):
    evaluation = campaign["evaluation"]
    printed = print_sheets(app, evaluation, 4)
    answers = some_answers(app, evaluation, 4)
    for a in answers:  # keep the planted second marks apart from the real ones
        for box in printed.layout.items[:2]:
            a[box.item_id] = (box.bubbles[0].option_id,)
    images = scans(printed, answers, extra={0: faint, 1: two_marks, 2: no_qr})
    (tmp_path / "s.tif").write_bytes(b"".join([]) or _tiff(images))
    result = _read(runner, tmp_path / "s.tif")
    assert result.exit_code == 0, result.output
    assert "已计入 / stored 1" in result.stdout and "待复核 / to review 3" in result.stdout
    assert re.search(r"/admin/sheets/[0-9a-f]{24}", result.output)  # where the operator goes next
    assert count_ballots() == 1
    pending = [f for f in _files(scan_dir) if f.endswith(".json") and "pending" in f]
    assert len(pending) == 3
    for code in printed.codes:  # the queue keeps hashes, never a plain code
        assert all(code.replace("-", "") not in open(f, encoding="utf-8").read() for f in pending)


def _tiff(images) -> bytes:
    import cv2

    ok, data = cv2.imencodemulti(".tif", images) if hasattr(cv2, "imencodemulti") else (False, None)
    assert ok
    return data.tobytes()


def test_damaged_and_foreign_files_are_a_clear_error(app, runner, campaign, scan_dir, tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage")
    (tmp_path / "notes.txt").write_bytes("这不是扫描件".encode())
    (tmp_path / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    result = _read(runner, tmp_path / "broken.pdf", tmp_path / "notes.txt", tmp_path / "cut.jpg")
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert "PDF" in result.output and "not a PDF, TIFF, JPEG or PNG" in result.output
    assert _files(scan_dir) == []


def test_leftovers_are_deleted_at_start_up(app, runner, campaign, scan_dir, tmp_path, database_url):
    from app import create_app
    from evaluation.sheets import queue

    with app.app_context():
        old, fresh = queue.create(), queue.create()
        queue.add_file(old, "x.png", sheet_scans.encode(__import__("numpy").full((40, 40), 255, "uint8")))
        old.save()
        os.utime(os.path.join(old.path, "state.json"), (0, 0))
        assert oct(os.stat(queue.root()).st_mode & 0o777) == "0o700"
    create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SCAN_DIR": str(scan_dir)})
    assert sorted(os.listdir(scan_dir)) == [fresh.id]


def _long_evaluation(app, campaign) -> int:
    """An open evaluation of a 26-item questionnaire (two A4 pages) whose last item allows several options."""
    from evaluation.services import create_evaluation
    from surveys.catalog import build_questionnaire

    satisfaction = {"name": "满意度", "options": [{"label": x, "polarity": "positive"} for x in ("满意", "基本满意")]
                    + [{"label": "不满意", "polarity": "negative"}]}
    items = [{"kind": "scale", "scale": "s", "text": f"第 {n} 项工作的评价(较长的指标说明文字,用于测试换行)" * 2}
             for n in range(25)]
    items.append({"kind": "multiple", "text": "您参加了哪些活动", "options": [{"label": "学习"}, {"label": "调研"},
                                                                        {"label": "座谈"}]})
    with app.app_context():
        db.session.add(build_questionnaire({"key": "long_sheet", "title": "长测评表", "scales": {"s": satisfaction},
                                            "items": items}))
        db.session.commit()
        return create_evaluation(campaign["units"][1], "long_sheet", open_now=True).id


def test_a_two_page_sheet_is_stored_once_both_pages_are_in_and_a_missing_page_goes_to_review(
        app, runner, campaign, scan_dir, tmp_path, count_box, code_status):
    evaluation = _long_evaluation(app, campaign)
    printed = print_sheets(app, evaluation, 2)
    assert printed.layout.pages == 2
    answers = some_answers(app, evaluation, 2)
    last = printed.layout.items[-1]
    answers[0][last.item_id] = tuple(b.option_id for b in last.bubbles[:2])  # two options of a multiple item
    pages = scans(printed, answers)
    for n, image in enumerate([pages[1], pages[0], pages[2]]):  # page 2 before page 1; sheet 2 lacks page 2
        (tmp_path / f"p{n}.png").write_bytes(sheet_scans.encode(image))
    result = _read(runner, *(tmp_path / f"p{n}.png" for n in range(3)))
    assert result.exit_code == 0, result.output
    assert "已计入 / stored 1" in result.stdout and "待复核 / to review 1" in result.stdout
    assert code_status(printed.codes[0]) is CodeStatus.USED and code_status(printed.codes[1]) is CodeStatus.UNUSED
    count_box(evaluation)
    with app.app_context():
        stored = sorted((a.item_id, a.option_id) for a in db.session.scalars(select(Answer)))
    assert stored == sorted((i, o) for i, opts in answers[0].items() for o in opts)
    pending = [f for f in _files(scan_dir) if "pending" in f]
    assert len(pending) == 1 and '"missing_page"' in open(pending[0], encoding="utf-8").read()
