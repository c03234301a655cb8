"""Exports of a big campaign: time and peak memory of the worker that serves them.

    python -m bench.exports --db postgresql://postgres@127.0.0.1:5432/bench_1m

For each download — raw ballots CSV (one row per answer), raw ballots XLSX (one
row per ballot), and the results CSV and XLSX — a fresh gunicorn with
``gunicorn.conf.py`` and ONE worker is started, so the worker's peak resident
memory (``VmHWM`` in /proc/<pid>/status) belongs to that export alone. The
client signs in as an organiser, streams the download to nowhere, and checks
it: CSV lines = answers + header; XLSX a valid ZIP whose sheets hold one row per
ballot (+ a header each). ``--timeout`` is gunicorn's worker timeout for the run
(default 60 s as in gunicorn.conf.py: a sync worker silent for longer is killed,
even mid-download).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python bench/exports.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CAMPAIGN_NAME, Server, engine_name, make_app, print_facts, proc_status, sign_in

EXPORTS = ["ballots.csv", "ballots.xlsx", "results.csv", "results.xlsx"]


def _facts(url: str) -> dict:
    from extensions import db
    from models import Answer, Ballot, Campaign

    app = make_app(url)
    with app.app_context():
        campaign_id = db.session.scalar(db.select(Campaign.id).where(Campaign.name == CAMPAIGN_NAME))
        ballots = db.session.scalar(db.select(db.func.count()).select_from(Ballot))
        answers = db.session.scalar(db.select(db.func.count()).select_from(Answer))
        db.engine.dispose()
    return {"campaign_id": campaign_id, "ballots": ballots, "answers": answers}


def _count_xlsx_rows(path: str) -> tuple[int, int]:
    """(sheets, rows) of an .xlsx file, read as a stream (no workbook in memory)."""
    sheets = rows = 0
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        for name in archive.namelist():
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
                sheets += 1
                tail = b""
                with archive.open(name) as member:
                    while chunk := member.read(1 << 20):
                        data = tail + chunk
                        rows += data.count(b"<row ")
                        tail = data[-4:]
                        rows -= tail.count(b"<row ")  # counted again with the next chunk
                rows += tail.count(b"<row ")
    return sheets, rows


def measure_one(url: str, facts: dict, name: str, timeout: int) -> dict:
    path = f"/admin/campaigns/{facts['campaign_id']}/{name}"
    with Server(url, workers=1, timeout=timeout) as server:
        session = sign_in(server.base)
        session.get(server.base + "/admin/", timeout=60)
        (pid,) = server.worker_pids()
        before_rss, before_hwm = proc_status(pid, "VmRSS"), proc_status(pid, "VmHWM")
        # VmHWM is the kernel's own peak; the sampler also catches a worker killed mid-export.
        sampled, done = [before_hwm], threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                sampled.append(max(proc_status(pid, "VmHWM"), proc_status(pid, "VmRSS")))

        sampler = threading.Thread(target=sample)
        sampler.start()
        size, first_byte, lines = 0, None, 0
        keep = name.endswith(".xlsx")
        target = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) if keep else None
        start = time.perf_counter()
        error = None
        try:
            with session.get(server.base + path, stream=True, timeout=(10, timeout + 60)) as response:
                status = response.status_code
                for chunk in response.iter_content(1 << 20):
                    if first_byte is None:
                        first_byte = time.perf_counter() - start
                    size += len(chunk)
                    if keep:
                        target.write(chunk)
                    else:
                        lines += chunk.count(b"\r\n")
        except Exception as exc:  # noqa: BLE001 - a killed worker ends the download early
            error, status = type(exc).__name__, "cut"
        elapsed = time.perf_counter() - start
        after_hwm = max(proc_status(pid, "VmHWM"), *sampled)
        done.set()
        sampler.join()
        alive = pid in server.worker_pids()
        log = server.read_log()
    out = {"name": name, "status": status, "seconds": elapsed, "first_byte_s": first_byte or float("nan"),
           "mb": size / 2**20, "rss_before_mb": before_rss / 1024, "peak_rss_mb": after_hwm / 1024,
           "worker_survived": alive, "timeout_in_log": "WORKER TIMEOUT" in log, "error": error}
    if keep:
        target.close()
        try:
            out["sheets"], out["rows"] = _count_xlsx_rows(target.name)
        except (zipfile.BadZipFile, zlib.error, AssertionError, EOFError) as exc:
            out["sheets"], out["rows"] = 0, f"invalid file ({type(exc).__name__})"
        os.unlink(target.name)
    else:
        out["rows"] = lines
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="a database made by bench.generate")
    parser.add_argument("--timeout", type=int, default=60, help="gunicorn worker timeout (s) for this run")
    parser.add_argument("--only", action="append", choices=EXPORTS, help="measure only these downloads")
    args = parser.parse_args(argv)
    print_facts(f"exports ({engine_name(args.db)}, gunicorn timeout {args.timeout} s)")
    facts = _facts(args.db)
    print(f"  campaign {facts['campaign_id']}: {facts['ballots']:,} ballots, {facts['answers']:,} answers")
    rows = []
    for name in args.only or EXPORTS:
        rows.append(measure_one(args.db, facts, name, args.timeout))
        r = rows[-1]
        print(f"  done {name}: {r['seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    print()
    print("| download | HTTP | time s | first byte s | size MB | rows | worker RSS before MB | worker peak RSS MB "
          "| worker survived |")
    print("|---|---|--:|--:|--:|--:|--:|--:|---|")
    for r in rows:
        rows_text = f"{r['rows']:,}" if isinstance(r["rows"], int) else r["rows"]
        if "sheets" in r:
            rows_text += f" in {r['sheets']} sheet(s)"
        print(f"| {r['name']} | {r['status']} | {r['seconds']:.1f} | {r['first_byte_s']:.2f} | {r['mb']:,.1f} "
              f"| {rows_text} | {r['rss_before_mb']:.0f} | {r['peak_rss_mb']:.0f} "
              f"| {'yes' if r['worker_survived'] and not r['timeout_in_log'] else 'NO: WORKER TIMEOUT'} |")
    print(f"\n  expected rows: ballots.csv {facts['answers'] + 1:,} lines (answers + header); "
          f"ballots.xlsx {facts['ballots']:,} + one header per sheet")
    print_facts("after the run")


if __name__ == "__main__":
    main()
