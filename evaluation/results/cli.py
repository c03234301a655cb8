"""CLI for API tokens and results: ``flask --app app tokens …`` and ``flask --app app results …``.

``results`` prints exactly what the API returns (``--format json``, the same
:func:`evaluation.results.documents.results_json` text) or exactly the bytes of the
``results.csv`` download (``--format csv``), so scripts can use whichever is handy.
Human messages go to stderr; stdout carries only the token or the results.
"""
from __future__ import annotations

import re
from typing import Optional

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from analysis.tables import results_csv_chunks

from evaluation.results.documents import ResultsNotFound, campaign_document, evaluation_document, results_json
from evaluation.services import ServiceError
from evaluation.accounts.tokens import create_token, revoke_tokens

_EVALUATION_TARGET = re.compile(r"^(?:e|evaluation:?)?(\d+)$", re.IGNORECASE)
_CAMPAIGN_TARGET = re.compile(r"^(?:c|campaign:?)(\d+)$", re.IGNORECASE)


def register_results(app: Flask) -> None:
    """Add the ``tokens`` group and the ``results`` command to ``app.cli``."""
    app.cli.add_command(tokens)
    app.cli.add_command(results_command)


def parse_target(target: str) -> tuple[str, int]:
    """``e5``/``5``/``evaluation:5`` → ("evaluation", 5); ``c1``/``campaign:1`` → ("campaign", 1)."""
    text = (target or "").strip()
    match = _CAMPAIGN_TARGET.match(text)
    if match:
        return "campaign", int(match.group(1))
    match = _EVALUATION_TARGET.match(text)
    if match:
        return "evaluation", int(match.group(1))
    raise ValueError(f"无法识别的目标 {target!r}:应为 e5 / 5(测评)或 c1 / campaign:1(活动) / "
                     f"Unknown target {target!r}: use e5 or 5 for an evaluation, c1 or campaign:1 for a campaign.")


def results_document_for(target: str, questionnaire: Optional[str] = None) -> dict:
    """The results document a target names (raises ValueError or ResultsNotFound)."""
    kind, number = parse_target(target)
    if kind == "campaign":
        return campaign_document(number, questionnaire)
    if questionnaire:
        raise ValueError("--questionnaire 只适用于活动 / --questionnaire applies to campaigns only.")
    return evaluation_document(number)


@click.group("tokens", cls=AppGroup)
def tokens() -> None:
    """Create and revoke API tokens."""


@tokens.command("create")
@click.argument("username")
def create_token_command(username: str) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is stored)."""
    try:
        plain = create_token(username)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(plain)
    click.echo("请妥善保存,令牌不会再次显示 / Keep it safe: the token is not shown again.", err=True)


@tokens.command("revoke")
@click.argument("username")
def revoke_tokens_command(username: str) -> None:
    """Revoke every API token of USERNAME."""
    try:
        n = revoke_tokens(username)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"已吊销 {n} 个令牌 / revoked {n} token(s)", err=True)


@click.command("results")
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--questionnaire", default=None, help="Campaigns only: questionnaire key (default: the most used).")
@with_appcontext
def results_command(target: str, fmt: str, questionnaire: Optional[str]) -> None:
    """Print the results of TARGET: e5 or 5 (evaluation 5), c1 or campaign:1 (campaign 1)."""
    try:
        document = results_document_for(target, questionnaire)
    except (ValueError, ResultsNotFound) as error:
        raise click.ClickException(str(error)) from None
    text = results_json(document) if fmt == "json" else "".join(results_csv_chunks(document))
    # bytes go to the binary stream untouched: exactly the API's / the download's bytes
    click.echo(text.encode("utf-8"), nl=False)
