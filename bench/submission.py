"""Ballot submission over real HTTP, against a trivial page of the same server as the baseline.

    python -m bench.submission --db sqlite:////tmp/bench_submit.sqlite \\
                               --db postgresql://postgres@127.0.0.1:5432/bench_submit

For each ``--db`` (emptied and rebuilt): a campaign of 272 units with open
satisfaction evaluations for 3 rater groups; ``--ballots`` codes issued with
``evaluation.services.issue_codes``, spread over the evaluations × groups the way
bench.generate spreads ballots (big and small units). Then gunicorn starts with
``gunicorn.conf.py`` (2 workers, limits off) and ``--clients`` threads run, in
``--rounds`` interleaved rounds (each round 1/R of the work, the order of the two
kinds swapped every other round):

* *trivial*: each iteration is two GETs of ``/thanks`` (the cheapest page: a
  template, no database) — as many iterations as there are ballots in all;
* *submission*: each virtual rater opens its questionnaire (POST of the code to
  ``/v`` marked as sent by a browser running scripts, as a slip's link does; takes
  the CSRF token) and posts a complete ballot (POST, expects 303) with its own code
  in the body.

The machines these figures come from change speed by tens of percent within a
minute (bench/README.md, section 2); interleaving lets that drift weigh on both
kinds alike, where one baseline run before and one after the ballots gave ratios
that moved from 0.35 to 0.48 between runs of the same code. Throughputs are the
totals over all rounds (work ÷ time); the ratio's spread over the rounds is
printed beside it.

Reported: iterations/s (ballots/s), latency p50/p95 per iteration and per
request, errors (anything but 200/303, or an exception), and stored ballots
== accepted responses. ``--scenario one-group --prefill K`` sends every code to
one evaluation × group that already has K used codes (the blur that rewrote
all of them for each ballot is gone: a redeem writes two rows whatever K is).
"""
from __future__ import annotations

import argparse
import queue
import random
import sys
import threading
import time
from pathlib import Path

import requests

if __package__ in (None, ""):  # run as a file: python bench/submission.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import TOKEN, Server, engine_name, make_app, percentile, print_facts

TRIVIAL = "/thanks"


def setup(url: str, n_codes: int, scenario: str, prefill: int, seed: int) -> tuple[list[tuple[str, dict]], int]:
    """Fresh campaign and ``n_codes`` plain codes with the form data each rater will post."""
    from bench.generate import GROUPS, build_structure, plan
    from evaluation.services import issue_codes
    from extensions import db
    from models import BallotCode, CodeBatch, CodeStatus

    app = make_app(url)
    structure = build_structure(app)
    rng = random.Random(seed)
    with app.app_context():
        if scenario == "one-group":
            cells = {(structure["evaluation_ids"][0], GROUPS[0]): n_codes}
        else:
            counts, _ = plan(n_codes, seed)
            cells = {(structure["evaluation_ids"][u], GROUPS[g]): int(counts[u, g])
                     for u in range(counts.shape[0]) for g in range(counts.shape[1]) if counts[u, g]}
        jobs = []
        for (evaluation_id, group), k in cells.items():
            while k > 0:
                batch = min(k, 5000)
                jobs += issue_codes(evaluation_id, group, batch)
                k -= batch
        if prefill:
            evaluation_id, group_id = structure["evaluation_ids"][0], structure["group_ids"][0]
            batch = CodeBatch(evaluation_id=evaluation_id, rater_group_id=group_id, count=prefill)
            db.session.add(batch)
            db.session.flush()
            db.session.execute(db.insert(BallotCode), [
                {"code_hash": f"{rng.getrandbits(256):064x}", "evaluation_id": evaluation_id,
                 "rater_group_id": group_id, "batch_id": batch.id, "status": CodeStatus.USED}
                for _ in range(prefill)])
            db.session.commit()
        db.engine.dispose()
    rng.shuffle(jobs)
    items, options = structure["item_ids"], structure["option_ids"]
    work = []
    for code in jobs:
        data = {f"item_{item}": str(rng.choice(options)) for item in items}
        if structure["text_item_id"] and rng.random() < 0.03:
            data[f"item_{structure['text_item_id']}"] = "希望进一步加强作风建设。"
        work.append((code, data))
    return work, structure["campaign_id"]


def run_load(n_clients: int, jobs: list, step) -> dict:
    """Run ``step(job)`` for every job from ``n_clients`` threads; collect latencies and outcomes."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    lock = threading.Lock()
    iterations, requests_ms, outcomes = [], [], {}

    def client() -> None:
        while True:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            start = time.perf_counter()
            try:
                outcome, request_times = step(job)
            except Exception as error:  # noqa: BLE001 - counted as an error
                outcome, request_times = f"exception {type(error).__name__}", []
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                iterations.append(elapsed)
                requests_ms.extend(request_times)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(n_clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return summary([{"n": len(jobs), "wall_s": wall, "outcomes": outcomes, "iterations": iterations,
                     "requests": requests_ms}])


def summary(runs: list[dict]) -> dict:
    """Several runs of one kind as one: work ÷ time, outcomes added up, percentiles over every latency."""
    iterations = [ms for run in runs for ms in run["iterations"]]
    requests_ms = [ms for run in runs for ms in run["requests"]]
    outcomes: dict = {}
    for run in runs:
        for outcome, count in run["outcomes"].items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    n, wall = sum(run["n"] for run in runs), sum(run["wall_s"] for run in runs)
    return {"n": n, "wall_s": wall, "per_s": n / wall, "outcomes": outcomes, "iterations": iterations,
            "requests": requests_ms, "rounds": [run["n"] / run["wall_s"] for run in runs],
            "p50": percentile(iterations, 50), "p95": percentile(iterations, 95),
            "req_p50": percentile(requests_ms, 50), "req_p95": percentile(requests_ms, 95)}


def trivial_step(base: str):
    def step(_job):
        times = []
        for _ in range(2):
            start = time.perf_counter()
            response = requests.get(base + TRIVIAL, timeout=120)
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                return f"trivial {response.status_code}", times
        return "ok", times
    return step


def ballot_step(base: str):
    def step(job):
        # Each rater's connection is closed when its ballot is done, not left to the garbage collector:
        # idle keep-alive connections left with gunicorn's workers must not weigh on the baseline run
        # that follows the ballots.
        with requests.Session() as session:
            return _vote(base, session, job)
    return step


def _vote(base: str, session: requests.Session, job) -> tuple[str, list[float]]:
    """One rater: open the questionnaire with the code, then post the ballot; (outcome, request times)."""
    code, data = job
    start = time.perf_counter()
    # as code-link.js posts it: marked "scripted", so the questionnaire answers the post itself (a form
    # without the mark gets 303 and one more request, the GET that requests then follows)
    page = session.post(f"{base}/v", data={"code": code, "scripted": "1"}, timeout=120)
    get_ms = (time.perf_counter() - start) * 1000
    if page.status_code != 200:
        return f"GET {page.status_code}", [get_ms]
    token = TOKEN.search(page.text).group(1)
    start = time.perf_counter()
    response = session.post(f"{base}/v", data={**data, "code": code, "ballot": "1", "csrf_token": token},
                            allow_redirects=False, timeout=120)
    post_ms = (time.perf_counter() - start) * 1000
    return ("ok" if response.status_code == 303 else f"POST {response.status_code}"), [get_ms, post_ms]


def stored_ballots(url: str) -> int:
    """Ballots stored (sealed in the box or counted), after checking the tallies equal a recount."""
    from extensions import db
    from models import Ballot, SealedBallot
    from surveys.tallies import differences

    app = make_app(url)
    with app.app_context():
        n = sum(db.session.scalar(db.select(db.func.count()).select_from(m)) for m in (Ballot, SealedBallot))
        diffs = differences(db.session)
        db.engine.dispose()
    assert diffs == [], diffs[:5]
    return n


def measure(url: str, args) -> dict:
    jobs, _ = setup(url, args.ballots, args.scenario, args.prefill, args.seed)
    size = -(-len(jobs) // args.rounds)
    trivial, ballots = [], []
    with Server(url, workers=args.workers) as server:
        for r, start in enumerate(range(0, len(jobs), size)):
            chunk = jobs[start:start + size]
            kinds = [(trivial, range(len(chunk)), trivial_step(server.base)),
                     (ballots, chunk, ballot_step(server.base))]
            for runs, work, step in (kinds if r % 2 == 0 else kinds[::-1]):
                runs.append(run_load(args.clients, work, step))
        log = server.read_log()
    trivial_all, ballots_all = summary(trivial), summary(ballots)
    accepted = ballots_all["outcomes"].get("ok", 0)
    stored = stored_ballots(url)
    errors = sum(v for r in (trivial_all, ballots_all) for k, v in r["outcomes"].items() if k != "ok")
    return {"engine": engine_name(url), "scenario": args.scenario + (f" +{args.prefill} used" if args.prefill else ""),
            "trivial": trivial_all, "ballots": ballots_all, "accepted": accepted, "stored": stored,
            "round_ratios": [b["per_s"] / t["per_s"] for t, b in zip(trivial, ballots)],
            "errors": errors, "log_errors": log.count("Traceback") + log.count("WORKER TIMEOUT")}


def report(rows: list[dict], clients: int) -> None:
    print()
    print("| engine | scenario | ballots | ballots/s | rater p50 / p95 ms (open+post) | request p50 / p95 ms "
          "| trivial iterations/s (rounds) | trivial request p50 / p95 ms | ratio (rounds) | errors "
          "| stored = accepted |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    for r in rows:
        b, t, ratios = r["ballots"], r["trivial"], r["round_ratios"]
        print(f"| {r['engine']} | {r['scenario']} | {b['n']:,} | {b['per_s']:.1f} | {b['p50']:.0f} / {b['p95']:.0f} "
              f"| {b['req_p50']:.0f} / {b['req_p95']:.0f} | {t['per_s']:.1f} ({min(t['rounds']):.0f}–{max(t['rounds']):.0f}) "
              f"| {t['req_p50']:.0f} / {t['req_p95']:.0f} | **{b['per_s'] / t['per_s']:.2f}** "
              f"({min(ratios):.2f}–{max(ratios):.2f}) "
              f"| {r['errors']} | {r['stored']:,} = {r['accepted']:,} {'✓' if r['stored'] == r['accepted'] else '✗'} |")
    print(f"\n{clients} concurrent clients; each trivial iteration is 2 GETs of {TRIVIAL}, each ballot an open "
          f"(scripted code post) and a ballot post; {len(rows[0]['round_ratios'])} interleaved rounds.")
    for r in rows:
        print(f"  {r['engine']}: outcomes {r['ballots']['outcomes']}, server log tracebacks/timeouts {r['log_errors']}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", action="append", required=True, help="database to empty and use (repeat)")
    parser.add_argument("--ballots", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds of trivial pages and ballots")
    parser.add_argument("--scenario", choices=["campaign", "one-group"], default="campaign")
    parser.add_argument("--prefill", type=int, default=0, help="used codes already in the hot group (one-group)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    print_facts("submission")
    rows = []
    for url in args.db:
        rows.append(measure(url, args))
        print(f"  done {url}: {rows[-1]['ballots']['per_s']:.1f} ballots/s", flush=True)
    report(rows, args.clients)
    print_facts("after the run")


if __name__ == "__main__":
    main()
