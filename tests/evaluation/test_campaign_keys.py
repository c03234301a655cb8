"""The overview's questionnaire choice (evaluation.results.frames.campaign_keys): rated surveys only.

Learning tests (quiz) and analysis-report reviews are evaluations too, but their results
live on the quiz and reports pages; listing them in the overview offered a "make-up"
ranking of quiz answers. Here they are the most used questionnaires of the campaign, so a
count over all evaluations would also have made one of them the default.
"""
from __future__ import annotations

import re

from work_data import login, make_accounts

from extensions import db
from models import Unit, UnitKind


def _setup(app, campaign) -> int:
    """Three units: satisfaction ×1, meeting ×2, learning test ×3, report review ×3 (via reports.submit)."""
    from evaluation.work import reports
    from evaluation.services import create_evaluation

    with app.app_context():
        committee = db.session.get(Unit, campaign["committee"])
        third = Unit(campaign_id=campaign["campaign"], parent=committee, code="U3", name="第三单位",
                     kind=UnitKind.UNIT, members=5)
        db.session.add(third)
        db.session.commit()
        units = campaign["units"] + [third.id]
        for unit_id in units[:2]:
            create_evaluation(unit_id, "meeting", open_now=True)
        for unit_id in units:
            create_evaluation(unit_id, "learning_test", ["党员"], open_now=True)
            reports.submit(unit_id, "一、学习调研情况", None)
    return campaign["campaign"]


def test_campaign_keys_lists_rated_surveys_most_used_first(app, campaign):
    from evaluation.results.frames import campaign_keys

    campaign_id = _setup(app, campaign)
    with app.app_context():
        assert campaign_keys(campaign_id) == ["meeting", "satisfaction"]


def test_overview_dropdown_offers_only_rated_surveys(app, client, campaign):
    campaign_id = _setup(app, campaign)
    make_accounts(app, campaign)
    login(client, "org")
    page = client.get(f"/admin/campaigns/{campaign_id}").get_data(as_text=True)
    select = page.split('name="questionnaire"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]+)"', select) == ["meeting", "satisfaction"]
    assert re.search(r'<option value="meeting"\s+selected', select)  # the most used is the default
    # Asking for a quiz or review key falls back to the default instead of ranking quiz answers.
    for key in ("learning_test", "report_review"):
        asked = client.get(f"/admin/campaigns/{campaign_id}?questionnaire={key}").get_data(as_text=True)
        assert re.search(r'<option value="meeting"\s+selected', asked.split('name="questionnaire"')[1])
