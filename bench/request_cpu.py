"""Server CPU per request of the rater's two requests and of the trivial page, one client, no concurrency.

    python -m bench.request_cpu --db sqlite:////tmp/ceping-bench/cpu.sqlite --n 1200
    python -m bench.request_cpu --db postgresql://postgres@127.0.0.1:5432/bench_submit --n 1200

Where the submission benchmark (bench/submission.py) gives a ratio of two throughputs on a
machine the load generator shares, this isolates what each request costs the server: the
CPU time of gunicorn's single worker (``--workers 1``, kept for the whole run with
``--max-requests 0``) for GETs of ``/thanks``, questionnaire opens (the scripted code post)
and ballot posts, ``--n`` of each. Linux only.

* CPU time is the scheduler's own account (``/proc/<pid>/task/*/schedstat``, nanoseconds,
  every thread: gunicorn's gthread worker serves in a pool thread), not the 10 ms ticks of
  ``/proc/<pid>/stat``, which sample: 600 requests of ~1 ms are only ~60 ticks, ±13%.
* The three kinds run in ``--rounds`` interleaved rounds, so a machine that speeds up or
  slows down during the run (these VMs do) weighs on all three alike; the ratio of the
  medians of the rounds is reported with the rounds' spread.
* On PostgreSQL the database server's processes (its backends, WAL writer and checkpointer,
  on the same cores) are counted too, in a line of their own: a statement saved costs both
  sides, and the submission benchmark pays for both.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import requests

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import TOKEN, Server, print_facts
from bench.submission import setup

KINDS = ("trivial", "open", "post")


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds these processes' threads have run so far (the scheduler's account); ended ones count 0."""
    total = 0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:  # the process ended (a backend closes with its connection)
            continue
        for task in tasks:
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total / 1e9


def database_pids(url: str) -> list[int]:
    """The local PostgreSQL server's processes (every ``postgres`` process), or none for SQLite."""
    if not url.startswith("postgresql"):
        return []
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:  # gone meanwhile
                continue
    return pids


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="database to empty and use")
    parser.add_argument("--n", type=int, default=1200, help="requests of each kind")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    print_facts("request CPU")
    jobs, _ = setup(args.db, args.n, "campaign", 0, 11)
    per_round = args.n // args.rounds
    # per kind, one (app, database) CPU-seconds pair per round
    spent: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    with Server(args.db, workers=1, args=("--max-requests", "0")) as server:
        pids, base = server.worker_pids(), server.base

        def mark() -> tuple[float, float]:
            # Backends come and go with connections: list them afresh at every mark.
            return cpu_seconds(pids), cpu_seconds(database_pids(args.db))

        def timed(kind: str, run) -> None:
            start = mark()
            run()
            end = mark()
            spent[kind].append((end[0] - start[0], end[1] - start[1]))

        for r in range(args.rounds):
            chunk = jobs[r * per_round:(r + 1) * per_round]
            opened = []

            def trivial() -> None:
                for _ in range(per_round):
                    requests.get(base + "/thanks", timeout=60)

            def open_all() -> None:
                for code, _data in chunk:
                    session = requests.Session()
                    page = session.post(f"{base}/v", data={"code": code, "scripted": "1"}, timeout=60)
                    opened.append((session, TOKEN.search(page.text).group(1)))

            def post_all() -> None:
                for (session, token), (code, data) in zip(opened, chunk):
                    response = session.post(f"{base}/v", data={**data, "code": code, "ballot": "1",
                                                               "csrf_token": token},
                                            allow_redirects=False, timeout=60)
                    assert response.status_code == 303, response.status_code

            timed("trivial", trivial)
            timed("open", open_all)
            timed("post", post_all)
            for session, _token in opened:
                session.close()
    report(spent, per_round, args.db.startswith("postgresql"))


def report(spent: dict, per_round: int, with_database: bool) -> None:
    """Per-request milliseconds (median of the rounds) and the ratio a ballot ÷ two trivial pages."""
    lines = [("app worker", 0)] + ([("app worker + PostgreSQL", 1)] if with_database else [])
    for label, both in lines:
        def ms(kind: str, r: int) -> float:
            app, database = spent[kind][r]
            return (app + (database if both else 0)) / per_round * 1000

        rounds = range(len(spent["trivial"]))
        ratios = [2 * ms("trivial", r) / (ms("open", r) + ms("post", r)) for r in rounds]
        med = {kind: statistics.median(ms(kind, r) for r in rounds) for kind in KINDS}
        print(f"{label}, CPU ms per request (median of {len(ratios)} rounds of {per_round}): "
              f"trivial {med['trivial']:.2f}, questionnaire open {med['open']:.2f}, ballot post {med['post']:.2f}; "
              f"a ballot {med['open'] + med['post']:.2f} against two trivial pages {2 * med['trivial']:.2f}: "
              f"ratio {2 * med['trivial'] / (med['open'] + med['post']):.2f} "
              f"(rounds {min(ratios):.2f}–{max(ratios):.2f})")


if __name__ == "__main__":
    main()
