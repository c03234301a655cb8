"""The demo campaign's work through the three stages: plan, steps, suggestions, reports, rectification.

:func:`add_work_demo` takes any campaign with units and satisfaction results and adds,
once (it does nothing when the campaign already has stages):

- the standard plan, with every unit's steps and look-backs done more often in the
  early stages than in the late ones, so the progress chart shows the campaign moving;
- public suggestions to a few units, most of them moderated;
- analysis reports: one unit's report returned once (its review rated the opinion
  scope poorly) and passed in round 2, another passed at once, a third awaiting review;
- rectification items for some units, a few of them overdue;
- the make-up loop: the first unit flagged for make-up is decided, its linked items are
  done and its second evaluation is rated well, so it shows as passed.

Review and second-round ballots go through the normal ballot path (codes, tallies).
Deterministic for a given seed.
"""
from __future__ import annotations

import datetime as dt
import json
import random
from typing import Optional

from flask import current_app
from sqlalchemy import insert, select

import analysis
from extensions import db
from models import (
    AnalysisReport, Campaign, Evaluation, ItemKind, LookBack, RectificationItem, Suggestion, Unit, UnitKind, UnitStep,
)

from evaluation.work import reports, stages
from evaluation.days import local_today
from evaluation.work.lookback import LOOKBACKS
from evaluation.results.makeup import decide_makeup
from evaluation.results.frames import campaign_evaluation_ids, load_frames
from evaluation.services import issue_codes

#: Chance that a unit has done each of the six steps (and each look-back).
STEP_CHANCE = (0.97, 0.93, 0.85, 0.78, 0.5, 0.2)
LOOKBACK_CHANCE = {"three_comparisons": 0.9, "three_reviews": 0.7}
SUGGESTIONS = (
    ("ideas", "建议把社区服务中心建成一站式办事大厅。"), ("problems", "老旧小区停车难,希望统筹规划。"),
    ("conduct", "个别窗口工作人员态度生硬,应加强教育。"), ("institutions", "建议建立群众意见办理回访制度。"),
    ("other", "希望学习活动多结合群众身边的实事。"), ("problems", "夜间路灯损坏多日无人维修。"),
)
RECT_ITEMS = (
    ("简化审批办事流程", "immediate", "一窗受理、限时办结"), ("解决老旧小区停车难", "period", "分批改造停车位"),
    ("完善联系服务群众制度", "immediate", "领导干部定期接待群众"), ("争取上级支持改造供水管网", "hard", "向区委区政府提出建议"),
)
GOOD = 0  # first option of every review scale is positive
REPORT_TEXT = ("一、学习调研和征求意见情况\n二、存在的突出问题\n三、产生问题的原因分析\n"
               "四、今后的发展思路\n五、整改落实的主要措施")


def _submit(evaluation: Evaluation, group: str, sheets: list[list[int]]) -> None:
    """Store ballots through the normal path: one batch of codes, each redeemed with one sheet.

    A sheet lists the chosen option's index for each scale item, in order.
    """
    from surveys.ballots import SubmitResult, submit_ballot
    from surveys.codes import hash_code, normalise_code

    # Read ids before the first submit: every submit commits, which expires the ORM
    # objects, and reloading them per ballot is what made the demo slow.
    evaluation_id = evaluation.id
    group_id = next(g.id for g in evaluation.rater_groups if g.name == group)
    options = [(i.id, [o.id for o in i.scale.options]) for i in evaluation.questionnaire.items
               if i.kind is ItemKind.SCALE]
    key = current_app.config["CODE_KEY"]
    for code, sheet in zip(issue_codes(evaluation_id, group, len(sheets)), sheets):
        answers = [(item_id, 0, ids[c], None) for (item_id, ids), c in zip(options, sheet)]
        if submit_ballot(hash_code(normalise_code(code), key), evaluation_id, group_id, answers) \
                is not SubmitResult.STORED:
            raise RuntimeError(f"demo ballot not stored for evaluation {evaluation_id}")
    # The demo's voting for this round is over: count what is still sealed, as closing does.
    from surveys import box

    box.close([evaluation_id])


def _day_in(stage, rng: random.Random) -> dt.date:
    """A day within a stage's dates (today when it has none)."""
    if stage.starts_on and stage.ends_on:
        return stage.starts_on + dt.timedelta(days=rng.randint(0, (stage.ends_on - stage.starts_on).days))
    return local_today()


def _steps(campaign: Campaign, unit_ids: list[int], rng: random.Random) -> None:
    """The standard plan, and each unit's steps and look-backs (two bulk inserts: ~1,500 rows)."""
    campaign_id = campaign.id
    plan = stages.create_standard_plan(campaign, None)
    steps = [(stage, step.id) for stage in plan for step in stage.steps]
    ends = {kind: plan[LOOKBACKS[kind]["after"] - 1].ends_on or local_today() for kind in LOOKBACK_CHANCE}
    answers = json.dumps([{"answer": a, "note": ""} for a in ("yes", "yes", "partly")])
    done, looked = [], []
    for unit_id in unit_ids:
        for (stage, step_id), chance in zip(steps, STEP_CHANCE):
            if rng.random() < chance:
                done.append({"unit_id": unit_id, "step_id": step_id, "done_on": _day_in(stage, rng), "note": ""})
        for kind, chance in LOOKBACK_CHANCE.items():
            if rng.random() < chance:
                looked.append({"campaign_id": campaign_id, "unit_id": unit_id, "kind": kind, "answers": answers,
                               "completed_on": ends[kind]})
    db.session.execute(insert(UnitStep), done)
    db.session.execute(insert(LookBack), looked)
    db.session.commit()


def _suggestions(campaign_id: int, unit_ids: list[int], rng: random.Random) -> int:
    count = 0
    for unit_id in unit_ids[:8]:
        for category, text in rng.sample(SUGGESTIONS, 3):
            status = rng.choice(("approved", "approved", "rejected", "pending"))
            day = local_today() - dt.timedelta(days=rng.randint(0, 20))
            db.session.add(Suggestion(campaign_id=campaign_id, unit_id=unit_id, category=category, text=text,
                                      status=status, submitted_on=day))
            count += 1
    db.session.commit()
    return count


def _review(unit_id: int, group: str, scope_wide: bool, n: int = 9) -> reports.AnalysisReport:
    """A report round rated by ``n`` raters; unless ``scope_wide`` most call its opinion scope 不广."""
    report = reports.submit(unit_id, REPORT_TEXT, None)
    _submit(report.evaluation, group, [[GOOD if scope_wide or k < 2 else 2] + [GOOD] * 6 for k in range(n)])
    return report


def _reports(units: list[int], group: str) -> None:
    returned = _review(units[0], group, scope_wide=False)
    reports.record_verdict(returned, {"problems": True, "thinking": True, "measures": True},
                           "征求意见范围不广,请扩大到服务对象和两代表一委员。", None)
    reports.record_verdict(_review(units[0], group, scope_wide=True),
                           {c.key: True for c in reports.CONDITIONS}, "", None)
    reports.record_verdict(_review(units[1], group, scope_wide=True), {c.key: True for c in reports.CONDITIONS},
                           "", None)
    _review(units[2], group, scope_wide=True, n=4)  # awaiting more ballots and the verdict


def _rectification(campaign_id: int, unit_ids: list[int], rng: random.Random) -> None:
    today = local_today()
    for n, unit_id in enumerate(unit_ids[:6]):
        for project, category, measures in RECT_ITEMS[: 2 + n % 3]:
            overdue = rng.random() < 0.25
            deadline = today + dt.timedelta(days=-rng.randint(3, 30) if overdue else rng.randint(10, 90))
            status = "in_progress" if overdue else rng.choice(("planned", "in_progress", "done"))
            db.session.add(RectificationItem(
                campaign_id=campaign_id, unit_id=unit_id, project=project, goal="群众满意", deadline=deadline,
                measures=measures, responsible="单位主要负责同志", commitment=f"{deadline.isoformat()}前完成",
                category=category, status=status, done_on=today if status == "done" else None))
    db.session.commit()


def _makeup_loop(campaign_id: int) -> Optional[int]:
    """Decide make-up for the first flagged unit, rectify it and re-evaluate it well."""
    ids = campaign_evaluation_ids(campaign_id, "satisfaction")
    results = analysis.unit_results(*load_frames(ids, per_option=False).args())
    flagged = results[results["needs_makeup"]].sort_values("unit_id")
    if not len(flagged):
        return None
    decision = decide_makeup(int(flagged["evaluation_id"].iloc[0]), None)
    for project, category, measures in RECT_ITEMS[:3]:
        db.session.add(RectificationItem(
            campaign_id=campaign_id, unit_id=decision.unit_id, project=project, goal="群众满意",
            deadline=local_today(), measures=measures, responsible="单位主要负责同志", commitment="补课期间完成",
            category=category, status="done", done_on=local_today(), makeup_id=decision.id))
    unit_id, followup_id = decision.unit_id, decision.followup_id
    db.session.commit()
    followup = db.session.get(Evaluation, followup_id)
    n_items = len([i for i in followup.questionnaire.items if i.kind is ItemKind.SCALE])
    # Every group rates again, mostly satisfied (1 answer in 5 is 不满意): ~80%, a clear pass.
    names = [g.name for g in followup.rater_groups]
    per_group = -(-max(followup.min_ballots, 12) // len(names))
    for g, name in enumerate(names):
        _submit(followup, name, [[3 if (k + j + g) % 5 == 0 else (k + j) % 3 for j in range(n_items)]
                                 for k in range(per_group)])
    return unit_id


def add_work_demo(campaign: Campaign, seed: int = 2009) -> list[str]:
    """Add the campaign work described above unless the campaign has stages; return notes."""
    if stages.plan(campaign.id):
        return []
    rng = random.Random(seed + 8)
    # Plain ids from here on: the steps below commit, and touching expired ORM objects
    # would reload them one query at a time.
    campaign_id = campaign.id
    unit_ids = list(db.session.scalars(select(Unit.id).where(Unit.campaign_id == campaign_id, Unit.active,
                                                             Unit.kind == UnitKind.UNIT).order_by(Unit.id)))
    if not unit_ids or not campaign.rater_groups:
        return []
    group = next((g.name for g in campaign.rater_groups if g.name == "群众代表"), campaign.rater_groups[0].name)
    _steps(campaign, unit_ids, rng)
    n_suggestions = _suggestions(campaign_id, unit_ids, rng)
    made_up = _makeup_loop(campaign_id)
    others = [u for u in unit_ids if u != made_up]
    # An older demo may already hold reports someone submitted by hand; a new round for
    # those units would be refused, so the demo's reports go to units without any.
    reported = set(db.session.scalars(select(AnalysisReport.unit_id).where(AnalysisReport.campaign_id == campaign_id)))
    fresh = [u for u in others if u not in reported]
    if len(fresh) >= 3:
        _reports(fresh, group)
    _rectification(campaign_id, others, rng)
    note = (f"已加入阶段与环节、{n_suggestions} 条意见、分析检查报告和整改项目 / stages, steps, "
            f"{n_suggestions} suggestions, reports and rectification added")
    if made_up:
        name = db.session.get(Unit, made_up).name
        note += f";补课单位 {name} 已整改并通过第二轮测评 / make-up unit {name} rectified and passed round 2"
    return [note]
