"""The ballot box's own costs, in process: counting a batch of k and closing a large evaluation.

    python -m bench.box --db sqlite:////tmp/ceping-bench/box.sqlite \\
                        --db postgresql://postgres@127.0.0.1:5432/bench_box

For each ``--db`` (emptied and rebuilt with bench.generate's campaign structure):

1. *voting*: ``--ballots`` ballots of one evaluation × group go through
   ``surveys.ballots.submit_ballot`` (k = min_ballots = 8): every ballot seals,
   and every 8th brings the box to 16 and counts a batch of 8 (one decrypt,
   shuffle, two multi-row INSERTs, tally upsert, DELETE, and on SQLite a
   TRUNCATE checkpoint). Each count is timed: p50 / p95 ms per batch of 8, and
   the mean ms per ballot including its share of counting;
2. *close*: ``surveys.box.close`` counts the last batch and rewrites every
   ballot, answer and tally row of the evaluation in random order: the time for
   the whole close of an evaluation holding ``--ballots`` ballots.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import engine_name, make_app, percentile, print_facts


def measure(url: str, n_ballots: int, seed: int) -> dict:
    from bench.generate import GROUPS, build_structure
    from evaluation.services import issue_codes
    from extensions import db
    from models import Ballot, Evaluation, SealedBallot
    from surveys import ballots, box
    from surveys.codes import hash_code

    app = make_app(url)
    structure = build_structure(app)
    rng = random.Random(seed)
    evaluation_id, group_id = structure["evaluation_ids"][0], structure["group_ids"][0]
    with app.app_context():
        db.session.get(Evaluation, evaluation_id).min_ballots = 8
        db.session.commit()
        codes = issue_codes(evaluation_id, GROUPS[0], n_ballots)
        key = app.config["CODE_KEY"]
        items, options = structure["item_ids"], structure["option_ids"]
        real_count = box.count
        batches = []

        def timed_count(*args, **kwargs):
            began = time.perf_counter()
            done = real_count(*args, **kwargs)
            if done.counted:
                batches.append(((time.perf_counter() - began) * 1000, done.counted))
            return done

        box.count = timed_count
        start = time.perf_counter()
        try:
            for code in codes:
                answers = [(item, 0, rng.choice(options), None) for item in items]
                assert ballots.submit_ballot(hash_code(code, key), evaluation_id, group_id, answers) \
                    is ballots.SubmitResult.STORED
        finally:
            box.count = real_count
        seal_s = time.perf_counter() - start
        start = time.perf_counter()
        closed = box.close([evaluation_id])
        close_s = time.perf_counter() - start
        counted = db.session.scalar(db.select(db.func.count()).select_from(Ballot))
        left = db.session.scalar(db.select(db.func.count()).select_from(SealedBallot))
        db.engine.dispose()
    return {"engine": engine_name(url), "ballots": n_ballots, "seal_ms": seal_s * 1000 / n_ballots,
            "batches": batches, "close_s": close_s, "closed": closed[evaluation_id], "counted": counted,
            "left": left}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", action="append", required=True, help="database to empty and use (repeat)")
    parser.add_argument("--ballots", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    print_facts("box")
    rows = [measure(url, args.ballots, args.seed) for url in args.db]
    print("\n| engine | ballots | ms per ballot (seal + share of counting) | counts | ballots per count "
          "| count p50 / p95 ms | close s (last batch + scrub) | counted = ballots |")
    print("|---|--:|--:|--:|--:|--:|--:|---|")
    for r in rows:
        times = [t for t, _n in r["batches"]]
        sizes = sorted({n for _t, n in r["batches"]})
        print(f"| {r['engine']} | {r['ballots']:,} | {r['seal_ms']:.2f} | {len(times)} | {sizes} "
              f"| {percentile(times, 50):.1f} / {percentile(times, 95):.1f} | {r['close_s']:.2f} "
              f"| {r['counted']:,} = {r['ballots']:,} {'✓' if r['counted'] == r['ballots'] and not r['left'] else '✗'} |")
    print_facts("after the run")


if __name__ == "__main__":
    main()
