"""Operator commands: online backup of the database, and recounting the tallies.

``flask --app app backup PATH`` copies a live SQLite database with SQLite's
online backup API (consistent even while raters vote); on PostgreSQL it prints
the pg_dump / pg_restore recipe instead, because the database server, not the
app, should take that backup.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from extensions import db


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other engines and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` with the online backup API; return pages copied.

    The copy is written to a temporary name and renamed into place, so an
    interrupted backup never leaves a half-written file under the final name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException("备份校验失败 / the backup failed its integrity check")
    finally:
        dst.close()
        src.close()
    partial.replace(target)
    return pages


def postgres_recipe(url: str, target: str) -> str:
    """The commands an operator runs to back up and restore a PostgreSQL database."""
    parsed = make_url(url)
    conn = f"-h {parsed.host or 'localhost'} -p {parsed.port or 5432} -U {parsed.username or 'postgres'}"
    return (f"pg_dump {conn} -Fc -f {target} {parsed.database}\n"
            f"# restore into an empty database:\n"
            f"createdb {conn} ceping_restored && pg_restore {conn} -d ceping_restored {target}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Back up the database to PATH (SQLite), or print the pg_dump recipe (PostgreSQL)."""
    from evaluation.accounts.audit import record

    url = str(db.engine.url)
    source = sqlite_path(url)
    if source is None:
        record("backup", path[:200], engine="postgresql", done="recipe printed")
        db.session.commit()
        click.echo(postgres_recipe(url, path))
        return
    if not source.exists():
        raise click.ClickException(f"数据库文件不存在 / no database file at {source}")
    # Recorded before the copy, so the backup holds its own entry.
    record("backup", path[:200], engine="sqlite")
    db.session.commit()
    pages = backup_sqlite(source, Path(path))
    click.echo(f"已备份 / backed up {source} → {path} ({pages} pages)", err=True)


@click.command("recount")
@click.option("--fix", is_flag=True, help="Rebuild the tallies from the stored ballots when they differ.")
@with_appcontext
def recount_command(fix: bool) -> None:
    """Recount every ballot and compare with the running tallies; exit 1 on any difference."""
    from surveys import tallies

    found = tallies.differences(db.session)
    for kind, key, tallied, counted in found[:50]:
        click.echo(f"{kind}\t{key}\ttallied={tallied}\trecounted={counted}")
    if not found:
        click.echo("计票一致 / tallies equal a full recount", err=True)
        return
    if fix:
        from evaluation.accounts.audit import record

        tallies.rebuild(db.session)
        record("tallies_rebuild", "recount --fix", cells_differed=len(found))
        db.session.commit()
        click.echo(f"已按测评票重建 / rebuilt from the ballots ({len(found)} cells differed)", err=True)
        return
    raise click.ClickException(f"{len(found)} 处不一致 / cells differ (run with --fix to rebuild)")


def register(app: Flask) -> None:
    """Add the maintenance commands to ``app.cli``."""
    app.cli.add_command(backup_command)
    app.cli.add_command(recount_command)
