"""The demo campaign at the seed speech's scale, built deterministically.

14 committees, 272 units, 440 branches and 7,314 members; rater groups
党员, 群众代表, 服务对象; one open satisfaction evaluation per unit with
simulated ballots. A handful of units are clearly dissatisfied (they must
make up, 补课), a few sit on the boundary, and a few have too few ballots to
be judged. Ten units also have a learning test (学习成果测试) with simulated
answer sheets (:mod:`evaluation.demo.quiz`), and the campaign walks through its
three stages (:mod:`evaluation.demo.work`): steps and look-backs per unit,
suggestions, analysis reports (one returned, then passed), rectification items and
a make-up unit that passes its second round. The same seed gives the same
campaign every time.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, insert, select

from extensions import db
from models import (
    Answer, Ballot, BallotCode, Campaign, CodeBatch, CodeStatus, Evaluation, EvaluationStatus, ItemKind,
    Polarity, RaterGroup, Unit, UnitKind, random_id,
)
from surveys.catalog import latest, load_catalog
from surveys import tallies
from surveys.codes import generate_code, hash_code

from evaluation.demo.quiz import add_quiz_demo
from evaluation.demo.work import add_work_demo

CAMPAIGN_NAME = "惠城区第二批深入学习实践科学发展观活动(演示)"
N_COMMITTEES, N_UNITS, N_BRANCHES, N_MEMBERS = 14, 272, 440, 7314
GROUPS = ("党员", "群众代表", "服务对象")
COMMITTEES = (
    "区直机关工委", "区教育工委", "区卫生工委", "区经贸工委", "区农业工委", "区政法工委", "江南街道党工委",
    "江北街道党工委", "桥东街道党工委", "桥西街道党工委", "河南岸街道党工委", "龙丰街道党工委",
    "小金口街道党工委", "水口街道党工委",
)
DISSATISFIED = {7, 41, 88, 133, 190, 251}   # unit numbers that must make up
BORDERLINE = {15, 102, 222}                 # two items low: flagged items, unit not flagged
TOO_FEW = {60, 170}                         # fewer ballots than min_ballots: not judged
COMMENTS = (
    "希望进一步简化办事流程,减少群众跑腿次数。", "整改措施要公开,定期通报进展。",
    "领导干部要多下基层听取意见。", "建议加强对困难群众的帮扶力度。", "学习活动形式可以更灵活一些。",
    "社区停车难问题希望尽快解决。", "窗口服务态度明显改善,值得肯定。",
)


@dataclass
class DemoSummary:
    """What the demo command reports."""

    created: bool
    campaign_id: int
    units: int = 0
    ballots: int = 0
    notes: list[str] = field(default_factory=list)


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split ``total`` into ``parts`` positive integers that add up exactly (largest remainder)."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [max(1, int(r)) for r in raw]
    order = sorted(range(parts), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    i = 0
    while sum(counts) < total:
        counts[order[i % parts]] += 1
        i += 1
    return counts


def _build_tree(campaign: Campaign, rng: random.Random) -> list[Unit]:
    """Committees, units and branches with member counts summing to the seed's figures."""
    unit_members = _split(N_MEMBERS, N_UNITS, rng)
    committees = [Unit(campaign=campaign, code=f"C{i + 1:02d}", name=name, kind=UnitKind.COMMITTEE, members=0)
                  for i, name in enumerate(COMMITTEES)]
    units: list[Unit] = []
    second_branch = set(rng.sample(range(N_UNITS), N_BRANCHES - N_UNITS))
    for n in range(N_UNITS):
        committee = committees[n % N_COMMITTEES]
        short = committee.name.removesuffix("党工委").removesuffix("工委")
        label = f"{short}第{n // N_COMMITTEES + 1:02d}社区" if "街道" in short else \
            f"{short}系统第{n // N_COMMITTEES + 1:02d}单位"
        unit = Unit(campaign=campaign, parent=committee, code=f"U{n + 1:03d}", name=label, kind=UnitKind.UNIT,
                    members=unit_members[n])
        committee.members += unit.members
        branches = 2 if n in second_branch else 1
        shares = _split(unit.members, branches, rng) if unit.members >= branches else [unit.members, 0][:branches]
        for b, members in enumerate(shares):
            Unit(campaign=campaign, parent=unit, code=f"U{n + 1:03d}-B{b + 1}",
                 name=f"{unit.name}第{b + 1}支部", kind=UnitKind.BRANCH, members=members)
        units.append(unit)
    db.session.add_all(committees)
    return units


def _option_weights(polarities: list[Polarity], p_negative: float) -> list[float]:
    """Chance of each option: negative share ``p_negative``, a little unknown, rest positive."""
    n_pos = polarities.count(Polarity.POSITIVE) or 1
    weights = []
    for pol in polarities:
        if pol is Polarity.NEGATIVE:
            weights.append(p_negative)
        elif pol is Polarity.UNKNOWN:
            weights.append(0.04)
        else:
            weights.append((0.96 - p_negative) / n_pos)
    return weights


def build_demo(seed: int = 2009) -> DemoSummary:
    """Create the demo campaign unless it exists; return what was done.

    A demo campaign built before learning tests or the stages' work existed gets
    the missing parts added (once each); otherwise an existing campaign is left
    exactly as it is.
    """
    load_catalog()
    existing = db.session.scalar(select(Campaign).where(Campaign.name == CAMPAIGN_NAME))
    if existing is not None:
        added = add_quiz_demo(existing, seed)
        db.session.commit()
        notes = [f"已补充学习成果测试 / learning test added: {added} ballots"] if added else []
        notes += add_work_demo(existing, seed)
        return DemoSummary(False, existing.id, ballots=added, notes=notes)
    rng = random.Random(seed)
    key = current_app.config["CODE_KEY"]
    campaign = Campaign(name=CAMPAIGN_NAME, starts_on=dt.date(2009, 3, 20), ends_on=dt.date(2009, 9, 30))
    groups = [RaterGroup(campaign=campaign, name=name) for name in GROUPS]
    db.session.add(campaign)
    units = _build_tree(campaign, rng)
    questionnaire = latest("satisfaction")
    questionnaire.frozen = True
    evaluations = [Evaluation(campaign=campaign, unit=u, questionnaire=questionnaire, rater_groups=groups,
                              status=EvaluationStatus.OPEN) for u in units]
    db.session.add_all(evaluations)
    db.session.flush()
    scale_items = [i for i in questionnaire.items if i.kind is ItemKind.SCALE]
    text_item = next(i for i in questionnaire.items if i.kind is ItemKind.TEXT)
    options = scale_items[0].scale.options
    polarities = [o.polarity for o in options]
    today = dt.date.today()
    codes, ballots, answers = [], [], []
    for n, evaluation in enumerate(evaluations, start=1):
        for group in groups:
            voters = 2 if n in TOO_FEW else {"党员": rng.randint(8, 16), "群众代表": rng.randint(3, 7),
                                             "服务对象": rng.randint(2, 5)}[group.name]
            batch = CodeBatch(evaluation_id=evaluation.id, rater_group_id=group.id, count=voters + 3)
            db.session.add(batch)
            db.session.flush()
            for v in range(voters + 3):
                used = v < voters
                codes.append({"code_hash": hash_code(generate_code(), key), "evaluation_id": evaluation.id,
                              "rater_group_id": group.id, "batch_id": batch.id,
                              "status": CodeStatus.USED if used else CodeStatus.UNUSED})
                if not used:
                    continue
                ballot_id = random_id()
                ballots.append({"id": ballot_id, "evaluation_id": evaluation.id, "rater_group_id": group.id,
                                "submitted_on": today - dt.timedelta(days=rng.randint(0, 6))})
                for k, item in enumerate(scale_items):
                    if n in DISSATISFIED:
                        p_neg = 0.55 if k < 5 else 0.2
                    elif n in BORDERLINE:
                        p_neg = 0.5 if k in (1, 2) else 0.05
                    else:
                        p_neg = rng.choice((0.03, 0.06, 0.1))
                    option = rng.choices(options, weights=_option_weights(polarities, p_neg))[0]
                    answers.append({"ballot_id": ballot_id, "item_id": item.id, "seq": 0,
                                    "option_id": option.id, "text": None})
                if rng.random() < 0.08:
                    answers.append({"ballot_id": ballot_id, "item_id": text_item.id, "seq": 0,
                                    "option_id": None, "text": rng.choice(COMMENTS)})
    db.session.execute(insert(BallotCode), codes)
    db.session.execute(insert(Ballot), ballots)
    db.session.execute(insert(Answer), answers)
    # The simulated ballots bypass the ballot path, so count them once here.
    tallies.rebuild(db.session, [e.id for e in evaluations])
    quiz_ballots = add_quiz_demo(campaign, seed)  # its own random generator: the ballots above stay the same
    db.session.commit()
    # After the commit: the work reads the stored results (which unit must make up) and
    # sends its review and second-round ballots through the normal ballot path.
    notes = add_work_demo(campaign, seed)
    work_ballots = db.session.scalar(select(func.count(Ballot.id)).join(Evaluation)
                                     .where(Evaluation.campaign_id == campaign.id)) - len(ballots) - quiz_ballots
    return DemoSummary(True, campaign.id, units=len(units), ballots=len(ballots) + quiz_ballots + work_ballots,
                       notes=notes)
