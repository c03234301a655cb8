"""A small campaign for the browser tests, stored through the same code raters use.

Two committees, five units, three rater groups, one open satisfaction evaluation
per unit. Ballots go in through :func:`surveys.ballots.submit_ballot` (so the
running tallies the dashboards read are right), about 50 in all — far lighter
than ``evaluation/demo.build_demo`` and enough for every page to show something:

=================  ==============  =======  ==============================
unit               committee       ballots  result
=================  ==============  =======  ==============================
区发展和改革局       区直机关工委       10       satisfied
区财政局            区直机关工委       10       satisfied
区教育局            区直机关工委        5       not judged (fewer than 8)
祝屋巷社区          江南街道党工委      10       satisfied
下角社区            江南街道党工委      12       needs make-up (most items 不满意)
=================  ==============  =======  ==============================

Every unit also has unused codes for the rater tests.
"""
from __future__ import annotations

import random

from extensions import db

PASSWORD = "e2e-organiser-pass-1"
CAMPAIGN_NAME = "惠城区深入学习实践科学发展观活动(示例)"
GROUPS = ("党员", "群众代表", "服务对象")
COMMITTEES = {
    "区直机关工委": [("区发展和改革局", 10, 0.05), ("区财政局", 10, 0.12), ("区教育局", 5, 0.1)],
    "江南街道党工委": [("祝屋巷社区", 10, 0.08), ("下角社区", 12, 0.7)],
}
FLAGGED = "下角社区"
#: A liaison account and the unit it is scoped to (the ``seeded`` fixture creates it).
LIAISON = ("liaison-e2e", "区财政局")
NOT_JUDGED = "区教育局"
COMMENTS = ("希望继续加强窗口服务,减少群众跑腿。", "整改措施要落到实处,定期公开进展。")


def _ballot_answers(rng: random.Random, scale_items, text_item, p_negative: float) -> list[tuple]:
    """One ballot's answers: mostly positive options, 不满意 with probability ``p_negative``."""
    answers = []
    for item in scale_items:
        options = item.scale.options  # 满意, 比较满意, 基本满意, 不满意, 不了解
        roll = rng.random()
        if roll < p_negative:
            option = options[3]
        elif roll > 0.97:
            option = options[4]
        else:
            option = options[rng.choice((0, 0, 1, 1, 2))]
        answers.append((item.id, 0, option.id, None))
    if rng.random() < 0.15:
        answers.append((text_item.id, 0, None, rng.choice(COMMENTS)))
    return answers


def seed_campaign(app, ballots: bool = True, spare_codes: int = 2) -> dict:
    """Build the campaign above and an organiser ``e2e-organiser``; return ids and spare codes.

    Returns ``{"campaign", "committees": {name: id}, "units": {name: id},
    "evaluations": {unit name: id}, "codes": {unit name: [plain codes]}, "organiser"}``.
    """
    from evaluation.services import create_evaluation, create_user, get_or_create_groups, issue_codes
    from models import Campaign, ItemKind, Unit, UnitKind
    from surveys.ballots import SubmitResult, submit_ballot
    from surveys.codes import hash_code, normalise_code

    rng = random.Random(2009)
    with app.app_context():
        key = app.config["CODE_KEY"]
        campaign = Campaign(name=CAMPAIGN_NAME)
        db.session.add(campaign)
        committees, units = {}, {}
        for n, (committee_name, members) in enumerate(COMMITTEES.items(), start=1):
            committee = Unit(campaign=campaign, code=f"C{n}", name=committee_name, kind=UnitKind.COMMITTEE,
                             members=0)
            committees[committee_name] = committee
            for m, (unit_name, _, _) in enumerate(members, start=1):
                units[unit_name] = Unit(campaign=campaign, parent=committee, code=f"U{n}{m}", name=unit_name,
                                        kind=UnitKind.UNIT, members=30)
        db.session.add_all([*committees.values(), *units.values()])
        group_rows = get_or_create_groups(campaign, list(GROUPS))
        db.session.commit()
        groups = {g.name: g.id for g in group_rows}
        result = {"campaign": campaign.id, "committees": {k: v.id for k, v in committees.items()},
                  "units": {k: v.id for k, v in units.items()}, "evaluations": {}, "codes": {},
                  "organiser": "e2e-organiser"}
        for members in COMMITTEES.values():
            for unit_name, n_ballots, p_negative in members:
                evaluation = create_evaluation(result["units"][unit_name], "satisfaction", open_now=True)
                result["evaluations"][unit_name] = evaluation.id
                items = list(evaluation.questionnaire.items)
                scale_items = [i for i in items if i.kind is ItemKind.SCALE]
                text_item = next(i for i in items if i.kind is ItemKind.TEXT)
                for b in range(n_ballots if ballots else 0):
                    group = GROUPS[0] if b % 2 == 0 else GROUPS[1 + b % 4 // 2]
                    code = issue_codes(evaluation.id, group, 1)[0]
                    answers = _ballot_answers(rng, scale_items, text_item, p_negative)
                    stored = submit_ballot(hash_code(normalise_code(code), key), evaluation.id, groups[group],
                                           answers)
                    assert stored is SubmitResult.STORED
                # this round of voting is over: count what is still sealed, as closing does (the
                # evaluation stays open for the spare codes the tests vote with)
                from surveys import box

                box.close([evaluation.id])
                result["codes"][unit_name] = issue_codes(evaluation.id, GROUPS[0], spare_codes) \
                    if spare_codes else []
        create_user(result["organiser"], PASSWORD, "organiser")
    return result
