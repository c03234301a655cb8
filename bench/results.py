"""Results at scale: the dashboard's computation and the overview page against DuckDB and a trivial page.

    python -m bench.results --db postgresql://postgres@127.0.0.1:5432/bench_10k \\
                            --db postgresql://postgres@127.0.0.1:5432/bench_100k \\
                            --db postgresql://postgres@127.0.0.1:5432/bench_1m

Each ``--db`` holds a campaign made by ``bench.generate``. For each, in one run:

- *results*: ``evaluation.results.frames.load_frames`` + ``analysis.unit_results`` +
  ``analysis.item_results`` for the campaign (what the dashboard computes);
- *overview()*: ``evaluation.results.dashboards.campaign_overview`` (adds turnout, the
  committee roll-up and the figures);
- *cache hit*: ``evaluation.results.overview_cache.cached_overview`` once the cache holds
  the overview (reading the campaign's data version and the stored overview);
- *recount*: the same counts grouped from the stored answers by the database
  itself (``surveys.tallies.recount_query``) — what results would cost without
  the running tallies;
- *DuckDB*: ``GROUP BY evaluation, group, item, option`` over the same answers
  (joined with their ballots and loaded into an in-memory DuckDB table
  beforehand; only the GROUP BY is timed) — the baseline engine;
- *overview page* and *trivial page* (``/thanks``): sequential GETs through
  gunicorn (2 workers, ``gunicorn.conf.py``), signed in as an organiser.

Medians of several runs, in milliseconds.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python bench/results.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CAMPAIGN_NAME, Server, engine_name, fmt_ms, make_app, print_facts, sign_in, timed

KEY = "satisfaction"


def _campaign_id(app) -> int:
    from extensions import db
    from models import Campaign

    with app.app_context():
        return db.session.scalar(db.select(Campaign.id).where(Campaign.name == CAMPAIGN_NAME))


def in_process(app, campaign_id: int, repeat: int) -> dict:
    """Time the dashboard computation, campaign_overview and the database's own recount."""
    import analysis
    from evaluation.results.dashboards import campaign_overview
    from evaluation.results.overview_cache import cached_overview
    from evaluation.results.frames import campaign_evaluation_ids, load_frames
    from extensions import db
    from surveys.tallies import recount_query

    out = {}
    with app.app_context():
        ids = campaign_evaluation_ids(campaign_id, KEY)

        def results():
            frames = load_frames(ids, per_option=False)
            # As campaign_overview does: the item rates once, the unit results from them.
            analysis.unit_results(*frames.args(), per_item=analysis.item_results(*frames.args()))
            db.session.remove()

        def overview():
            campaign_overview(campaign_id, KEY)
            db.session.remove()

        def recount():
            db.session.execute(recount_query(ids)).all()
            db.session.remove()

        frames = load_frames(ids)
        out["cells"] = len(frames.counts)
        out["ballots"] = int(frames.ballots["n_ballots"].sum())
        out["makeup"] = int(analysis.unit_results(*frames.args())["needs_makeup"].sum())
        out["results"] = timed(results, repeat)
        with app.test_request_context():
            def overview_memo():
                cached_overview(campaign_id, KEY)
                db.session.remove()

            overview_memo()  # fills the memo; then each call costs the version key and a memo read
            out["overview_memo"] = timed(overview_memo, repeat)
        out["overview_fn"] = timed(overview, repeat)
        out["recount"] = timed(recount, max(3, repeat // 2))
        db.session.remove()
    return out


def export_answers(app, url: str, path: str) -> int:
    """Write (evaluation_id, rater_group_id, item_id, option_id) of every chosen option to a CSV file."""
    from extensions import db

    sql = ("SELECT b.evaluation_id, b.rater_group_id, a.item_id, a.option_id FROM answer a "
           "JOIN ballot b ON b.id = a.ballot_id WHERE a.option_id IS NOT NULL")
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            if engine_name(url) == "postgresql":
                with conn.cursor() as cur, open(path, "wb") as f:
                    with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
                        for data in copy:
                            f.write(data)
            else:
                with open(path, "w", newline="") as f:
                    csv.writer(f).writerows(conn.execute(sql))
        finally:
            raw.close()
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def duckdb_group_by(path: str, repeat: int) -> dict:
    """Load the exported answers into DuckDB (untimed), then time the GROUP BY, in memory and on Parquet."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE TABLE answers AS SELECT * FROM read_csv('{path}', header=false, columns="
                "{'evaluation_id': 'INTEGER', 'rater_group_id': 'INTEGER', 'item_id': 'INTEGER', "
                "'option_id': 'INTEGER'})")
    parquet = path + ".parquet"
    con.execute(f"COPY answers TO '{parquet}' (FORMAT parquet)")
    group_by = ("SELECT evaluation_id, rater_group_id, item_id, option_id, count(*) AS n FROM {} "
                "GROUP BY evaluation_id, rater_group_id, item_id, option_id")
    out = {
        "rows": con.execute("SELECT count(*) FROM answers").fetchone()[0],
        "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
        "memory": timed(lambda: con.execute(group_by.format("answers")).fetchall(), repeat),
        "parquet": timed(lambda: con.execute(group_by.format(f"read_parquet('{parquet}')")).fetchall(), repeat),
    }
    con.close()
    os.unlink(parquet)
    return out


def pages(url: str, campaign_id: int, repeat: int) -> dict:
    """Sequential GETs through gunicorn: the overview page and the trivial page, signed in."""
    with Server(url, workers=2) as server:
        session = sign_in(server.base)

        def get(path):
            def run():
                response = session.get(server.base + path, timeout=300)
                assert response.status_code == 200, (path, response.status_code)
            return run

        return {
            "overview_page": timed(get(f"/admin/campaigns/{campaign_id}"), repeat, warmup=2),
            "trivial_page": timed(get("/thanks"), repeat * 5, warmup=5),
        }


def measure(url: str, repeat: int) -> dict:
    app = make_app(url)
    campaign_id = _campaign_id(app)
    if campaign_id is None:
        raise SystemExit(f"{url}: no benchmark campaign; run bench.generate first")
    row = {"db": url, "engine": engine_name(url)}
    row.update(in_process(app, campaign_id, repeat))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "answers.csv")
        start = time.perf_counter()
        row["answers"] = export_answers(app, url, path)
        row["export_s"] = time.perf_counter() - start
        row["duckdb"] = duckdb_group_by(path, repeat)
    with app.app_context():
        from extensions import db

        db.engine.dispose()
    row.update(pages(url, campaign_id, repeat))
    return row


def cache_compare(urls: list[str], repeat: int) -> None:
    """The overview page in-process (Flask's test client, signed in), with the cache and without (NullCache).

    With the cache every GET after the first reads the data version and the cached
    overview and renders the page; without it every GET computes the overview.
    """
    from bench.common import BENCH_PASSWORD, BENCH_USER

    print("| engine | ballots | overview page, cache hit (min–max) | overview page, no cache (min–max) "
          "| no cache ÷ hit |")
    print("|---|--:|--:|--:|--:|")
    for url in urls:
        row = {}
        for name, cache_type in (("hit", "SimpleCache"), ("none", "NullCache")):
            app = make_app(url, CACHE_TYPE=cache_type, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
            campaign_id = _campaign_id(app)
            client = app.test_client()
            assert client.post("/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD}).status_code == 302

            def get():
                assert client.get(f"/admin/campaigns/{campaign_id}").status_code == 200

            row[name] = timed(get, repeat, warmup=2)
            with app.app_context():
                from extensions import db

                ballots = int(db.session.scalar(db.text("SELECT coalesce(sum(n), 0) FROM ballot_tally")))
                db.engine.dispose()
        hit, none = row["hit"], row["none"]
        print(f"| {engine_name(url)} | {ballots:,} | {fmt_ms(hit['median_ms'])} ({hit['min_ms']:.1f}–{hit['max_ms']:.1f}) "
              f"| {fmt_ms(none['median_ms'])} ({none['min_ms']:.1f}–{none['max_ms']:.1f}) "
              f"| {none['median_ms'] / hit['median_ms']:.0f} |", flush=True)


def pages_only(urls: list[str], repeat: int) -> None:
    """The "Pages" table alone: each database's overview and trivial page, back to back."""
    print("| engine | ballots | overview page /admin/campaigns/<id> (min–max) | trivial page /thanks (min–max) "
          "| overview ÷ trivial |")
    print("|---|--:|--:|--:|--:|")
    for url in urls:
        app = make_app(url)
        campaign_id = _campaign_id(app)
        with app.app_context():
            from extensions import db
            from models import Ballot

            ballots = db.session.scalar(db.select(db.func.count()).select_from(Ballot))
            db.engine.dispose()
        r = pages(url, campaign_id, repeat)
        page, floor = r["overview_page"], r["trivial_page"]
        print(f"| {engine_name(url)} | {ballots:,} | {fmt_ms(page['median_ms'])} ({page['min_ms']:.1f}–{page['max_ms']:.1f}) "
              f"| {fmt_ms(floor['median_ms'])} ({floor['min_ms']:.1f}–{floor['max_ms']:.1f}) "
              f"| {page['median_ms'] / floor['median_ms']:.1f} |", flush=True)


def report(rows: list[dict]) -> None:
    print()
    print("Computation (in-process, median ms; CPU ms of this process in brackets)")
    print()
    print("| engine | ballots | answers | results: load_frames + unit/item_results | campaign_overview() "
          "| cached_overview() (cache hit) "
          "| DB recount GROUP BY | DuckDB GROUP BY (in memory) | DuckDB on Parquet | results ÷ DuckDB (wall, CPU) |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        res, duck = r["results"], r["duckdb"]["memory"]
        print(f"| {r['engine']} | {r['ballots']:,} | {r['answers']:,} | {fmt_ms(res['median_ms'])} ({fmt_ms(res['cpu_ms'])}) "
              f"| {fmt_ms(r['overview_fn']['median_ms'])} ({fmt_ms(r['overview_fn']['cpu_ms'])}) "
              f"| {fmt_ms(r['overview_memo']['median_ms'])} ({fmt_ms(r['overview_memo']['cpu_ms'])}) "
              f"| {fmt_ms(r['recount']['median_ms'])} | {fmt_ms(duck['median_ms'])} ({fmt_ms(duck['cpu_ms'])}) "
              f"| {fmt_ms(r['duckdb']['parquet']['median_ms'])} "
              f"| {res['median_ms'] / duck['median_ms']:.2f}, {res['cpu_ms'] / max(duck['cpu_ms'], 0.01):.2f} |")
    print()
    print("Pages (sequential GETs through gunicorn, 2 workers, signed in; median ms)")
    print()
    print("| engine | ballots | overview page /admin/campaigns/<id> | trivial page /thanks | overview ÷ trivial |")
    print("|---|--:|--:|--:|--:|")
    for r in rows:
        page, floor = r["overview_page"]["median_ms"], r["trivial_page"]["median_ms"]
        print(f"| {r['engine']} | {r['ballots']:,} | {fmt_ms(page)} | {fmt_ms(floor)} | {page / floor:.0f} |")
    print()
    for r in rows:
        print(f"  {r['db']}: tally cells {r['cells']:,}, units to make up {r['makeup']}, "
              f"DuckDB threads {r['duckdb']['threads']}, answers export {r['export_s']:.1f} s; "
              f"min/max ms results {r['results']['min_ms']:.1f}/{r['results']['max_ms']:.1f}, "
              f"DuckDB {r['duckdb']['memory']['min_ms']:.1f}/{r['duckdb']['memory']['max_ms']:.1f}, "
              f"overview page {r['overview_page']['min_ms']:.1f}/{r['overview_page']['max_ms']:.1f}, "
              f"trivial {r['trivial_page']['min_ms']:.1f}/{r['trivial_page']['max_ms']:.1f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", action="append", required=True, help="a database made by bench.generate (repeat)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pages-only", action="store_true",
                        help="only the overview and trivial pages through gunicorn (minutes faster)")
    parser.add_argument("--cache-compare", action="store_true",
                        help="only the overview page in-process, with the cache and without it")
    args = parser.parse_args(argv)
    print_facts("results at scale")
    if args.cache_compare:
        cache_compare(args.db, args.repeat)
        print_facts("after the run")
        return
    if args.pages_only:
        pages_only(args.db, args.repeat)
        print_facts("after the run")
        return
    rows = []
    for url in args.db:
        rows.append(measure(url, args.repeat))
        r = rows[-1]
        print(f"  done {url}: {r['ballots']:,} ballots, results {r['results']['median_ms']:.1f} ms, "
              f"DuckDB {r['duckdb']['memory']['median_ms']:.1f} ms", flush=True)
    report(rows)
    print_facts("after the run")


if __name__ == "__main__":
    main()
