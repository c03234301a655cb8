"""The demo's campaign work (evaluation.demo.work): every stage has something to show, once."""
from __future__ import annotations

from results_data import seed_results
from work_data import login, make_accounts

from extensions import db
from models import (
    AnalysisReport, Campaign, LookBack, MakeUp, RectificationItem, Stage, Suggestion, Unit, UnitKind, UnitStep,
)


def _count(model, *where) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def test_work_demo_walks_through_the_stages(app, client, campaign):
    ids = seed_results(app, campaign)
    make_accounts(app, campaign)
    with app.app_context():
        from evaluation.demo.work import add_work_demo

        c = db.session.get(Campaign, ids["campaign"])
        committee = db.session.get(Unit, ids["committee"])
        db.session.add_all([Unit(campaign=c, parent=committee, code=f"X{n}", name=f"演示单位{n}", kind=UnitKind.UNIT)
                            for n in range(3)])
        db.session.commit()
        notes = add_work_demo(c)
        assert notes and "补课单位" in notes[0]
        assert _count(Stage) == 3 and _count(UnitStep) > 0 and _count(LookBack) > 0 and _count(Suggestion) > 0
        rounds = list(db.session.scalars(db.select(AnalysisReport).order_by(AnalysisReport.id)))
        assert [(r.round, r.verdict) for r in rounds] == [(1, "returned"), (2, "passed"), (1, "passed"), (1, "pending")]
        [decision] = db.session.scalars(db.select(MakeUp)).all()
        assert decision.unit_id == ids["unit_a"]
        linked = db.session.scalars(db.select(RectificationItem)
                                    .where(RectificationItem.makeup_id == decision.id)).all()
        assert len(linked) == 3 and all(i.status == "done" for i in linked)
        # a second call adds nothing
        assert add_work_demo(c) == [] and _count(Stage) == 3
    login(client, "org")
    overview = client.get(f"/admin/campaigns/{ids['campaign']}?questionnaire=satisfaction").get_data(as_text=True)
    section = overview.split("补课单位:前后对比")[1].split("</table>")[0]
    assert "3 / 3" in section and ">已通过<" in section
    stages_page = client.get(f"/admin/campaigns/{ids['campaign']}/stages").get_data(as_text=True)
    assert 'data-target="fig-progress"' in stages_page
