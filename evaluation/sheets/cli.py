"""``flask --app app sheets …``: print answer sheets, read scanned stacks, empty the scan directory.

Like the other commands: machine-readable output on stdout (the summary line),
messages and the progress bar on stderr. No code and no answer is printed.
"""
from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import AppGroup

from evaluation.services import ServiceError


def register_sheets(app: Flask) -> None:
    """Add the ``sheets`` group to ``app.cli``."""
    app.cli.add_command(sheets)


@click.group(cls=AppGroup)
def sheets() -> None:
    """Printed answer sheets read from scans (纸质测评表)."""


@sheets.command("print")
@click.argument("evaluation_id", type=int)
@click.option("--group", "group_name", required=True, help="Rater group name, e.g. 党员.")
@click.option("--count", type=int, required=True, help="Sheets (and codes) to issue.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True, help="The PDF to write.")
@click.option("--paper", type=click.Choice(["A4", "A5"]), default="A4", show_default=True)
@click.option("--layout", "layout_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write the bubble layout (JSON, mm).")
@click.option("--base-url", default=None, help="The site address in the QR links (default: CEPING_PUBLIC_URL).")
def print_command(evaluation_id, group_name, count, out, paper, layout_file, base_url) -> None:
    """Issue COUNT codes and write one answer sheet per code to OUT."""
    from .issuing import print_sheets

    try:
        printed = print_sheets(evaluation_id, group_name, count, paper, base_url)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    with open(out, "wb") as handle:
        handle.write(printed.pdf)
    if layout_file:
        with open(layout_file, "w", encoding="utf-8") as handle:
            json.dump(printed.layout.as_json(), handle, ensure_ascii=False, indent=1)
    click.echo(f"已印制 {printed.count} 张测评表({printed.layout.pages} 页/张)/ printed {printed.count} sheets "
               f"({printed.layout.pages} page(s) each) to {out}", err=True)


@sheets.command("read")
@click.argument("files", type=click.Path(exists=True, dir_okay=False), nargs=-1, required=True)
@click.option("--evaluation", "evaluation_id", type=int, default=None,
              help="Refuse sheets of any other evaluation (counted as 'not this evaluation').")
def read_command(files, evaluation_id) -> None:
    """Read scanned sheets (PDF, TIFF, JPEG, PNG): store clear ones, queue the rest for review."""
    from . import processing, queue

    batch = queue.create(evaluation_id)
    with queue.locked(batch.id) as batch:
        for name in files:
            with open(name, "rb") as handle:
                queue.add_file(batch, name, handle.read())
    for entry in batch.files:
        if entry["error"]:
            click.echo(f"{entry['name']}: {entry['error']}", err=True)
    with click.progressbar(length=batch.total_pages, label="读取 / reading", file=sys.stderr,
                           show_pos=True) as bar:
        while True:
            with queue.locked(batch.id) as current:
                read = processing.step(current, 5)
                processing.audit_finished(current)
                finished, counts, pending = current.finished, dict(current.counts), len(current.pending())
            bar.update(read)
            if finished:
                break
    with queue.locked(batch.id) as current:
        queue.close_if_done(current)
    click.echo(processing.summary(counts))
    if pending:
        click.echo(f"{pending} 张待复核,请登录后在 /admin/sheets/{batch.id} 处理 / {pending} sheet(s) await "
                   f"review at /admin/sheets/{batch.id}", err=True)
    if any(e["error"] for e in batch.files):
        raise click.exceptions.Exit(1)  # a script must notice a file that could not be read


@sheets.command("purge")
def purge_command() -> None:
    """Delete every scanned file and every sheet awaiting review (their codes stay unused)."""
    from . import queue

    removed = queue.purge()
    click.echo(f"已删除 {removed} 个批次 / deleted {removed} batch(es)", err=True)
