"""The demo campaign's learning test (学习成果测试): ten units, simulated answer sheets.

Party members (党员) of ten units, spread over the committees, take the catalog quiz
``learning_test``. Each unit has its own level, so pass rates range from nearly all
to under half; one unit has too few participants to be shown to its liaison.
Right fill-in answers are sometimes typed in full width or with stray spaces, as
people do, and still score. Deterministic: its own random generator, seeded from the
demo's seed, so adding it never changes the satisfaction ballots.
"""
from __future__ import annotations

import datetime as dt
import json
import random

from flask import current_app
from sqlalchemy import insert, select

from extensions import db
from models import (
    Answer, Ballot, BallotCode, Campaign, CodeBatch, CodeStatus, Evaluation, EvaluationStatus, Item, ItemKind,
    Questionnaire, RaterGroup, Unit, UnitKind, random_id,
)
from surveys import tallies
from surveys.catalog import latest
from surveys.codes import generate_code, hash_code

QUIZ_KEY = "learning_test"
N_QUIZ_UNITS = 10
#: Chance of a right answer per unit, best first; the unit at index 9 has only five participants.
LEVELS = (0.97, 0.93, 0.9, 0.87, 0.84, 0.8, 0.76, 0.7, 0.62, 0.85)
FEW = 9
WRONG_FILLS = ("不知道", "发展", "统筹", "整改", "100")


def has_quiz(campaign: Campaign) -> bool:
    """True when the campaign already has a learning-test evaluation."""
    return db.session.scalar(
        select(Evaluation.id).join(Questionnaire, Questionnaire.id == Evaluation.questionnaire_id)
        .where(Evaluation.campaign_id == campaign.id, Questionnaire.kind == "quiz").limit(1)) is not None


def _typed(answer: str, rng: random.Random) -> str:
    """A right answer as someone might type it: sometimes full width, sometimes with spaces."""
    roll = rng.random()
    if roll < 0.15:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in answer)
    if roll < 0.25:
        return f" {answer} "
    return answer


def _answer(item: Item, right: bool, rng: random.Random) -> list[tuple[int | None, str | None]]:
    """(option_id, text) rows of one simulated answer to one quiz item."""
    if item.kind is ItemKind.FILL:
        if not right:
            return [] if rng.random() < 0.2 else [(None, rng.choice(WRONG_FILLS))]
        return [(None, _typed(json.loads(item.accepted)[0], rng))]
    good = [o.id for o in item.scale.options if o.correct]
    bad = [o.id for o in item.scale.options if not o.correct]
    if item.kind is ItemKind.SINGLE:
        return [(good[0] if right else rng.choice(bad), None)]
    if right:
        return [(o, None) for o in sorted(good)]
    if rng.random() < 0.5 and len(good) > 1:  # one right option forgotten
        chosen = sorted(rng.sample(good, len(good) - 1))
    else:  # one wrong option added
        chosen = sorted(good + [rng.choice(bad)])
    return [(o, None) for o in chosen]


def add_quiz_demo(campaign: Campaign, seed: int = 2009) -> int:
    """Add the learning test to the demo campaign unless it has one; return the ballots added.

    The caller commits. Units: every 27th unit of the campaign, ten in all.
    """
    if has_quiz(campaign):
        return 0
    rng = random.Random(seed + 1)
    questionnaire = latest(QUIZ_KEY)
    questionnaire.frozen = True
    group = db.session.scalar(select(RaterGroup).where(RaterGroup.campaign_id == campaign.id,
                                                       RaterGroup.name == "党员"))
    units = db.session.scalars(select(Unit).where(Unit.campaign_id == campaign.id, Unit.kind == UnitKind.UNIT)
                               .order_by(Unit.id)).all()[::27][:N_QUIZ_UNITS]
    evaluations = [Evaluation(campaign=campaign, unit=u, questionnaire=questionnaire, rater_groups=[group],
                              status=EvaluationStatus.OPEN) for u in units]
    db.session.add_all(evaluations)
    db.session.flush()
    items = [i for i in questionnaire.items if i.kind in (ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.FILL)]
    key, today = current_app.config["CODE_KEY"], dt.date.today()
    codes, ballots, answers = [], [], []
    for n, evaluation in enumerate(evaluations):
        takers = 5 if n == FEW else rng.randint(10, 18)
        batch = CodeBatch(evaluation_id=evaluation.id, rater_group_id=group.id, count=takers + 2)
        db.session.add(batch)
        db.session.flush()
        for t in range(takers + 2):
            used = t < takers
            codes.append({"code_hash": hash_code(generate_code(), key), "evaluation_id": evaluation.id,
                          "rater_group_id": group.id, "batch_id": batch.id,
                          "status": CodeStatus.USED if used else CodeStatus.UNUSED})
            if not used:
                continue
            ballot_id = random_id()
            ballots.append({"id": ballot_id, "evaluation_id": evaluation.id, "rater_group_id": group.id,
                            "submitted_on": today - dt.timedelta(days=rng.randint(0, 6))})
            level = LEVELS[n] + rng.uniform(-0.08, 0.08)
            for item in items:
                hard = 0.12 if item.kind is ItemKind.MULTIPLE else 0.0
                for seq, (option_id, text) in enumerate(_answer(item, rng.random() < level - hard, rng)):
                    answers.append({"ballot_id": ballot_id, "item_id": item.id, "seq": seq,
                                    "option_id": option_id, "text": text})
    db.session.execute(insert(BallotCode), codes)
    db.session.execute(insert(Ballot), ballots)
    db.session.execute(insert(Answer), answers)
    # The simulated ballots bypass the ballot path, so count them once here.
    tallies.rebuild(db.session, [e.id for e in evaluations])
    return len(ballots)
