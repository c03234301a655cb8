"""Build a benchmark campaign: 272 units × the 6-item satisfaction questionnaire, 3 rater groups, N ballots.

    python -m bench.generate --db postgresql://postgres@127.0.0.1:5432/bench_1m --ballots 1000000
    python -m bench.generate --db sqlite:////tmp/ceping-bench/bench_100k.sqlite --ballots 100000

The database is emptied and rebuilt (tables from models.py, the built-in
questionnaires). Units differ in size and in how satisfied their raters are, so
some units need make-up and some are too small to judge, as in a real campaign.
Codes (one used code per ballot, plus 5% unused), ballots and answers are
bulk-loaded — COPY on PostgreSQL, executemany in large transactions on SQLite —
bypassing the ballot path, so the running tallies are then rebuilt from the
ballots with :func:`surveys.tallies.rebuild` (timed, and checked against a
recount). An organiser account ``bench`` / ``bench-password`` is created for the
page benchmarks.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: python bench/generate.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_PASSWORD, BENCH_USER, CAMPAIGN_NAME, engine_name, make_app, print_facts

N_UNITS = 272
N_COMMITTEES = 14
GROUPS = ["党员", "群众代表", "服务对象"]
GROUP_SHARES = [0.6, 0.25, 0.15]
UNUSED_SHARE = 0.05
COMMENT_SHARE = 0.03
COMMENTS = ["希望进一步加强作风建设。", "整改措施要落到实处。", "建议多听取群众意见。", "学习活动扎实有效。"]
FIRST_DAY = dt.date(2024, 5, 6)
CHUNK = 200_000  # rows per COPY write / executemany batch


def build_structure(app) -> dict:
    """Campaign, committees, units, groups, evaluations and the organiser account (ORM, small)."""
    from evaluation.services import create_user, get_or_create_groups
    from extensions import db
    from models import Campaign, Evaluation, EvaluationStatus, ItemKind, Unit, UnitKind
    from surveys.catalog import latest, load_catalog

    with app.app_context():
        db.drop_all()
        db.create_all()
        load_catalog()
        campaign = Campaign(name=CAMPAIGN_NAME)
        committees = [Unit(campaign=campaign, code=f"C{i:02d}", name=f"第{i + 1}党(工)委", kind=UnitKind.COMMITTEE,
                           members=0) for i in range(N_COMMITTEES)]
        units = [Unit(campaign=campaign, parent=committees[i % N_COMMITTEES], code=f"U{i:03d}",
                      name=f"基准单位{i + 1:03d}", kind=UnitKind.UNIT, members=0) for i in range(N_UNITS)]
        db.session.add_all([campaign, *committees, *units])
        groups = get_or_create_groups(campaign, GROUPS)
        db.session.flush()
        questionnaire = latest("satisfaction")
        questionnaire.frozen = True
        evaluations = [Evaluation(campaign=campaign, unit=u, questionnaire=questionnaire, rater_groups=groups,
                                  status=EvaluationStatus.OPEN) for u in units]
        db.session.add_all(evaluations)
        db.session.commit()
        create_user(BENCH_USER, BENCH_PASSWORD, "organiser")
        scale_items = [i for i in questionnaire.items if i.kind is ItemKind.SCALE]
        text_items = [i for i in questionnaire.items if i.kind is ItemKind.TEXT]
        return {
            "campaign_id": campaign.id,
            "evaluation_ids": [e.id for e in evaluations],
            "group_ids": [g.id for g in groups],
            "item_ids": [i.id for i in scale_items],
            # options in scale order: 满意, 比较满意, 基本满意, 不满意, 不了解
            "option_ids": [o.id for o in scale_items[0].scale.options],
            "text_item_id": text_items[0].id if text_items else None,
        }


def plan(n_ballots: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ballots per (evaluation, group) cell and each unit's option probabilities.

    Unit sizes follow a gamma distribution (a few big units, many small ones);
    each unit has its own share of 不满意, so the campaign has units to make up.
    """
    rng = np.random.default_rng(seed)
    unit_weight = rng.gamma(2.0, 1.0, N_UNITS)
    cell_weight = (unit_weight[:, None] * np.array(GROUP_SHARES)[None, :]).ravel()
    counts = rng.multinomial(n_ballots, cell_weight / cell_weight.sum()).reshape(N_UNITS, len(GROUPS))
    unsatisfied = rng.beta(1.5, 6.0, N_UNITS) * 0.9  # mostly 5–30%, a tail above 40%
    unknown = np.full(N_UNITS, 0.05)
    positive = 1.0 - unsatisfied - unknown
    probs = np.stack([positive * 0.45, positive * 0.35, positive * 0.20, unsatisfied, unknown], axis=1)
    return counts, probs


def generate_chunks(structure: dict, counts: np.ndarray, probs: np.ndarray, seed: int):
    """Yield ``(table, rows)`` chunks: code batches, codes, then ballots with their answers.

    Ballot ids and code hashes are random hex, like the real ones; they are
    sorted before loading so each table's primary-key index is filled in order
    (random keys inserted at random would make the bulk load several times
    slower), and which cell (evaluation × group) each row belongs to is shuffled
    instead. Answers are drawn per ballot from its unit's option probabilities.
    """
    rng = np.random.default_rng(seed + 1)
    evaluations, groups = structure["evaluation_ids"], structure["group_ids"]
    items, options = structure["item_ids"], np.array(structure["option_ids"])
    text_item = structure["text_item_id"]
    n_groups = len(groups)
    per_cell = counts.ravel()
    now = dt.datetime.now(dt.timezone.utc)
    unused = np.ceil(per_cell * UNUSED_SHARE).astype(int) + 1
    yield "code_batch", [(cell + 1, evaluations[cell // n_groups], groups[cell % n_groups],
                          int(per_cell[cell] + unused[cell]), now) for cell in range(len(per_cell))]

    # Codes: per cell, n used + some unused; hashes sorted, cells shuffled over them.
    code_cell = np.concatenate([np.repeat(np.arange(len(per_cell)), per_cell),
                                np.repeat(np.arange(len(per_cell)), unused)])
    code_used = np.concatenate([np.ones(per_cell.sum(), bool), np.zeros(unused.sum(), bool)])
    order = rng.permutation(len(code_cell))
    code_cell, code_used = code_cell[order], code_used[order]
    hashes = sorted(os.urandom(32).hex() for _ in range(len(code_cell)))
    for start in range(0, len(hashes), CHUNK):
        yield "ballot_code", [
            (hashes[k], evaluations[code_cell[k] // n_groups], groups[code_cell[k] % n_groups],
             int(code_cell[k]) + 1, "used" if code_used[k] else "unused")
            for k in range(start, min(start + CHUNK, len(hashes)))]
    del hashes

    # Ballots and answers, in ballot-id order.
    n = int(per_cell.sum())
    ballot_cell = rng.permutation(np.repeat(np.arange(len(per_cell)), per_cell))
    ballot_ids = sorted(os.urandom(16).hex() for _ in range(n))
    cumulative = probs.cumsum(axis=1)
    step = CHUNK // (len(items) + 1)
    for start in range(0, n, step):
        stop = min(start + step, n)
        cells = ballot_cell[start:stop]
        units = cells // n_groups
        draws = rng.random((stop - start, len(items)))
        chosen = options[(draws[:, :, None] > cumulative[units][:, None, :]).sum(axis=2).clip(0, len(options) - 1)]
        days = rng.integers(0, 3, stop - start)
        comment = rng.random(stop - start) < COMMENT_SHARE
        ballots, answers = [], []
        for k in range(stop - start):
            ballot_id, cell = ballot_ids[start + k], int(cells[k])
            ballots.append((ballot_id, evaluations[cell // n_groups], groups[cell % n_groups],
                            FIRST_DAY + dt.timedelta(days=int(days[k]))))
            row = chosen[k]
            answers.extend((ballot_id, item_id, 0, int(row[j]), None) for j, item_id in enumerate(items))
            if comment[k] and text_item is not None:
                answers.append((ballot_id, text_item, 0, None, COMMENTS[k % len(COMMENTS)]))
        yield "ballot", ballots
        yield "answer", answers


COLUMNS = {
    "code_batch": ["id", "evaluation_id", "rater_group_id", "count", "created_at"],
    "ballot_code": ["code_hash", "evaluation_id", "rater_group_id", "batch_id", "status"],
    "ballot": ["id", "evaluation_id", "rater_group_id", "submitted_on"],
    "answer": ["ballot_id", "item_id", "seq", "option_id", "text"],
}


def _tsv(value) -> str:
    if value is None:
        return "\\N"
    return str(value)


def load_postgresql(app, chunks) -> dict:
    """COPY everything in one transaction (FK triggers off: the generator keeps the rows consistent)."""
    from extensions import db

    counters = dict.fromkeys(COLUMNS, 0)
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            with conn.cursor() as cur:
                cur.execute("SET session_replication_role = replica")
                for table, rows in chunks:
                    with cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                        copy.write("\n".join("\t".join(_tsv(v) for v in r) for r in rows) + "\n")
                    counters[table] += len(rows)
                cur.execute("SELECT setval(pg_get_serial_sequence('code_batch', 'id'), "
                            "(SELECT max(id) FROM code_batch))")
                cur.execute("SET session_replication_role = DEFAULT")
            conn.commit()
        finally:
            raw.close()
    return counters


def load_sqlite(app, chunks) -> dict:
    """executemany in large transactions, foreign keys and fsync off for the load only."""
    from extensions import db

    counters = dict.fromkeys(COLUMNS, 0)
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            conn.commit()
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            for table, rows in chunks:
                marks = ", ".join("?" * len(COLUMNS[table]))
                conn.executemany(f"INSERT INTO {table} ({', '.join(COLUMNS[table])}) VALUES ({marks})",
                                 [tuple(v.isoformat(sep=" ") if isinstance(v, dt.datetime) else
                                        v.isoformat() if isinstance(v, dt.date) else v for v in r) for r in rows])
                conn.commit()
                counters[table] += len(rows)
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        finally:
            raw.close()
    return counters


def rebuild_tallies(app) -> float:
    """surveys.tallies.rebuild over the whole database in one transaction; returns seconds."""
    from extensions import db
    from surveys import tallies

    with app.app_context():
        start = time.perf_counter()
        tallies.rebuild(db.session)
        db.session.commit()
        return time.perf_counter() - start


def analyse(app, url: str) -> None:
    """Planner statistics after the load (VACUUM ANALYZE on PostgreSQL, ANALYZE on SQLite)."""
    from extensions import db

    with app.app_context():
        if engine_name(url) == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")


def database_size(app, url: str) -> str:
    from extensions import db

    with app.app_context():
        if engine_name(url) == "postgresql":
            return db.session.scalar(db.text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        path = db.engine.url.database
        return f"{os.path.getsize(path) / 2**20:,.0f} MB"


def generate(url: str, n_ballots: int, seed: int = 5, check: bool = True) -> dict:
    """Build the campaign with ``n_ballots`` ballots in ``url``; return the timings."""
    app = make_app(url)
    timings = {"ballots": n_ballots, "engine": engine_name(url)}
    start = time.perf_counter()
    structure = build_structure(app)
    timings["schema_s"] = time.perf_counter() - start
    counts, probs = plan(n_ballots, seed)
    start = time.perf_counter()
    loader = load_postgresql if engine_name(url) == "postgresql" else load_sqlite
    loaded = loader(app, generate_chunks(structure, counts, probs, seed))
    timings.update(codes=loaded["ballot_code"], answers=loaded["answer"])
    assert loaded["ballot"] == n_ballots, loaded
    timings["load_s"] = time.perf_counter() - start
    start = time.perf_counter()
    analyse(app, url)
    timings["analyse_s"] = time.perf_counter() - start
    timings["rebuild_s"] = rebuild_tallies(app)
    analyse(app, url)
    if check:
        from extensions import db
        from surveys.tallies import differences

        with app.app_context():
            start = time.perf_counter()
            timings["differences"] = len(differences(db.session))
            timings["recount_check_s"] = time.perf_counter() - start
    timings["size"] = database_size(app, url)
    timings["campaign_id"] = structure["campaign_id"]
    with app.app_context():
        from extensions import db

        db.engine.dispose()
    return timings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="postgresql://… or sqlite:////path/file.sqlite (emptied!)")
    parser.add_argument("--ballots", type=int, required=True)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-check", action="store_true", help="skip the recount comparison after the rebuild")
    args = parser.parse_args(argv)
    print_facts(f"generate {args.ballots:,} ballots into {engine_name(args.db)}")
    t = generate(args.db, args.ballots, args.seed, check=not args.no_check)
    print(f"  codes {t['codes']:,}  ballots {t['ballots']:,}  answers {t['answers']:,}  size {t['size']}")
    print(f"  schema {t['schema_s']:.1f} s  bulk load {t['load_s']:.1f} s  analyse {t['analyse_s']:.1f} s  "
          f"tallies.rebuild {t['rebuild_s']:.1f} s")
    if "differences" in t:
        print(f"  recount check: {t['differences']} differences ({t['recount_check_s']:.1f} s)")


if __name__ == "__main__":
    main()
