"""The private scan directory: a batch's uploaded files, its progress and its sheets awaiting review.

Nothing of a scan ever enters the database. A batch is a directory
``SCAN_DIR/<random id>/`` (mode 0700, like the directory above it) holding

* ``files/<n>`` — the uploaded files, each deleted as soon as its last page is read;
* ``state.json`` — progress and counts only (pages read, stored, sent to review, refused by reason);
* ``pending/<token>.json`` with its ``.png`` crops — one sheet awaiting an operator: the code's hash
  and the clear answers (needed to store it), the unsure items' guesses and crops, or, for an
  unreadable QR, the straightened page; deleted the moment the sheet is stored, refused or discarded;
* ``partial/<hash>.json`` — pages read so far of a sheet that runs over several pages.

A step of work takes the batch's lock (``flock``), so two requests never read
the same page twice. :func:`sweep` deletes batches left over from an earlier
run (the start-up sweep) and :func:`purge` everything (``sheets purge``).
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Optional

from flask import current_app

COUNTS = ("pages", "stored", "review", "used", "void", "closed", "other_evaluation", "unknown", "unreadable",
          "busy", "files_refused", "discarded")
REFUSED = ("used", "void", "closed", "other_evaluation", "unknown")


class BatchMissing(LookupError):
    """No such batch (never made, finished and deleted, or swept)."""


def root() -> str:
    """The scan directory (config ``SCAN_DIR``, default ``instance/scans``), made private if new."""
    path = current_app.config.get("SCAN_DIR") or os.path.join(current_app.instance_path, "scans")
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _private_write(path: str, data: bytes) -> None:
    """Write a file readable by its owner only, atomically (a crash never leaves half a state file)."""
    partial = path + ".part"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)


@dataclass
class Batch:
    """A batch's progress: its files, the next page to read, the counts, and which evaluation it is for."""

    id: str
    evaluation_id: Optional[int] = None
    files: list[dict] = field(default_factory=list)   # {"name": shown name, "pages": n, "error": message|None}
    cursor: list[int] = field(default_factory=lambda: [0, 0])  # [file index, page index]
    counts: dict = field(default_factory=lambda: {k: 0 for k in COUNTS})
    finished: bool = False
    audited: bool = False

    @property
    def path(self) -> str:
        """The batch's directory."""
        return os.path.join(root(), self.id)

    @property
    def total_pages(self) -> int:
        """Pages in all the batch's readable files."""
        return sum(f["pages"] for f in self.files)

    def save(self) -> None:
        """Write the batch's progress (counts only: no code, no answer)."""
        state = {"evaluation_id": self.evaluation_id, "files": self.files, "cursor": self.cursor,
                 "counts": self.counts, "finished": self.finished, "audited": self.audited}
        _private_write(os.path.join(self.path, "state.json"), json.dumps(state).encode())

    def file_path(self, index: int) -> str:
        """Where the batch's file number ``index`` is kept until read."""
        return os.path.join(self.path, "files", str(index))

    def pending_path(self, token: str, suffix: str = ".json") -> str:
        """A pending sheet's record (or, with another suffix, one of its crops)."""
        return os.path.join(self.path, "pending", token + suffix)

    def partial_path(self, code_hash: str) -> str:
        """The pages read so far of a multi-page sheet."""
        return os.path.join(self.path, "partial", code_hash + ".json")

    def pending(self) -> list[str]:
        """Tokens of the sheets awaiting review."""
        folder = os.path.join(self.path, "pending")
        return sorted(n[:-5] for n in os.listdir(folder) if n.endswith(".json")) if os.path.isdir(folder) else []


def create(evaluation_id: Optional[int] = None) -> Batch:
    """A new empty batch directory (0700)."""
    batch = Batch(secrets.token_hex(12), evaluation_id)
    for sub in ("", "files", "pending", "partial"):
        os.makedirs(os.path.join(batch.path, sub), mode=0o700, exist_ok=True)
    batch.save()
    return batch


def add_file(batch: Batch, name: str, data: bytes) -> None:
    """Keep an uploaded file until its pages are read; a file that cannot be read is counted, not kept."""
    from .images import ScanError, page_count

    shown = os.path.basename(name or "")[:80]
    try:
        pages = page_count(data)
    except ScanError as error:
        batch.files.append({"name": shown, "pages": 0, "error": str(error)})
        batch.counts["files_refused"] += 1
        return
    index = len(batch.files)
    _private_write(batch.file_path(index), data)
    batch.files.append({"name": shown, "pages": pages, "error": None})


def load(batch_id: str) -> Batch:
    """The batch with this id, or BatchMissing."""
    if not batch_id or not all(c in "0123456789abcdef" for c in batch_id):
        raise BatchMissing(batch_id)
    path = os.path.join(root(), batch_id, "state.json")
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        raise BatchMissing(batch_id) from None
    counts = {k: 0 for k in COUNTS} | state["counts"]
    return Batch(batch_id, state["evaluation_id"], state["files"], state["cursor"], counts, state["finished"],
                 state.get("audited", False))


@contextmanager
def locked(batch_id: str) -> Iterator[Batch]:
    """The batch, re-read under its lock; changes are saved when the block ends without error."""
    try:
        handle = open(os.path.join(root(), batch_id, ".lock"), "a")
    except OSError:
        raise BatchMissing(batch_id) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        batch = load(batch_id)
        yield batch
        if os.path.isdir(batch.path):
            batch.save()


def batches() -> list[Batch]:
    """Every batch in the scan directory, newest first."""
    found = []
    for name in os.listdir(root()):
        try:
            found.append((os.path.getmtime(os.path.join(root(), name, "state.json")), load(name)))
        except (BatchMissing, OSError):
            continue
    return [b for _, b in sorted(found, key=lambda pair: pair[0], reverse=True)]


def write_pending(batch: Batch, record: dict, crops: dict[str, bytes]) -> str:
    """Keep one sheet for review: its record and its PNG crops, under a fresh random token."""
    token = secrets.token_hex(12)
    for name, png in crops.items():
        _private_write(batch.pending_path(token, f"-{name}.png"), png)
    record = dict(record, crops=sorted(crops))
    _private_write(batch.pending_path(token), json.dumps(record).encode())
    return token


def read_pending(batch: Batch, token: str) -> dict:
    """A pending sheet's record, or BatchMissing when it was decided meanwhile."""
    if not all(c in "0123456789abcdef" for c in token):
        raise BatchMissing(token)
    try:
        with open(batch.pending_path(token), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        raise BatchMissing(token) from None


def crop(batch: Batch, token: str, name: str) -> bytes:
    """One PNG crop of a pending sheet (names come from its record, never from the request alone)."""
    if name not in read_pending(batch, token).get("crops", []):
        raise BatchMissing(name)
    with open(batch.pending_path(token, f"-{name}.png"), "rb") as handle:
        return handle.read()


def drop_pending(batch: Batch, token: str) -> None:
    """Delete a pending sheet's record and crops: it was stored, refused or discarded."""
    folder = os.path.join(batch.path, "pending")
    for name in os.listdir(folder):
        if name.startswith(token):
            os.remove(os.path.join(folder, name))


def close_if_done(batch: Batch) -> bool:
    """Delete the batch's directory once every page is read and no sheet awaits review."""
    if batch.finished and not batch.pending():
        shutil.rmtree(batch.path, ignore_errors=True)
        return True
    return False


def sweep(older_than: float) -> int:
    """Delete batches untouched for ``older_than`` seconds, and stray partial writes; returns batches deleted."""
    removed, now = 0, time.time()
    for name in os.listdir(root()):
        path = os.path.join(root(), name)
        state = os.path.join(path, "state.json")
        stamp = os.path.getmtime(state) if os.path.exists(state) else os.path.getmtime(path)
        if now - stamp >= older_than:
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.remove(path)
            removed += 1
    return removed


def purge() -> int:
    """Delete every batch, pending sheets included; returns how many."""
    return sweep(-1.0)
