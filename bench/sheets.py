"""Benchmark of the scanned-sheet reader (issue 16): accuracy, review rate, pages per second.

Prints N sheets of the satisfaction questionnaire (6 items × 5 options)
through the real printer, marks them as pens do with known answers, scans them
the ways real stacks arrive, and reads them through the real pipeline
(``evaluation.sheets.processing``) into a scratch SQLite database:

* scanners at 150, 200 and 300 dpi, rotated up to ±4°, with noise; a third of
  them phone photos (perspective up to 4 % of the side, uneven light, blur);
  files as PNG, JPEG at quality 60, and multi-page PDFs of JPEG pages;
* per item: filled circles, ticks, crosses and partial fills (chosen), blank
  items (10 %), and rarely a correction (one choice filled and crossed out, another
  filled) or a faint stray trace — those two must go to review.

It reports: clear marks read right (clear items whose reading is clear and
equal to the truth), clear items sent to review, ballots stored with a wrong
answer (each stored ballot is matched to its sheet's truth through the codes
used — a multiset comparison, since the box cannot say which ballot is which
— and, per sheet, through the reader's own item readings), the review rate,
and pages per second of the whole pipeline (decode, markers, QR, marks,
redeeming). Run:

    python bench/sheets.py --sheets 600 --workers 2
"""
from __future__ import annotations

import argparse
import io
import multiprocessing
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import make_app, print_facts  # noqa: E402

CHOSEN = ("fill", "fill", "tick", "cross", "partial")


def plan(rnd: random.Random, layout, corrections: float, faint: float) -> tuple[dict, dict, set]:
    """One sheet's marks: item id → [(option id, style)], its truth (item → options) and the items that must go to review."""
    marks, truth, unsure = {}, {}, set()
    for box in layout.items:
        roll = rnd.random()
        if roll < 0.10:
            marks[box.item_id], truth[box.item_id] = [], ()
            continue
        chosen = rnd.choice(box.bubbles)
        marks[box.item_id] = [(chosen.option_id, rnd.choice(CHOSEN))]
        truth[box.item_id] = (chosen.option_id,)
        if rnd.random() < corrections:
            other = rnd.choice([b for b in box.bubbles if b is not chosen])
            marks[box.item_id].append((other.option_id, "crossed"))
            unsure.add(box.item_id)
        elif rnd.random() < faint:
            other = rnd.choice([b for b in box.bubbles if b is not chosen])
            marks[box.item_id].append((other.option_id, "faint"))
            unsure.add(box.item_id)
    return marks, truth, unsure


def make_scan(job) -> tuple[int, str, bytes]:
    """Render, mark and disturb one sheet (runs in a worker process)."""
    from tests.evaluation import sheet_scans

    index, pdf_page, bubbles, marks, seed, harsh = job
    rnd = random.Random(seed)
    dpi = rnd.choice(harsh["dpis"])
    image = sheet_scans.render(pdf_page, dpi)[0]
    for item_id, item_marks in marks.items():
        for option_id, style in item_marks:
            x, y, r = bubbles[(item_id, option_id)]
            sheet_scans.mark(image, x, y, r, style, dpi, rnd)
    phone = rnd.random() < harsh["phones"]
    image = sheet_scans.distort(image, rnd, rotate=4.0,
                                perspective=rnd.uniform(0.01, harsh["perspective"]) if phone else 0.0,
                                blur=rnd.uniform(0.6, harsh["blur"]) if phone else rnd.choice((0.0, 0.0, 0.7)),
                                noise=rnd.uniform(2, 8))
    kind = rnd.choice(("png", "jpeg", "jpeg", "pdf"))
    if kind == "pdf":
        return index, "pdf", sheet_scans.encode(image, "jpeg", 60)
    return index, kind, sheet_scans.encode(image, kind, 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sheets", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2, help="processes generating the scans")
    parser.add_argument("--corrections", type=float, default=0.002, help="share of items with a correction")
    parser.add_argument("--faint", type=float, default=0.002, help="share of items with a faint stray trace")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--dpis", default="150,200,300", help="scanner resolutions drawn from")
    parser.add_argument("--phones", type=float, default=1 / 3, help="share of phone photos")
    parser.add_argument("--perspective", type=float, default=0.04, help="largest corner shift of a photo (share of side)")
    parser.add_argument("--blur", type=float, default=1.6, help="largest blur of a photo (Gaussian sigma, px)")
    args = parser.parse_args()
    print_facts("sheets benchmark")
    workdir = Path(tempfile.mkdtemp(prefix="ceping-sheets-"))
    app = make_app(f"sqlite:///{workdir / 'bench.sqlite'}", SCAN_DIR=str(workdir / "scans"))
    with app.app_context():
        run(app, args, workdir)


def run(app, args, workdir: Path) -> None:
    import cv2
    import numpy as np
    import pypdfium2

    from evaluation.services import create_evaluation, get_or_create_groups
    from evaluation.sheets import processing, queue, reading
    from evaluation.sheets.images import pages as page_images
    from evaluation.sheets.issuing import print_sheets
    from extensions import db
    from models import Answer, BallotCode, Campaign, CodeStatus, Unit, UnitKind
    from surveys import box
    from surveys.catalog import load_catalog
    from surveys.codes import hash_code, normalise_code
    from tests.evaluation import sheet_scans

    db.create_all()
    load_catalog()
    campaign = Campaign(name="bench")
    unit = Unit(campaign=campaign, code="B1", name="基准单位", kind=UnitKind.UNIT, members=10)
    db.session.add_all([campaign, unit])
    get_or_create_groups(campaign, ["党员"])
    db.session.commit()
    evaluation = create_evaluation(unit.id, "satisfaction", open_now=True).id
    t0 = time.perf_counter()
    printed = print_sheets(evaluation, "党员", args.sheets, base_url="http://bench")
    print(f"printed {args.sheets} sheets in {time.perf_counter() - t0:.1f}s ({len(printed.pdf) / 1e6:.1f} MB)")
    layout = printed.layout
    bubbles = {(b.item_id, b.option_id): (b.x, b.y, b.r) for item in layout.items for b in item.bubbles}
    document = pypdfium2.PdfDocument(printed.pdf)
    rnd = random.Random(args.seed)
    jobs, truths, codes = [], [], []
    for index in range(args.sheets):
        one = pypdfium2.PdfDocument.new()
        one.import_pages(document, [index])
        buffer = io.BytesIO()
        one.save(buffer)
        text = document[index].get_textpage().get_text_range()
        codes.append(normalise_code(re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", text).group(0)))
        marks, truth, unsure = plan(rnd, layout, args.corrections, args.faint)
        truths.append((truth, unsure))
        harsh = {"dpis": tuple(int(d) for d in args.dpis.split(",")), "phones": args.phones,
                 "perspective": args.perspective, "blur": args.blur}
        jobs.append((index, buffer.getvalue(), bubbles, marks, rnd.randrange(2 ** 31), harsh))
    t0 = time.perf_counter()
    with multiprocessing.Pool(args.workers) as pool:
        scans = sorted(pool.map(make_scan, jobs, chunksize=8))
    print(f"generated {len(scans)} scans in {time.perf_counter() - t0:.1f}s; "
          f"kinds {dict(Counter(kind for _, kind, _ in scans))}")

    # Accuracy per item, from the reader itself (not timed).
    right = clear_total = clear_unsure = clear_wrong = must_review = must_review_caught = 0
    marked = marked_right = 0
    wrong_sheets = located = with_code = 0
    for (index, kind, data), (truth, unsure) in zip(scans, truths):
        page = reading.locate(next(page_images(data)))
        located += page is not None
        with_code += page is not None and page.code is not None
        readings = {r.item_id: r for r in reading.marks(page, layout)} if page and page.code else {}
        sheet_clear = bool(readings) and all(r.clear for r in readings.values())
        sheet_wrong = False
        for item_id, want in truth.items():
            got = readings.get(item_id)
            if item_id in unsure:
                must_review += 1
                must_review_caught += bool(got is None or not got.clear)
                sheet_wrong |= bool(got is not None and got.clear)
                continue
            clear_total += 1
            marked += bool(want)
            if got is not None and got.clear and tuple(sorted(got.chosen)) == tuple(sorted(want)):
                right += 1
                marked_right += bool(want)
            elif got is not None and got.clear:
                clear_wrong += 1
                sheet_wrong = True
            else:
                clear_unsure += 1
        wrong_sheets += sheet_clear and sheet_wrong
    print(f"clear items: {clear_total}; read right {right} ({100 * right / clear_total:.3f} %); "
          f"sent to review {clear_unsure}; read wrong but clear {clear_wrong}")
    print(f"  of which marked (one pen mark): {marked}, read right {marked_right}; blank: {clear_total - marked}")
    print(f"pages whose markers were found: {located} of {len(scans)}; whose QR was read: {with_code} "
          f"(the others go to review: the operator types the code)")
    print(f"items that must go to review (corrections, faint traces): {must_review}; caught {must_review_caught}")
    print(f"sheets the reader would store with a wrong answer: {wrong_sheets}")

    # Throughput and outcome of the whole pipeline, into the database.
    batch = queue.create(evaluation)
    pdf_pages = [cv2.imdecode(np.frombuffer(d, "uint8"), cv2.IMREAD_GRAYSCALE) for _, k, d in scans if k == "pdf"]
    with queue.locked(batch.id) as batch:
        for index, kind, data in scans:
            if kind != "pdf":
                queue.add_file(batch, f"{index}.{kind}", data)
        for start in range(0, len(pdf_pages), 20):
            queue.add_file(batch, f"stack{start}.pdf", sheet_scans.to_pdf(pdf_pages[start:start + 20], quality=60))
    t0 = time.perf_counter()
    with queue.locked(batch.id) as current:
        while not current.finished:
            processing.step(current, 50)
        counts = dict(current.counts)
    elapsed = time.perf_counter() - t0
    print(f"pipeline: {counts['pages']} pages in {elapsed:.1f}s = {counts['pages'] / elapsed:.2f} pages/s "
          f"(one process, including decoding and redeeming)")
    print("summary:", processing.summary(counts))
    print(f"review rate: {100 * counts['review'] / args.sheets:.2f} % of sheets")
    used = {c for c in codes if db.session.get(BallotCode, hash_code(c, app.config["CODE_KEY"])).status
            is CodeStatus.USED}
    box.close([evaluation])
    stored = Counter()
    by_ballot: dict = {}
    for answer in db.session.scalars(db.select(Answer)):
        by_ballot.setdefault(answer.ballot_id, []).append((answer.item_id, answer.option_id))
    for rows in by_ballot.values():
        stored[tuple(sorted(rows))] += 1
    stored[()] += counts["stored"] - len(by_ballot)  # all-blank ballots have no answer rows
    expected = Counter(tuple(sorted((i, o[0]) for i, o in truths[k][0].items() if o))
                       for k, c in enumerate(codes) if c in used)
    print(f"stored ballots {sum(stored.values())}; equal to the truths of the sheets stored: {stored == expected} "
          f"(differences: {sum((stored - expected).values())})")


if __name__ == "__main__":
    main()
