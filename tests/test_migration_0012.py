"""Migration 0012 (tallies by option polarity): it fills the new table from the existing tallies, and goes down.

Runs on the suite's engine: a fresh SQLite file, or a throwaway PostgreSQL schema
when ``TEST_DATABASE_URL`` is set (``fresh_database_url``).
"""
from __future__ import annotations

from sqlalchemy import inspect, text

from app import create_app
from extensions import db

BEFORE = "7b2e5d9c3a14"  # revision 0011

SEED = [
    "INSERT INTO campaign (id, name, created_at) VALUES (1, 'c', CURRENT_TIMESTAMP)",
    "INSERT INTO unit (id, campaign_id, code, name, kind, members, active) VALUES (1, 1, 'U1', 'u', 'unit', 0, true)",
    "INSERT INTO questionnaire (id, key, version, title, intro, frozen) VALUES (1, 'q', 1, 'q', '', true)",
    "INSERT INTO rater_group (id, campaign_id, name) VALUES (1, 1, 'g1'), (2, 1, 'g2')",
    "INSERT INTO scale (id, name) VALUES (1, 's')",
    # 满意 (positive), 基本满意 (positive), 不满意 (negative), 不了解 (unknown)
    "INSERT INTO option (id, scale_id, label, position, polarity, correct) VALUES "
    "(1, 1, 'a', 1, 'positive', false), (2, 1, 'b', 2, 'positive', false), "
    "(3, 1, 'c', 3, 'negative', false), (4, 1, 'd', 4, 'unknown', false)",
    # item 1 and 2 are rated indicators; item 3 a single choice on the same options (not scored)
    "INSERT INTO item (id, questionnaire_id, position, kind, text, required, scale_id) VALUES "
    "(1, 1, 1, 'scale', 'i1', true, 1), (2, 1, 2, 'scale', 'i2', true, 1), (3, 1, 3, 'single', 'i3', true, 1)",
    "INSERT INTO evaluation (id, campaign_id, unit_id, questionnaire_id, status, threshold, min_ballots) "
    "VALUES (1, 1, 1, 1, 'closed', 0.6, 8)",
    "INSERT INTO tally (evaluation_id, rater_group_id, item_id, option_id, n) VALUES "
    "(1, 1, 1, 1, 5), (1, 1, 1, 2, 3), (1, 1, 1, 3, 2), (1, 1, 1, 4, 1), "
    "(1, 1, 2, 3, 7), (1, 2, 2, 4, 4), (1, 2, 2, 1, 6), (1, 1, 3, 1, 9)",
]


def test_0012_fills_polarity_tallies_from_the_tallies_then_goes_down(fresh_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", BEFORE]).exit_code == 0
    with app.app_context():
        with db.engine.begin() as conn:
            for statement in SEED:
                conn.execute(text(statement))
        db.engine.dispose()

    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT evaluation_id, rater_group_id, item_id, n_positive, n_negative, n_unknown "
                "FROM polarity_tally ORDER BY 1, 2, 3")).all()
        db.engine.dispose()
    # worked out by hand from SEED: the single-choice item 3 has no row
    assert [tuple(r) for r in rows] == [(1, 1, 1, 8, 2, 1), (1, 1, 2, 0, 7, 0), (1, 2, 2, 6, 0, 4)]

    assert runner.invoke(args=["db", "downgrade", BEFORE]).exit_code == 0
    with app.app_context():
        assert "polarity_tally" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
