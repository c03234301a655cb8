"""Command-line interface for organisers and scripts (``flask --app app …``).

Commands print machine-readable output on stdout (ids, tab-separated rows,
codes one per line) and human messages on stderr, so they compose in shells.
Every command that changes data leaves an audit entry by the actor ``cli``,
committed with the change where the service lets it (never a plain code).
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from evaluation.accounts import audit
from evaluation.services import ServiceError, create_evaluation, create_user, evaluation_rows, issue_codes, void_batch


def _fail(error: ServiceError) -> None:
    from extensions import db

    db.session.rollback()  # the pending audit entry goes with the refused action
    raise click.ClickException(str(error))


def register(app: Flask) -> None:
    """Add the command groups to ``app.cli``."""
    app.cli.add_command(demo_command)
    app.cli.add_command(init_db_command)
    app.cli.add_command(evaluations)
    app.cli.add_command(codes)
    app.cli.add_command(users)
    from evaluation.results.cli import register_results
    register_results(app)
    from evaluation.results.box_cli import register_box
    register_box(app, evaluations)
    from .sheets.cli import register_sheets
    register_sheets(app)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Bring the database to the latest migration and load the built-in questionnaires."""
    from surveys.catalog import load_catalog

    upgrade()
    added = load_catalog()
    click.echo(f"数据库已就绪 / database ready; questionnaires added: {len(added)}", err=True)


@click.command("demo")
@click.option("--password", default="ceping-demo", show_default=True, help="Password of the demo organiser.")
@with_appcontext
def demo_command(password: str) -> None:
    """Build (idempotently) the demo campaign and a demo organiser account (never in production)."""
    import os

    from models import User
    from extensions import db
    from evaluation.demo.campaign import build_demo

    if os.environ.get("CEPING_ENV") == "production":
        # A known organiser password on a live site would be a door anyone can read about.
        raise click.ClickException("生产环境(CEPING_ENV=production)不能建立演示数据和演示账号 / "
                                   "the demo campaign and its demo account are refused in production")
    upgrade()
    summary = build_demo()
    if summary.created:
        click.echo(f"已创建演示活动 / demo campaign created: id {summary.campaign_id}, "
                   f"{summary.units} units, {summary.ballots} ballots", err=True)
    else:
        click.echo(f"演示活动已存在 / demo campaign already exists: id {summary.campaign_id}", err=True)
    for note in summary.notes:  # what was added: the campaign's work, or an older demo's missing parts
        click.echo(note, err=True)
    if db.session.scalar(db.select(User.id).where(User.username == "demo")) is None:
        create_user("demo", password, "organiser")
        click.echo("登录 / sign in: username 'demo', password " + repr(password) +
                   " (演示账号,请勿用于正式环境 / demo only)", err=True)
    else:
        click.echo("登录 / sign in with the existing 'demo' account.", err=True)


@click.group(cls=AppGroup)
def evaluations() -> None:
    """List, create and close evaluations."""


@evaluations.command("list")
@click.option("--campaign", "campaign_id", type=int, default=None, help="Only this campaign.")
def list_evaluations(campaign_id: int | None) -> None:
    """One line per evaluation: id, unit, questionnaire key, status, ballots (tab-separated)."""
    for row in evaluation_rows(campaign_id):
        click.echo("\t".join(str(v) for v in (row["id"], row["unit"], row["questionnaire"],
                                              row["status"].value, row["ballots"])))


@evaluations.command("create")
@click.option("--unit", "unit_id", type=int, required=True)
@click.option("--questionnaire", "key", required=True, help="Catalog key: satisfaction, meeting, report_review.")
@click.option("--groups", default="", help="Comma-separated rater group names (default: all of the campaign's).")
@click.option("--threshold", type=float, default=0.60, show_default=True)
@click.option("--min-ballots", type=int, default=8, show_default=True)
@click.option("--open", "open_now", is_flag=True, help="Open it for ballots at once.")
def create_evaluation_command(unit_id, key, groups, threshold, min_ballots, open_now) -> None:
    """Create an evaluation and print its id."""
    names = [g.strip() for g in groups.replace(",", ",").split(",") if g.strip()]
    audit.record("evaluations_create", f"unit:{unit_id}", questionnaire=key, groups=names or "all",
                 threshold=threshold, min_ballots=min_ballots, open=open_now)  # committed with the evaluation
    try:
        evaluation = create_evaluation(unit_id, key, names or None, threshold, min_ballots, open_now)
    except ServiceError as error:
        _fail(error)
    click.echo(evaluation.id)


@click.group(cls=AppGroup)
def codes() -> None:
    """Issue and void ballot codes."""


@codes.command("issue")
@click.argument("evaluation_id", type=int)
@click.option("--group", "group_name", required=True, help="Rater group name, e.g. 党员.")
@click.option("--count", type=int, required=True)
def issue_codes_command(evaluation_id: int, group_name: str, count: int) -> None:
    """Print COUNT new codes, one per line; nothing else goes to stdout."""
    from surveys.codes import format_code

    audit.record("codes_issue", f"evaluation:{evaluation_id}", codes=count, group=group_name)  # never a code
    try:
        plain = issue_codes(evaluation_id, group_name, count)
    except ServiceError as error:
        _fail(error)
    click.echo("\n".join(format_code(c) for c in plain))
    click.echo(f"已发放 {len(plain)} 个测评码 / issued {len(plain)} codes", err=True)


@codes.command("void")
@click.argument("batch_id", type=int)
def void_codes_command(batch_id: int) -> None:
    """Void the unused codes of a batch."""
    from extensions import db

    try:
        n = void_batch(batch_id)
    except ServiceError as error:
        _fail(error)
    audit.record("codes_void", f"batch:{batch_id}", unused_voided=n)  # the count is known only afterwards
    db.session.commit()
    click.echo(f"已作废 / voided: {n}", err=True)


@click.group(cls=AppGroup)
def users() -> None:
    """Manage organiser-side accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["organiser", "liaison", "viewer"]), default="organiser",
              show_default=True)
@click.option("--unit", "unit_id", type=int, default=None, help="The unit of a liaison.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given.")
def create_user_command(username: str, role: str, unit_id: int | None, password: str) -> None:
    """Create an account; prompts for the password unless --password is given (audited as 'cli')."""
    from evaluation.accounts.services import create_account

    try:
        user = create_account(username, password, role, unit_id)
    except ServiceError as error:
        _fail(error)
    click.echo(f"已创建用户 / created user {user.username} ({user.role.value})", err=True)


@users.command("password")
@click.argument("username")
@click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given.")
def reset_password_command(username: str, password: str) -> None:
    """Set USERNAME's password (audited as 'cli'); every session of that account ends."""
    from evaluation.accounts.services import reset_password

    try:
        user = reset_password(username, password)
    except ServiceError as error:
        _fail(error)
    click.echo(f"已重设密码,该账号的登录均已失效 / password of {user.username} reset; its sessions have ended",
               err=True)
