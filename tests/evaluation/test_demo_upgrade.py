"""``flask demo`` on a demo campaign built by an older version: the missing parts are added once.

Rebuilding the 272-unit demo costs seconds, so the "older demo" here is the small
hand-made campaign of :mod:`results_data` renamed to the demo's name: it has
satisfaction results (one unit flagged for make-up) but no learning test and no
stages. ``build_demo`` must add both, say so, and add nothing the second time.
"""
from __future__ import annotations

from results_data import seed_results
from sqlalchemy import func, select

from extensions import db
from models import Campaign, Unit, UnitKind


def _table_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def test_older_demo_gets_the_learning_test_and_the_work_once(app, campaign):
    from evaluation.demo.campaign import CAMPAIGN_NAME, build_demo
    from evaluation.work.quiz import campaign_quiz
    from evaluation.work.stages import plan
    from surveys import tallies

    ids = seed_results(app, campaign)
    with app.app_context():
        older = db.session.get(Campaign, ids["campaign"])
        older.name = CAMPAIGN_NAME
        committee = db.session.get(Unit, ids["committee"])
        # Three more units, so the demo's three analysis reports have units to go to.
        db.session.add_all([Unit(campaign=older, parent=committee, code=f"X{n}", name=f"演示单位{n}",
                                 kind=UnitKind.UNIT) for n in range(3)])
        db.session.commit()

        summary = build_demo()
        assert not summary.created and summary.campaign_id == ids["campaign"]
        assert summary.ballots > 0 and len(summary.notes) == 2, summary.notes
        assert "学习成果测试" in summary.notes[0] and "补课单位 第一单位" in summary.notes[1]
        assert campaign_quiz(ids["campaign"])["overall"]["participants"] == summary.ballots
        assert [s.name for s in plan(ids["campaign"])] == ["学习调研", "分析检查", "整改落实"]
        assert tallies.differences(db.session) == []  # quiz, review and round-2 ballots all counted
        before = _table_counts()

        again = build_demo()
        assert (again.created, again.ballots, again.notes) == (False, 0, [])
        assert _table_counts() == before
