"""CLI for the ballot box: ``flask --app app evaluations close ID…`` and ``flask --app app box …``.

Closing is what counts the last sealed ballots (the final batch) and scrubs the
order ballots were counted in; ``box settle`` does the same for evaluations that
stopped accepting ballots on their own (their window ended), for a cron job;
``box status`` says how many ballots wait sealed in each evaluation's box.
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from extensions import db
from ids import get_by_id
from models import Evaluation, EvaluationStatus
from surveys import box

from evaluation.accounts import audit


def register_box(app: Flask, evaluations: click.Group) -> None:
    """Add ``evaluations close`` to the evaluations group and the ``box`` group to ``app.cli``."""
    evaluations.add_command(close_command)
    app.cli.add_command(box_group)


@click.command("close")
@click.argument("evaluation_ids", type=int, nargs=-1, required=True)
@with_appcontext
def close_command(evaluation_ids: tuple[int, ...]) -> None:
    """Close evaluations: no more ballots; every sealed ballot is counted and the order scrubbed."""
    found = []
    for evaluation_id in evaluation_ids:
        evaluation = get_by_id(Evaluation, evaluation_id)
        if evaluation is None:
            raise click.ClickException(f"测评 {evaluation_id} 不存在 / No evaluation with id {evaluation_id}.")
        found.append(evaluation)
    changed = [e.id for e in found if e.status is EvaluationStatus.OPEN]
    for evaluation in found:
        if evaluation.status is EvaluationStatus.OPEN:
            evaluation.status = EvaluationStatus.CLOSED
    if changed:
        audit.record("evaluation_close", "cli", count=len(changed), evaluation_ids=changed)
    db.session.commit()
    counted = box.close([e.id for e in found])
    for evaluation_id in sorted(counted):
        click.echo(f"{evaluation_id}\t{counted[evaluation_id]}")
    click.echo(f"已结束 {len(changed)} 个测评,开箱计票 {sum(counted.values())} 张 / closed {len(changed)}, "
               f"counted {sum(counted.values())} sealed ballots", err=True)


@click.group("box", cls=AppGroup)
def box_group() -> None:
    """The sealed ballot box: status and settling."""


@box_group.command("status")
def status_command() -> None:
    """One line per evaluation with sealed ballots: id, status, sealed (tab-separated)."""
    sealed = box.sealed_counts(db.session.scalars(select(Evaluation.id)).all())
    for evaluation_id in sorted(sealed):
        state = db.session.scalar(select(Evaluation.status).where(Evaluation.id == evaluation_id))
        click.echo(f"{evaluation_id}\t{state.value}\t{sealed[evaluation_id]}")


@box_group.command("settle")
def settle_command() -> None:
    """Count the boxes of evaluations that no longer accept ballots (closed, or window over)."""
    counted = box.settle()
    if counted:
        audit.record("box_settle", "cli", counted={str(k): v for k, v in sorted(counted.items())})
        db.session.commit()
    for evaluation_id in sorted(counted):
        click.echo(f"{evaluation_id}\t{counted[evaluation_id]}")
    click.echo(f"开箱计票 {sum(counted.values())} 张 / counted {sum(counted.values())} sealed ballots "
               f"in {len(counted)} evaluations", err=True)
