"""Migration 0006 (one first-round evaluation per unit and questionnaire), up and down.

Runs on the suite's database engine: a fresh SQLite file, or a throwaway
PostgreSQL schema when ``TEST_DATABASE_URL`` is set (``fresh_database_url``).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app import create_app
from extensions import db

BEFORE = "53c74941fcfb"  # revision 0005; 0006 is the head
ROOT = Path(__file__).resolve().parent.parent

SEED = [
    "INSERT INTO campaign (id, name, created_at) VALUES (1, 'c', CURRENT_TIMESTAMP)",
    "INSERT INTO unit (id, campaign_id, code, name, kind, members, active) VALUES (1, 1, 'U1', 'u', 'unit', 0, true)",
    "INSERT INTO questionnaire (id, key, version, title, intro, frozen) VALUES (1, 'q', 1, 'q', '', false)",
]


def _evaluation(conn, evaluation_id: int, previous_id: int | None = None) -> None:
    conn.execute(text(
        "INSERT INTO evaluation (id, campaign_id, unit_id, questionnaire_id, status, threshold, min_ballots, "
        "previous_id) VALUES (:id, 1, 1, 1, 'draft', 0.6, 8, :previous)"), {"id": evaluation_id, "previous": previous_id})


def _indexes(app) -> set[str]:
    with app.app_context():
        names = {i["name"] for i in inspect(db.engine).get_indexes("evaluation")}
        db.engine.dispose()
    return names


def _run(runner, *args) -> object:
    return runner.invoke(args=["db", *args])


def test_0006_refuses_existing_duplicates_then_goes_up_and_down(fresh_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url})
    runner = app.test_cli_runner()
    assert _run(runner, "upgrade", BEFORE).exit_code == 0
    with app.app_context():
        with db.engine.begin() as conn:
            for statement in SEED:
                conn.execute(text(statement))
            _evaluation(conn, 1)
            _evaluation(conn, 2)  # a duplicate first round, as the old code could make
            _evaluation(conn, 3, previous_id=1)  # a make-up round: allowed before and after
        db.engine.dispose()

    assert _run(runner, "upgrade").exit_code != 0  # `flask db upgrade` prints the message below and exits 1
    with app.app_context():  # the same step through Alembic itself, to read the message
        config = app.extensions["migrate"].migrate.get_config(str(ROOT / "migrations"))
        with pytest.raises(RuntimeError, match="同一单位、同一测评表有多个第一轮测评") as refused:
            command.upgrade(config, "head")
        db.engine.dispose()
    assert "unit 1, questionnaire 1: 2 first-round evaluations" in str(refused.value)
    assert "uq_evaluation_first_round" not in _indexes(app)  # nothing changed

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM evaluation WHERE id = 2"))
        db.engine.dispose()
    assert _run(runner, "upgrade").exit_code == 0
    assert "uq_evaluation_first_round" in _indexes(app)
    with app.app_context():
        with db.engine.begin() as conn:
            _evaluation(conn, 4, previous_id=3)  # a later round is still allowed
        with pytest.raises(IntegrityError):
            with db.engine.begin() as conn:
                _evaluation(conn, 5)  # a second first round is not
        db.engine.dispose()

    assert _run(runner, "downgrade", BEFORE).exit_code == 0
    assert "uq_evaluation_first_round" not in _indexes(app)
    with app.app_context():
        with db.engine.begin() as conn:
            _evaluation(conn, 5)  # no rule any more
            conn.execute(text("DELETE FROM evaluation WHERE id = 5"))
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        db.engine.dispose()
    assert revision == BEFORE
    assert _run(runner, "upgrade").exit_code == 0 and "uq_evaluation_first_round" in _indexes(app)
