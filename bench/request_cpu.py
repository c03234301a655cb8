"""Server CPU per request of the rater's two requests and of the trivial page, one client, no concurrency.

    python -m bench.request_cpu --db sqlite:////tmp/ceping-bench/cpu.sqlite --n 400

Where the submission benchmark (bench/submission.py) gives a ratio of two throughputs on a
machine the load generator shares, this isolates what each request costs the server: the
CPU time (user + system, from /proc) of gunicorn's single worker (``--workers 1``: one
process) across ``--n`` sequential GETs of ``/thanks``, then ``--n`` questionnaire opens
(the scripted code post), then ``--n`` ballot posts. Linux only.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import requests

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import TOKEN, Server, print_facts
from bench.submission import setup


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="database to empty and use")
    parser.add_argument("--n", type=int, default=400)
    args = parser.parse_args(argv)
    print_facts("request CPU")
    jobs, _ = setup(args.db, args.n, "campaign", 0, 11)
    with Server(args.db, workers=1) as server:
        pids, base = server.worker_pids(), server.base
        marks = [cpu_seconds(pids)]
        for _ in range(args.n):
            requests.get(base + "/thanks", timeout=60)
        marks.append(cpu_seconds(pids))
        opened = []
        for code, _data in jobs:
            session = requests.Session()
            page = session.post(f"{base}/v", data={"code": code, "scripted": "1"}, timeout=60)
            opened.append((session, TOKEN.search(page.text).group(1)))
        marks.append(cpu_seconds(pids))
        for (session, token), (code, data) in zip(opened, jobs):
            response = session.post(f"{base}/v", data={**data, "code": code, "ballot": "1", "csrf_token": token},
                                    allow_redirects=False, timeout=60)
            assert response.status_code == 303, response.status_code
        marks.append(cpu_seconds(pids))
    per = [(b - a) / args.n * 1000 for a, b in zip(marks, marks[1:])]
    print(f"server CPU per request (ms): trivial {per[0]:.2f}, questionnaire open {per[1]:.2f}, "
          f"ballot post {per[2]:.2f}; a ballot {per[1] + per[2]:.2f} against two trivial pages {2 * per[0]:.2f}")


if __name__ == "__main__":
    main()
