"""The campaign's three stages and six steps, each unit's completions, and the progress chart.

The standard plan comes from the mobilisation speech: 学习调研 (认真组织学习, 深入开展调研),
分析检查 (召开专题民主生活会, 形成分析检查报告) and 整改落实 (制定整改落实方案, 集中解决
突出问题). A unit marks each step done with a date; the look-back checklists
(:mod:`evaluation.work.lookback`) sit between the stages. Progress is counted over the
campaign's active units of kind 单位, grouped by committee (:mod:`analysis.progress`).
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

import pandas as pd
from flask_babel import gettext
from sqlalchemy import select

from analysis.progress import progress_figure, progress_pivot, progress_table
from extensions import db
from models import AnalysisReport, Campaign, LookBack, Stage, Step, Unit, UnitKind, UnitStep

from evaluation.accounts.audit import record
from evaluation.results.dashboards import figure_json
from evaluation.work.lookback import LOOKBACKS
from evaluation.results.frames import unit_frame
from evaluation.services import N_, ServiceError, refusal
from evaluation.text_checks import refuse_control

STANDARD_PLAN = (
    ("学习调研", ("认真组织学习", "深入开展调研")),
    ("分析检查", ("召开专题民主生活会", "形成分析检查报告")),
    ("整改落实", ("制定整改落实方案", "集中解决突出问题")),
)


#: The step whose state is the report's own: done when the unit has submitted its analysis report
#: (evaluation/work/reports.py), whatever was marked by hand — a step must never read "已完成" while
#: the report reads "尚未提交".
REPORT_STEP = "形成分析检查报告"


def plan(campaign_id: int) -> list[Stage]:
    """The campaign's stages in order (their steps come ordered with them)."""
    return list(db.session.scalars(select(Stage).where(Stage.campaign_id == campaign_id).order_by(Stage.position)))


def _split_dates(starts: Optional[dt.date], ends: Optional[dt.date], parts: int) -> list[tuple]:
    """Cut the campaign's dates into ``parts`` consecutive spans (no dates → no dates)."""
    if starts is None or ends is None or ends < starts:
        return [(None, None)] * parts
    days = (ends - starts).days + 1
    edges = [starts + dt.timedelta(days=days * n // parts) for n in range(parts + 1)]
    return [(edges[n], edges[n + 1] - dt.timedelta(days=1)) for n in range(parts)]


def create_standard_plan(campaign: Campaign, user) -> list[Stage]:
    """Create the three stages and six steps; dates split the campaign's span evenly.

    Refused when the campaign already has stages (edit them instead).
    """
    if plan(campaign.id):
        raise ServiceError(refusal(N_("本活动已有阶段安排")))
    spans = _split_dates(campaign.starts_on, campaign.ends_on, len(STANDARD_PLAN))
    stages = []
    for position, ((name, steps), (starts, ends)) in enumerate(zip(STANDARD_PLAN, spans), start=1):
        stage = Stage(campaign_id=campaign.id, position=position, name=name, starts_on=starts, ends_on=ends)
        stage.steps = [Step(position=n, name=step) for n, step in enumerate(steps, start=1)]
        db.session.add(stage)
        stages.append(stage)
    record("stages_create", f"campaign:{campaign.id}", user, stages=len(stages))
    db.session.commit()
    return stages


def edit_stage(stage: Stage, name: str, starts_on: Optional[dt.date], ends_on: Optional[dt.date], user) -> None:
    """Rename a stage or change its dates."""
    name = (name or "").strip()
    refuse_control(name)
    if not name or len(name) > 100:
        raise ServiceError(refusal(N_("阶段名称须为 1 到 100 个字")))
    if starts_on and ends_on and ends_on < starts_on:
        raise ServiceError(refusal(N_("结束日期早于开始日期")))
    stage.name, stage.starts_on, stage.ends_on = name, starts_on, ends_on
    record("stage_edit", f"stage:{stage.id}", user, campaign_id=stage.campaign_id, name=name,
           starts_on=starts_on, ends_on=ends_on)
    db.session.commit()


def step_of(campaign_id: int, step_id: int) -> Optional[Step]:
    """A step of this campaign, or None."""
    step = db.session.get(Step, step_id)
    return step if step is not None and step.stage.campaign_id == campaign_id else None


def _report_step_ids(campaign_id: int) -> set[int]:
    return set(db.session.scalars(select(Step.id).join(Stage, Stage.id == Step.stage_id).where(
        Stage.campaign_id == campaign_id, Step.name == REPORT_STEP)))


def _reported(unit_ids) -> set[int]:
    """The units among ``unit_ids`` that have submitted an analysis report (any round)."""
    return set(db.session.scalars(select(AnalysisReport.unit_id).where(AnalysisReport.unit_id.in_(list(unit_ids)))))


def completions(unit_id: int) -> dict[int, UnitStep]:
    """step_id → the unit's completion record; the report step follows the report (see REPORT_STEP).

    A unit with a report but no hand-made mark gets a record without a date (not stored).
    """
    rows = {row.step_id: row for row in db.session.scalars(select(UnitStep).where(UnitStep.unit_id == unit_id))}
    unit = db.session.get(Unit, unit_id)
    report_steps = _report_step_ids(unit.campaign_id) if unit is not None else set()
    reported = bool(_reported([unit_id])) if report_steps else False
    for step_id in report_steps:
        if not reported:
            rows.pop(step_id, None)
        elif step_id not in rows:
            rows[step_id] = UnitStep(unit_id=unit_id, step_id=step_id, done_on=None, note="")
    return rows


def is_report_step(step: Step) -> bool:
    """True for the step whose state comes from the analysis report, not from a mark."""
    return step.name == REPORT_STEP


def set_done(unit: Unit, step: Step, done_on: dt.date, note: str, user) -> UnitStep:
    """Mark a step done for a unit on a date (or correct the date and note)."""
    if step.stage.campaign_id != unit.campaign_id:
        raise ServiceError(refusal(N_("该环节不属于本单位的活动")))
    refuse_control(note)
    if done_on is None:
        raise ServiceError(refusal(N_("请填写完成日期")))
    if is_report_step(step) and not _reported([unit.id]):
        raise ServiceError(refusal(N_("该环节随分析检查报告的提交完成,请先提交报告")))
    row = db.session.scalar(select(UnitStep).where(UnitStep.unit_id == unit.id, UnitStep.step_id == step.id))
    if row is None:
        row = UnitStep(unit_id=unit.id, step_id=step.id, done_on=done_on)
        db.session.add(row)
    row.done_on, row.note = done_on, (note or "").strip()[:1000]
    record("step_done", f"unit:{unit.id}", user, step_id=step.id, step=step.name, done_on=done_on)
    db.session.commit()
    return row


def clear_done(unit: Unit, step: Step, user) -> None:
    """Take back a step's completion (entered by mistake)."""
    row = db.session.scalar(select(UnitStep).where(UnitStep.unit_id == unit.id, UnitStep.step_id == step.id))
    if row is not None:
        db.session.delete(row)
        record("step_undone", f"unit:{unit.id}", user, step_id=step.id, step=step.name)
        db.session.commit()


def milestones(stages: list[Stage]) -> pd.DataFrame:
    """The ordered steps with each look-back after the stage it closes (key, label)."""
    after = {spec["after"]: kind for kind, spec in LOOKBACKS.items()}
    rows = []
    for stage in stages:
        rows += [{"key": f"step:{s.id}", "label": s.name} for s in stage.steps]
        if stage.position in after:
            kind = after[stage.position]
            rows.append({"key": f"lookback:{kind}", "label": gettext("回头看·%(title)s", title=LOOKBACKS[kind]["title"])})
    return pd.DataFrame(rows, columns=["key", "label"])


def counted_units(campaign_id: int, unit_ids: Optional[set[int]] = None) -> pd.DataFrame:
    """Active units of kind 单位 with their committee: whom progress is counted over."""
    frame = unit_frame([campaign_id])
    active = set(db.session.scalars(select(Unit.id).where(Unit.campaign_id == campaign_id, Unit.active)))
    frame = frame[(frame["kind"] == UnitKind.UNIT.value) & frame["unit_id"].isin(active)]
    if unit_ids is not None:
        frame = frame[frame["unit_id"].isin(unit_ids)]
    return frame[["unit_id", "unit", "committee_id", "committee"]]


def progress(campaign_id: int, unit_ids: Optional[set[int]] = None) -> dict:
    """Progress table (records and pivot rows) and the heatmap JSON for a campaign."""
    stages = plan(campaign_id)
    steps = milestones(stages)
    units = counted_units(campaign_id, unit_ids)
    ids = [int(i) for i in units["unit_id"]]
    step_rows = db.session.execute(select(UnitStep.unit_id, UnitStep.step_id).where(UnitStep.unit_id.in_(ids)))
    look_rows = db.session.execute(select(LookBack.unit_id, LookBack.kind).where(
        LookBack.unit_id.in_(ids), LookBack.completed_on.is_not(None)))
    report_steps = _report_step_ids(campaign_id)
    reported = _reported(ids) if report_steps else set()
    # The report step is the report's state (REPORT_STEP): marks without a report drop, reports count.
    pairs = {(u, s) for u, s in step_rows if s not in report_steps or u in reported}
    pairs |= {(u, s) for u in reported for s in report_steps}
    done = pd.DataFrame([(u, f"step:{s}") for u, s in sorted(pairs)] + [(u, f"lookback:{k}") for u, k in look_rows],
                        columns=["unit_id", "key"])
    table = progress_table(units, steps, done, translate=gettext)
    return {"stages": stages, "milestones": steps.to_dict("records"), "table": table,
            "rows": progress_pivot(table) if len(table) else [],
            "figure_json": figure_json(progress_figure(table, translate=gettext)) if len(table) else None}
