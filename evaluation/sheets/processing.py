"""Turning a batch's pages into stored ballots, refusals and review items.

For each page: straighten it and read its code (:mod:`.reading`); look the
code up exactly as the rater flow does (:func:`surveys.ballots.lookup`) and
refuse a used, void, closed, unknown or other evaluation's code; read the
marks with the layout of the code's questionnaire; once every page of the
sheet is in, store a sheet whose marks are all clear through
:func:`surveys.ballots.submit_ballot` — the one conditional UPDATE that admits
one ballot per code — or keep it for review. The page image is dropped as
soon as its page is read, unless its QR could not be read (then the
straightened page waits for the operator to type the code).
"""
from __future__ import annotations

import json
import os
from typing import Optional

import numpy as np
from flask import current_app

from surveys import structure
from surveys.ballots import CodeState, SubmitResult, lookup, submit_ballot

from .images import ScanError, pages
from .layout import Layout
from .queue import Batch, write_pending
from .reading import ItemReading, Page, code_crop, item_crop, locate, marks

_REFUSAL = {CodeState.USED: "used", CodeState.VOID: "void", CodeState.NOT_OPEN: "closed",
            CodeState.UNKNOWN: "unknown", CodeState.MALFORMED: "unknown"}


def png(image: np.ndarray) -> bytes:
    """A grayscale image as PNG bytes."""
    import cv2

    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("PNG encoding failed")
    return data.tobytes()


def sheet_layout(questionnaire_id: int, paper: str) -> Layout:
    """The layout of a questionnaire on ``paper``, kept per process while the questionnaire is frozen."""
    from .layout import layout

    store = current_app.extensions.setdefault("ceping_sheet_layouts", {})
    key = (questionnaire_id, paper)
    if key not in store:
        view = structure.questionnaire(questionnaire_id)
        placed = layout(view, paper)
        if not view.frozen:
            return placed
        store[key] = placed
    return store[key]


def step(batch: Batch, limit: int) -> int:
    """Read up to ``limit`` pages of ``batch`` from where it stopped; returns pages read."""
    done = 0
    while done < limit and not batch.finished:
        index, start = batch.cursor
        if index >= len(batch.files):
            finish(batch)
            break
        entry = batch.files[index]
        if entry["error"] or start >= entry["pages"]:
            _next_file(batch)
            continue
        with open(batch.file_path(index), "rb") as handle:
            data = handle.read()
        try:
            for image in pages(data, start):
                try:
                    read_page(batch, image)
                except ScanError:
                    raise
                except Exception as error:  # noqa: BLE001 - one odd page must not stall the batch forever
                    # Only the error's type is logged: its message could quote the page's content.
                    current_app.logger.warning("scanned page unreadable: %s", type(error).__name__)
                    batch.counts["unreadable"] += 1
                batch.cursor[1] += 1
                done += 1
                if done >= limit:
                    break
        except ScanError as error:
            entry["error"] = str(error)
            batch.counts["unreadable"] += entry["pages"] - batch.cursor[1]
            batch.cursor[1] = entry["pages"]
        if batch.cursor[1] >= entry["pages"]:
            _next_file(batch)
    return done


def _next_file(batch: Batch) -> None:
    """The current file is read: delete it (it holds codes) and move on."""
    path = batch.file_path(batch.cursor[0])
    if os.path.exists(path):
        os.remove(path)
    batch.cursor = [batch.cursor[0] + 1, 0]


def read_page(batch: Batch, image: np.ndarray) -> None:
    """Read one page and act on it: store, refuse, hold for review, or count it unreadable."""
    batch.counts["pages"] += 1
    page = locate(image)
    if page is None:
        batch.counts["unreadable"] += 1
        return
    if page.code is None:
        write_pending(batch, {"kind": "code", "paper": page.paper, "page": page.page},
                      {"code": png(code_crop(page)), "page": png(page.image)})
        batch.counts["review"] += 1
        return
    with_code(batch, page, page.code)


def refusal(batch: Batch, code: str) -> tuple[Optional[str], Optional[object]]:
    """Why the code cannot admit a ballot (a count name), or None with the code's row."""
    found = lookup(code)
    if found.state is not CodeState.READY:
        return _REFUSAL[found.state], None
    if batch.evaluation_id is not None and found.code.evaluation.id != batch.evaluation_id:
        return "other_evaluation", None
    return None, found.code


def with_code(batch: Batch, page: Page, code: str) -> str:
    """A page whose code is known: refuse it, or read its marks and go on with its sheet.

    Returns what became of it: ``stored``, ``review``, ``partial`` (more pages
    to come), ``busy`` or the refusal's count name.
    """
    reason, row = refusal(batch, code)
    if reason:
        batch.counts[reason] += 1
        return reason
    placed = sheet_layout(row.evaluation.questionnaire_id, page.paper)
    readings = marks(page, placed)
    crops = {str(r.item_id): png(item_crop(page, placed, r.item_id)) for r in readings if not r.clear}
    sheet = {"code_hash": row.code_hash, "evaluation_id": row.evaluation.id, "group_id": row.rater_group_id,
             "questionnaire_id": row.evaluation.questionnaire_id, "paper": page.paper, "pages": placed.pages,
             "items": {}}
    if placed.pages > 1:
        sheet, crops = _merge_partial(batch, row.code_hash, sheet, page.page, readings, crops)
        if sheet is None:
            return "partial"
    else:
        sheet["items"] = {str(r.item_id): _item(r) for r in readings}
    return decide(batch, sheet, crops)


def _item(reading: ItemReading) -> dict:
    return {"clear": reading.clear, "chosen": list(reading.chosen), "guess": list(reading.guess)}


def _merge_partial(batch: Batch, code_hash: str, sheet: dict, page_no: int, readings, crops):
    """Add one page of a multi-page sheet; the whole sheet once all its pages are in, else (None, None)."""
    path = batch.partial_path(code_hash)
    held = {"sheet": sheet, "seen": [], "crops": {}}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            held = json.load(handle)
    if page_no not in held["seen"]:
        held["seen"].append(page_no)
        held["sheet"]["items"].update({str(r.item_id): _item(r) for r in readings})
        for name, data in crops.items():
            crop_path = path[:-5] + f"-{name}.png"
            with open(os.open(crop_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
                handle.write(data)
            held["crops"][name] = crop_path
    if len(held["seen"]) < sheet["pages"]:
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
            json.dump(held, handle)
        return None, None
    all_crops = {}
    for name, crop_path in held["crops"].items():
        with open(crop_path, "rb") as handle:
            all_crops[name] = handle.read()
        os.remove(crop_path)
    if os.path.exists(path):
        os.remove(path)
    return held["sheet"], all_crops


def answers_of(sheet: dict) -> list[tuple[int, int, Optional[int], None]]:
    """The ballot's answer rows ``(item_id, seq, option_id, None)``: clear items only, blanks left out."""
    rows = []
    for item_id, item in sorted(sheet["items"].items(), key=lambda kv: int(kv[0])):
        for seq, option_id in enumerate(sorted(item["chosen"])):
            rows.append((int(item_id), seq, int(option_id), None))
    return rows


def decide(batch: Batch, sheet: dict, crops: dict[str, bytes]) -> str:
    """Store a sheet whose every item is clear; otherwise keep it, with the unsure items' crops, for review."""
    if all(item["clear"] for item in sheet["items"].values()):
        outcome = store(sheet)
    else:
        write_pending(batch, dict(sheet, kind="marks"), crops)
        outcome = "review"
    batch.counts[outcome] += 1
    return outcome


def store(sheet: dict) -> str:
    """Redeem the sheet's code with its answers: ``stored``, or the refusal's count name (or ``busy``)."""
    result = submit_ballot(sheet["code_hash"], sheet["evaluation_id"], sheet["group_id"], answers_of(sheet),
                           sheet["questionnaire_id"])
    if result is SubmitResult.STORED:
        return "stored"
    if result is SubmitResult.BUSY:
        return "busy"
    from surveys.ballots import code_state_after_reject

    return _REFUSAL.get(code_state_after_reject(sheet["code_hash"]), "closed")


def finish(batch: Batch) -> None:
    """Every page read: sheets still missing a page go to review (to be rescanned whole or discarded)."""
    folder = os.path.join(batch.path, "partial")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                held = json.load(handle)
            write_pending(batch, {"kind": "missing_page", "evaluation_id": held["sheet"]["evaluation_id"],
                                  "seen": held["seen"], "pages": held["sheet"]["pages"]}, {})
            batch.counts["review"] += 1
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    batch.finished = True



def summary(counts: dict) -> str:
    """The batch's summary line (bilingual, counts only)."""
    refused = sum(counts[k] for k in ("used", "void", "closed", "other_evaluation", "unknown"))
    return (f"已读 {counts['pages']} 页 / pages read {counts['pages']}; 已计入 / stored {counts['stored']}; "
            f"待复核 / to review {counts['review']}; 拒收 / refused {refused} (已使用 used {counts['used']}, "
            f"已作废 void {counts['void']}, 测评已结束 closed {counts['closed']}, "
            f"非本测评 not this evaluation {counts['other_evaluation']}, 无此码 unknown {counts['unknown']}); "
            f"无法识别 / unreadable {counts['unreadable']}; 无法打开的文件 / files refused {counts['files_refused']}"
            + (f"; 系统繁忙未保存 / busy {counts['busy']}" if counts.get("busy") else ""))


def audit_finished(batch: Batch) -> None:
    """Once a batch is read, one audit entry with its counts (never a code, an answer or a file name)."""
    from extensions import db

    from evaluation.accounts import audit

    if batch.finished and not batch.audited:
        audit.record("sheets_read", f"evaluation:{batch.evaluation_id}" if batch.evaluation_id else "sheets",
                     **{k: v for k, v in batch.counts.items() if v})
        db.session.commit()
        batch.audited = True
