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
from sqlalchemy import select

import analysis
from extensions import db
from models import Campaign, Evaluation, ItemKind, LookBack, RectificationItem, Suggestion, Unit, UnitKind, UnitStep

from . import reports, stages
from .days import local_today
from .lookback import LOOKBACKS
from .makeup import decide_makeup
from .results import campaign_evaluation_ids, load_frames
from .services import issue_codes

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


def _submit(evaluation: Evaluation, group: str, choices: list[int]) -> None:
    """Store one ballot through the normal path (a code issued and redeemed at once)."""
    from surveys.ballots import submit_ballot
    from surveys.codes import hash_code, normalise_code

    code = issue_codes(evaluation.id, group, 1)[0]
    group_id = next(g.id for g in evaluation.rater_groups if g.name == group)
    items = [i for i in evaluation.questionnaire.items if i.kind is ItemKind.SCALE]
    answers = [(item.id, 0, item.scale.options[c].id, None) for item, c in zip(items, choices)]
    submit_ballot(hash_code(normalise_code(code), current_app.config["CODE_KEY"]), evaluation.id, group_id, answers)


def _day_in(stage, rng: random.Random) -> dt.date:
    """A day within a stage's dates (today when it has none)."""
    if stage.starts_on and stage.ends_on:
        return stage.starts_on + dt.timedelta(days=rng.randint(0, (stage.ends_on - stage.starts_on).days))
    return local_today()


def _steps(campaign: Campaign, units: list[Unit], rng: random.Random) -> None:
    plan = stages.create_standard_plan(campaign, None)
    steps = [(stage, step) for stage in plan for step in stage.steps]
    for unit in units:
        for (stage, step), chance in zip(steps, STEP_CHANCE):
            if rng.random() < chance:
                db.session.add(UnitStep(unit_id=unit.id, step_id=step.id, done_on=_day_in(stage, rng)))
        for kind, chance in LOOKBACK_CHANCE.items():
            if rng.random() < chance:
                stage = plan[LOOKBACKS[kind]["after"] - 1]
                answers = json.dumps([{"answer": a, "note": ""} for a in ("yes", "yes", "partly")])
                db.session.add(LookBack(campaign_id=campaign.id, unit_id=unit.id, kind=kind, answers=answers,
                                        completed_on=stage.ends_on or local_today()))
    db.session.commit()


def _suggestions(units: list[Unit], rng: random.Random) -> int:
    count = 0
    for unit in units[:8]:
        for category, text in rng.sample(SUGGESTIONS, 3):
            status = rng.choice(("approved", "approved", "rejected", "pending"))
            day = local_today() - dt.timedelta(days=rng.randint(0, 20))
            db.session.add(Suggestion(campaign_id=unit.campaign_id, unit_id=unit.id, category=category, text=text,
                                      status=status, submitted_on=day))
            count += 1
    db.session.commit()
    return count


def _review(unit: Unit, group: str, scope_wide: bool, n: int = 9) -> reports.AnalysisReport:
    report = reports.submit(unit.id, REPORT_TEXT, None)
    for k in range(n):
        _submit(report.evaluation, group, [GOOD if scope_wide or k < 2 else 2] + [GOOD] * 6)
    return report


def _reports(units: list[Unit], group: str) -> None:
    returned = _review(units[0], group, scope_wide=False)
    reports.record_verdict(returned, {"problems": True, "thinking": True, "measures": True},
                           "征求意见范围不广,请扩大到服务对象和两代表一委员。", None)
    reports.record_verdict(_review(units[0], group, scope_wide=True),
                           {c.key: True for c in reports.CONDITIONS}, "", None)
    reports.record_verdict(_review(units[1], group, scope_wide=True), {c.key: True for c in reports.CONDITIONS},
                           "", None)
    _review(units[2], group, scope_wide=True, n=4)  # awaiting more ballots and the verdict


def _rectification(units: list[Unit], rng: random.Random) -> None:
    today = local_today()
    for n, unit in enumerate(units[:6]):
        for project, category, measures in RECT_ITEMS[: 2 + n % 3]:
            overdue = rng.random() < 0.25
            deadline = today + dt.timedelta(days=-rng.randint(3, 30) if overdue else rng.randint(10, 90))
            status = "in_progress" if overdue else rng.choice(("planned", "in_progress", "done"))
            db.session.add(RectificationItem(
                campaign_id=unit.campaign_id, unit_id=unit.id, project=project, goal="群众满意", deadline=deadline,
                measures=measures, responsible="单位主要负责同志", commitment=f"{deadline.isoformat()}前完成",
                category=category, status=status, done_on=today if status == "done" else None))
    db.session.commit()


def _makeup_loop(campaign: Campaign, group: str) -> Optional[int]:
    """Decide make-up for the first flagged unit, rectify it and re-evaluate it well."""
    ids = campaign_evaluation_ids(campaign.id, "satisfaction")
    results = analysis.unit_results(*load_frames(ids).args())
    flagged = results[results["needs_makeup"]].sort_values("unit_id")
    if not len(flagged):
        return None
    decision = decide_makeup(int(flagged["evaluation_id"].iloc[0]), None)
    for project, category, measures in RECT_ITEMS[:3]:
        db.session.add(RectificationItem(
            campaign_id=campaign.id, unit_id=decision.unit_id, project=project, goal="群众满意",
            deadline=local_today(), measures=measures, responsible="单位主要负责同志", commitment="补课期间完成",
            category=category, status="done", done_on=local_today(), makeup_id=decision.id))
    db.session.commit()
    followup = db.session.get(Evaluation, decision.followup_id)
    n_items = len([i for i in followup.questionnaire.items if i.kind is ItemKind.SCALE])
    for _ in range(max(followup.min_ballots, 10)):
        _submit(followup, group, [0] * n_items)
    return decision.unit_id


def add_work_demo(campaign: Campaign, seed: int = 2009) -> list[str]:
    """Add the campaign work described above unless the campaign has stages; return notes."""
    if stages.plan(campaign.id):
        return []
    rng = random.Random(seed + 8)
    units = list(db.session.scalars(select(Unit).where(Unit.campaign_id == campaign.id, Unit.active,
                                                       Unit.kind == UnitKind.UNIT).order_by(Unit.id)))
    if not units or not campaign.rater_groups:
        return []
    group = next((g.name for g in campaign.rater_groups if g.name == "群众代表"), campaign.rater_groups[0].name)
    _steps(campaign, units, rng)
    n_suggestions = _suggestions(units, rng)
    made_up = _makeup_loop(campaign, group)
    others = [u for u in units if u.id != made_up]
    if len(others) >= 3:
        _reports(others, group)
    _rectification(others, rng)
    return [f"阶段与环节、{n_suggestions} 条意见、分析检查报告、整改项目已加入 / stages, {n_suggestions} suggestions, "
            "reports and rectification added" + (f"; 补课单位 {made_up} 已整改并通过第二轮" if made_up else "")]
