"""Forensic attacks on what the database engines keep beside the columns.

A database administrator or a thief of a backup tries to link ballots to codes,
or to order ballots by arrival, through PostgreSQL's ``xmin``/``cmin``/``ctid``
and ``pg_dump`` order, and through SQLite's write-ahead log frames and the
order of cells inside a table's pages (files copied while the app serves).
Each attack must find nothing beyond chance; each test fails if the sealed box,
the batch counting or the scrub at close is taken away.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import subprocess
from collections import defaultdict

import pytest
from sqlalchemy import select, text

from extensions import db
from models import Answer
from tests.conftest import require_postgres

N_TAGGED = 48


def _spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation of two equally long lists without ties."""
    def ranks(values):
        order = sorted(range(len(values)), key=values.__getitem__)
        out = [0] * len(values)
        for rank, index in enumerate(order):
            out[index] = rank
        return out

    rx, ry, n = ranks(xs), ranks(ys), len(xs)
    return 1 - 6 * sum((a - b) ** 2 for a, b in zip(rx, ry)) / (n * (n * n - 1))


def _vote_tagged(client, issue, answers_for, evaluation: int, n: int, group: str = "党员") -> None:
    """Submit ``n`` ballots in a known order, each tagged in its comment with its arrival number."""
    for i, code in enumerate(issue(evaluation, group, n)):
        data = {**answers_for(evaluation, choice=i % 4, text=f"tag-{i:03d}"), "code": code, "ballot": "1"}
        assert client.post("/v", data=data).status_code == 303


def _arrival(app) -> dict[str, int]:
    """ballot id → arrival number, read back from the tags (what an attacker wants to reconstruct)."""
    with app.app_context():
        rows = db.session.execute(select(Answer.ballot_id, Answer.text).where(Answer.text.like("tag-%"))).all()
    return {ballot_id: int(tag[4:]) for ballot_id, tag in rows}


# --- PostgreSQL -----------------------------------------------------------------------------------


def test_postgresql_stamps_never_join_a_ballot_to_a_code(app, client, campaign, issue, answers_for, database_url,
                                                         count_box):
    """The attack of issue 12: a ballot's xmin equal to its code's xmin (or the lowest cmin among equals)."""
    require_postgres(database_url)
    evaluation = campaign["evaluation"]
    _vote_tagged(client, issue, answers_for, evaluation, 20)
    _vote_tagged(client, issue, answers_for, evaluation, 17, group="群众代表")
    join = text("SELECT count(*) FROM ballot b JOIN ballot_code c ON c.xmin = b.xmin")
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM ballot")) == 16  # a batch of 8 in each group
        assert db.session.scalar(join) == 0
        # the box rows do share their code's stamp — and hold only ciphertext
        assert db.session.scalar(text("SELECT count(*) FROM ballot_box s JOIN ballot_code c ON c.xmin = s.xmin")) == 21
    count_box(evaluation)
    with app.app_context():
        assert db.session.scalar(join) == 0
        assert db.session.scalar(text("SELECT count(*) FROM ballot")) == 37


def test_postgresql_batches_hide_each_ballot_among_k_and_close_scrubs_the_order(app, client, campaign, issue,
                                                                              answers_for, database_url, count_box):
    require_postgres(database_url)
    evaluation = campaign["evaluation"]
    _vote_tagged(client, issue, answers_for, evaluation, N_TAGGED)
    arrival = _arrival(app)
    stamps = text("SELECT id, xmin::text, cmin::text, ctid FROM ballot ORDER BY ctid")
    with app.app_context():
        rows = db.session.execute(stamps).all()
    batches = defaultdict(list)
    for ballot_id, xmin, cmin, _ctid in rows:
        batches[xmin].append((ballot_id, cmin))
    assert len(rows) == N_TAGGED - 8
    # Each transaction stamp covers a whole batch of ≥ k = 8, written by one command.
    assert all(len(members) >= 8 for members in batches.values()), {x: len(m) for x, m in batches.items()}
    assert all(len({cmin for _b, cmin in members}) == 1 for members in batches.values())
    # Inside a batch the physical order is a shuffle: concordant pairs near one half.
    concordant = total = 0
    for members in batches.values():
        order = [arrival[b] for b, _c in members]  # in ctid order
        for i in range(len(order)):
            for j in range(i + 1, len(order)):
                total += 1
                concordant += order[i] < order[j]
    assert 0.25 < concordant / total < 0.75, (concordant, total)

    count_box(evaluation)
    arrival = _arrival(app)
    with app.app_context():
        rows = db.session.execute(stamps).all()
        tally_stamps = {table: set(db.session.scalars(text(
            f"SELECT DISTINCT xmin::text FROM {table} WHERE evaluation_id = :e"), {"e": evaluation}))
            for table in ("tally", "ballot_tally", "polarity_tally")}
    assert len(rows) == N_TAGGED
    ballot_stamps = {xmin for _b, xmin, _c, _t in rows}
    assert len(ballot_stamps) == 1  # one stamp for the whole evaluation
    # every running tally was rewritten by that same transaction: none carries a count's stamp
    assert tally_stamps == {table: ballot_stamps for table in tally_stamps}, tally_stamps
    rho = _spearman([arrival[b] for b, *_ in rows], list(range(len(rows))))
    assert abs(rho) < 0.55, rho


def test_pg_dump_lists_ballots_in_no_arrival_order(app, client, campaign, issue, answers_for, database_url,
                                                   count_box):
    require_postgres(database_url)
    if shutil.which("pg_dump") is None:
        from tests.conftest import services_required

        if services_required():
            pytest.fail("pg_dump is needed for the dump-order attack (CEPING_SERVICES_REQUIRED=1)")
        pytest.skip("pg_dump is not installed")
    evaluation = campaign["evaluation"]
    _vote_tagged(client, issue, answers_for, evaluation, N_TAGGED)
    count_box(evaluation)
    arrival = _arrival(app)
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    dump = subprocess.run(["pg_dump", "--data-only", "--table=ballot", url], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    lines = dump.split("COPY public.ballot ", 1)[1].split("\n")[1:]
    order = [line.split("\t")[0] for line in lines[:lines.index("\\.")]]
    assert sorted(order) == sorted(arrival)
    rho = _spearman([arrival[b] for b in order], list(range(len(order))))
    assert abs(rho) < 0.55, rho


# --- SQLite ---------------------------------------------------------------------------------------


def _sqlite_path(database_url: str) -> str:
    if not database_url.startswith("sqlite:///"):
        pytest.skip("an attack on SQLite's files; this run is on PostgreSQL")
    return database_url[len("sqlite:///"):]


def _wal_commits(wal: bytes) -> list[set[int]]:
    """Page numbers written by each commit in a WAL file (stale frames from before a reset included)."""
    if len(wal) < 32:
        return []
    page_size = struct.unpack(">I", wal[8:12])[0]
    commits, pages, offset = [], set(), 32
    while offset + 24 + page_size <= len(wal):
        page_no, commit_size = struct.unpack(">II", wal[offset:offset + 8])
        pages.add(page_no)
        if commit_size:
            commits.append(pages)
            pages = set()
        offset += 24 + page_size
    return commits


def _page_tables(path: str) -> dict[int, str]:
    """Page number → the table (or index) it belongs to, from SQLite's dbstat of a copy."""
    conn = sqlite3.connect(path)
    try:
        return {pageno: name for name, pageno in conn.execute("SELECT name, pageno FROM dbstat")}
    finally:
        conn.close()


def test_sqlite_wal_never_holds_a_code_and_a_ballot_in_one_commit(app, client, campaign, issue, answers_for,
                                                                  database_url, tmp_path, count_box):
    """Copy ceping.sqlite and its -wal while serving; pair each commit's code page with its ballot page."""
    path = _sqlite_path(database_url)
    evaluation = campaign["evaluation"]
    _vote_tagged(client, issue, answers_for, evaluation, 20)  # the 16th ballot's request counts a batch
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            shutil.copyfile(path + suffix, tmp_path / f"copy.sqlite{suffix}")
    wal = (tmp_path / "copy.sqlite-wal").read_bytes()
    commits = _wal_commits(wal)
    tables = _page_tables(str(tmp_path / "copy.sqlite"))
    touched = [{tables.get(p, "?") for p in pages} for pages in commits]
    assert any({"ballot_code", "ballot_box"} <= t for t in touched), "the copy holds the redeeming commits"
    for names in touched:
        assert not ("ballot_code" in names and names & {"ballot", "answer"}), names
    # After a count the log is cut to nothing: the counted batch's pages are not in it.
    count_box(evaluation)
    assert os.path.getsize(path + "-wal") == 0


def _leaf_cells(path: str, table: str) -> list[tuple[int, int, str]]:
    """(page, cell offset, first column) of every cell in the table's leaf pages, read from the file's bytes."""
    conn = sqlite3.connect(path)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        leaves = [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'",
                                             (table,))]
    finally:
        conn.close()
    data = open(path, "rb").read()
    cells = []
    for page_no in leaves:
        page = data[(page_no - 1) * page_size:page_no * page_size]
        header = 100 if page_no == 1 else 0
        assert page[header] == 0x0A, "WITHOUT ROWID tables are index b-trees"
        n_cells = struct.unpack(">H", page[header + 3:header + 5])[0]
        for i in range(n_cells):
            offset = struct.unpack(">H", page[header + 8 + 2 * i:header + 10 + 2 * i])[0]
            cells.append((page_no, offset, _first_text(page, offset)))
    return cells


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    value = 0
    for i in range(9):
        byte = buf[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    raise ValueError("bad varint")


def _first_text(page: bytes, offset: int) -> str:
    """The first column (the random id) of the record in a leaf index cell."""
    _payload, at = _varint(page, offset)
    header_size, body = _varint(page, at)
    serial, _ = _varint(page, body)
    start = at + header_size
    return page[start:start + (serial - 13) // 2].decode("ascii")


def test_sqlite_cell_order_says_nothing_about_arrival_after_close(app, client, campaign, issue, answers_for,
                                                                  database_url, count_box):
    path = _sqlite_path(database_url)
    evaluation = campaign["evaluation"]
    _vote_tagged(client, issue, answers_for, evaluation, N_TAGGED)
    count_box(evaluation)
    arrival = _arrival(app)
    cells = _leaf_cells(path, "ballot")
    assert sorted(c[2] for c in cells) == sorted(arrival)
    # The physical write order an attacker reads: page by page, newest cells at the lowest offsets.
    physical = sorted(cells, key=lambda c: (c[0], -c[1]))
    rho = _spearman([arrival[c[2]] for c in physical], list(range(len(physical))))
    assert abs(rho) < 0.55, rho


def test_sqlite_files_are_private_and_deleted_content_is_zeroed(app, database_url):
    path = _sqlite_path(database_url)
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == 0
    from app import create_app

    fresh = path + ".mode-check.sqlite"
    try:
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{fresh}"})
        assert os.stat(fresh).st_mode & 0o777 == 0o600
    finally:
        os.unlink(fresh)


def test_raw_ballot_export_order_says_nothing_about_arrival(app, client, campaign, issue, answers_for, count_box,
                                                           monkeypatch):
    """Ballots cast over two days: the raw CSV must not list them by day (or any other arrival order)."""
    import csv
    import datetime as dt
    import io

    from evaluation.services import create_user

    evaluation = campaign["evaluation"]
    codes = issue(evaluation, "党员", 40)
    for i, code in enumerate(codes):
        moment = dt.datetime(2026, 3, 1 + i // 20, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Beijing
        monkeypatch.setattr("surveys.ballots._now", lambda moment=moment: moment)
        data = {**answers_for(evaluation, choice=i % 4, text=f"tag-{i:03d}"), "code": code, "ballot": "1"}
        assert client.post("/v", data=data).status_code == 303
    monkeypatch.undo()
    count_box(evaluation)
    with app.app_context():
        create_user("org", "correct horse battery", "organiser")
    client.post("/login", data={"username": "org", "password": "correct horse battery"})
    response = client.get(f"/admin/campaigns/{campaign['campaign']}/ballots.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    ballot_col = next(i for i, name in enumerate(header) if "ballot" in name)
    day_col = next(i for i, name in enumerate(header) if "submitted" in name)
    order, day, tag = [], {}, {}  # ballots in the order the export lists them (one row per answer)
    for row in body:
        if row[ballot_col] not in day:
            order.append(row[ballot_col])
        day[row[ballot_col]] = row[day_col]
        for cell in row:
            if cell.startswith("tag-"):
                tag[row[ballot_col]] = int(cell[4:])
    days = [day[b] for b in order]
    assert sorted(days) == ["2026-03-01"] * 20 + ["2026-03-02"] * 20 and len(tag) == 40
    # Listed by day, the first 20 ballots would all be day one: by chance 1 in C(40, 20) ≈ 7e-12.
    assert days[:20] != sorted(days)[:20] and days != sorted(days, reverse=True)
    rho = _spearman([tag[b] for b in order], list(range(len(order))))
    assert abs(rho) < 0.55, rho
