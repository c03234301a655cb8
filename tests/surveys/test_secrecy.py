"""Ballot secrecy: the schema cannot link a ballot to its code, and a ballot records nothing identifying.

Checked twice: on the SQLAlchemy metadata (what the code means) and on the
live database through ``sqlalchemy.inspect`` (what was actually created).
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Date, DateTime, Integer, Interval, String, Time, inspect, select, text
from sqlalchemy.orm import class_mapper

from config import TestConfig
from extensions import db
from models import Answer, Ballot, BallotCode

ON_POSTGRESQL = (TestConfig.SQLALCHEMY_DATABASE_URI or "").startswith("postgresql")

SECRET_TABLES = ("ballot", "answer")
BALLOT_COLUMNS = {"id", "evaluation_id", "rater_group_id", "submitted_on"}
ANSWER_COLUMNS = {"ballot_id", "item_id", "seq", "option_id", "text"}
CODE_COLUMNS = {"code_hash", "evaluation_id", "rater_group_id", "batch_id", "status"}
IDENTIFYING = re.compile(r"ip|addr|host|agent|browser|device|session|user|time|_at$|created|updated|code|order|serial")


# --- the metadata -----------------------------------------------------------------------------


def test_ballot_and_answer_columns_are_exactly_the_anonymous_ones():
    assert set(Ballot.__table__.columns.keys()) == BALLOT_COLUMNS
    assert set(Answer.__table__.columns.keys()) == ANSWER_COLUMNS
    for table in (Ballot.__table__, Answer.__table__):
        for column in table.columns:
            assert not IDENTIFYING.search(column.name), f"{table.name}.{column.name}"


def test_no_foreign_key_or_relationship_links_ballots_and_codes():
    metadata = db.metadata
    for name in SECRET_TABLES:
        targets = {fk.column.table.name for fk in metadata.tables[name].foreign_keys}
        assert "ballot_code" not in targets and "code_batch" not in targets, name
    code_targets = {fk.column.table.name for fk in metadata.tables["ballot_code"].foreign_keys}
    assert not code_targets & {"ballot", "answer"}
    # No third table joins them either: nothing else references both sides.
    for table in metadata.tables.values():
        targets = {fk.column.table.name for fk in table.foreign_keys}
        if table.name not in SECRET_TABLES:
            assert "ballot" not in targets and "answer" not in targets, f"{table.name} references ballots"
    # ORM relationships say the same.
    assert {r.mapper.class_ for r in class_mapper(Ballot).relationships} == {Answer}
    assert {r.mapper.class_ for r in class_mapper(Answer).relationships} == {Ballot}
    assert not {r.mapper.class_ for r in class_mapper(BallotCode).relationships} & {Ballot, Answer}


def test_ballot_code_records_no_time():
    assert set(BallotCode.__table__.columns.keys()) == CODE_COLUMNS
    for column in BallotCode.__table__.columns:
        assert not isinstance(column.type, (Date, DateTime, Time, Interval)), column.name
        assert not re.search(r"time|_at$|_on$|date|used", column.name), column.name


def test_submitted_on_is_a_date_and_ids_are_random_strings():
    submitted_on = Ballot.__table__.c.submitted_on
    assert isinstance(submitted_on.type, Date) and not isinstance(submitted_on.type, DateTime)
    time_columns = [c.name for c in Ballot.__table__.columns if isinstance(c.type, (DateTime, Time, Interval))]
    assert time_columns == []
    ballot_id = Ballot.__table__.c.id
    assert isinstance(ballot_id.type, String) and not isinstance(ballot_id.type, Integer)
    assert ballot_id.type.length == 32
    assert ballot_id.server_default is None and ballot_id.autoincrement is not True
    assert Ballot.__table__.c.id.default is not None  # a Python-side random default


# --- the live database ------------------------------------------------------------------------


def test_live_schema_has_no_link_and_no_identifying_column(app):
    with app.app_context():
        inspector = inspect(db.engine)
        live = {t: {c["name"]: c for c in inspector.get_columns(t)} for t in ("ballot", "answer", "ballot_code")}
        fks = {t: inspector.get_foreign_keys(t) for t in ("ballot", "answer", "ballot_code")}
        all_tables = inspector.get_table_names()
        other_fks = {t: inspector.get_foreign_keys(t) for t in all_tables}
    assert set(live["ballot"]) == BALLOT_COLUMNS
    assert set(live["answer"]) == ANSWER_COLUMNS
    assert set(live["ballot_code"]) == CODE_COLUMNS
    for name in SECRET_TABLES:
        assert all(fk["referred_table"] not in ("ballot_code", "code_batch") for fk in fks[name]), name
    assert all(fk["referred_table"] not in ("ballot", "answer") for fk in fks["ballot_code"])
    for table, table_fks in other_fks.items():
        if table not in SECRET_TABLES:
            assert all(fk["referred_table"] not in ("ballot", "answer") for fk in table_fks), table
    assert type(live["ballot"]["submitted_on"]["type"]).__name__.upper() == "DATE"
    for column in live["ballot_code"].values():
        assert "TIME" not in str(column["type"]).upper() and "DATE" not in str(column["type"]).upper()
    assert "INT" not in str(live["ballot"]["id"]["type"]).upper()


def test_sqlite_tables_are_without_rowid(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("WITHOUT ROWID exists only on SQLite")
        with db.engine.connect() as conn:
            sql = dict(conn.execute(text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'table' AND name IN ('ballot', 'answer', 'ballot_code')"
            )).all())
    assert set(sql) == {"ballot", "answer", "ballot_code"}
    for name, ddl in sql.items():
        assert ddl.rstrip().upper().endswith("WITHOUT ROWID"), name


# --- what a submission actually stores --------------------------------------------------------


def _submit(client, issue, answers_for, evaluation_id: int, n: int, count_box=None) -> list[str]:
    """Submit ``n`` ballots, each tagged by its free text, and return the tags in submission order."""
    tags = []
    for i, code in enumerate(issue(evaluation_id, "党员", n)):
        tag = f"第{i:02d}票"
        assert client.post("/v", data={**(answers_for(evaluation_id, choice=i % 5, text=tag)), "code": code, "ballot": "1"}).status_code == 303
        tags.append(tag)
    if count_box is not None:
        count_box(evaluation_id)
    return tags


def test_submitted_on_is_today_with_no_time_of_day(app, client, campaign, issue, answers_for, count_box):
    zone = ZoneInfo(app.config["TIMEZONE"])
    before = dt.datetime.now(zone).date()
    _submit(client, issue, answers_for, campaign["evaluation"], 1, count_box)
    after = dt.datetime.now(zone).date()
    with app.app_context():
        stored = db.session.scalars(select(Ballot.submitted_on)).one()
        with db.engine.connect() as conn:
            raw = conn.execute(text("SELECT submitted_on FROM ballot")).scalar_one()
    assert type(stored) is dt.date
    assert stored in (before, after)
    assert str(raw) == stored.isoformat()  # the database holds the day and nothing more


def test_ballot_ids_are_random_hex_and_do_not_follow_submission_order(app, client, campaign, issue, answers_for,
                                                                     count_box):
    tags = _submit(client, issue, answers_for, campaign["evaluation"], 12, count_box)
    with app.app_context():
        by_tag = dict(db.session.execute(select(Answer.text, Answer.ballot_id).where(Answer.text.is_not(None))).all())
        natural = [r[0] for r in db.session.execute(text("SELECT id FROM ballot")).all()]
        dialect = db.engine.dialect.name
    ids = [by_tag[tag] for tag in tags]
    assert len(set(ids)) == 12
    for ballot_id in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", ballot_id), ballot_id
        assert not ballot_id.isdigit()
    # Twelve random ids come out in submission order (either way) with chance 2/12! ≈ 4e-9.
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    diffs = [int(b, 16) - int(a, 16) for a, b in zip(ids, ids[1:])]
    assert not all(d == diffs[0] for d in diffs)
    if dialect == "sqlite":
        # WITHOUT ROWID: the table's own order is its random key, not arrival.
        assert natural == sorted(ids)
    # The answers hold nothing that orders ballots either: no column besides the ones checked above.
    assert len(by_tag) == 12


def test_a_ballot_row_cannot_be_matched_to_its_code(app, client, campaign, issue, answers_for, count_box):
    """Two ballots, two used codes: nothing stored says which code gave which ballot."""
    codes = issue(campaign["evaluation"], "党员", 2)
    for i, code in enumerate(codes):
        client.post("/v", data={**(answers_for(campaign["evaluation"], choice=i)), "code": code, "ballot": "1"})
    count_box(campaign["evaluation"])
    with app.app_context():
        ballots = db.session.execute(select(Ballot.evaluation_id, Ballot.rater_group_id, Ballot.submitted_on)).all()
        used = db.session.execute(select(BallotCode.evaluation_id, BallotCode.rater_group_id)).all()
    # The only columns shared are the evaluation and the group — identical for both ballots.
    assert len(set(ballots)) == 1 and len(set(used)) == 1
