"""Languages: Simplified Chinese by default, English selectable and remembered (Flask-Babel).

Message ids are the Chinese texts themselves, so a template reads in the primary
language and Chinese needs no catalog; ``translations/en/LC_MESSAGES/messages.po``
holds the English. Catalogs are compiled when the app starts (into the instance
folder, only when a ``.po`` is newer than its ``.mo``), so a fresh clone, a test
run and every server build use compiled catalogs without committing build output.

``flask --app app i18n build`` re-extracts every marked string from the code and
templates, keeps the translations already made, and reports what is untranslated.
"""
from __future__ import annotations

import os
import tempfile
from urllib.parse import urlsplit

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import Blueprint, Flask, current_app, has_request_context, redirect, request
from flask_babel import format_decimal, format_percent, get_locale

from extensions import babel

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
COOKIE = "ceping_lang"
ROOT = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.join(ROOT, "translations")
# What `pybabel extract -F babel.cfg` would read; kept here so the CLI needs no config file.
METHOD_MAP = [
    ("**/.venv/**", "ignore"), ("**/node_modules/**", "ignore"), ("tests/**", "ignore"),
    ("bench/**", "ignore"), ("migrations/**", "ignore"),
    ("**.py", "python"), ("templates/**.html", "jinja2"),
]
# N_ marks a text for extraction without translating it (analysis/ is Flask-free and
# returns such texts; the view translates them with gettext when it shows them).
KEYWORDS = {"N_": None, "_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "lazy_ngettext": (1, 2)}

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The language remembered in the cookie, else Chinese (never guessed from the browser)."""
    if not has_request_context():  # CLI commands and services called outside a request: Chinese
        return DEFAULT_LANGUAGE
    chosen = request.cookies.get(COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def html_lang() -> str:
    """The ``lang`` attribute for the current page."""
    return "en" if str(get_locale()) == "en" else "zh-CN"


def _safe_next(target: str | None) -> str:
    """Only a path on this site may follow a language switch (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@bp.get("/lang/<code>")
def switch(code: str):
    """Remember the chosen language for a year and go back to the page it was chosen on."""
    response = redirect(_safe_next(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def format_number(value, digits: int = 0) -> str:
    """A number in the current locale's grouping (1,234 / 1,234.5); a dash for no value."""
    if value is None or value != value:  # None or NaN: nothing to show
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


def format_share(value, digits: int = 1) -> str:
    """A share 0..1 as a percentage in the current locale (62.5%); a dash for no value."""
    if value is None or value != value:  # None or NaN: nothing to show
        return "—"
    return format_percent(value, format="#,##0" + ("." + "0" * digits if digits else "") + "%")


def compile_catalogs(source: str, target: str) -> None:
    """Compile every ``<lang>/LC_MESSAGES/messages.po`` under ``source`` into ``target`` when stale.

    Written to a temporary file and renamed, so workers starting together never
    read half a catalog.
    """
    for language in os.listdir(source) if os.path.isdir(source) else ():
        po_path = os.path.join(source, language, "LC_MESSAGES", "messages.po")
        if not os.path.isfile(po_path):
            continue
        out_dir = os.path.join(target, language, "LC_MESSAGES")
        mo_path = os.path.join(out_dir, "messages.mo")
        if os.path.exists(mo_path) and os.path.getmtime(mo_path) >= os.path.getmtime(po_path):
            continue
        os.makedirs(out_dir, exist_ok=True)
        with open(po_path, "rb") as handle:
            catalog = read_po(handle, locale=language)
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".mo")
        with os.fdopen(fd, "wb") as handle:
            write_mo(handle, catalog)
        os.replace(tmp, mo_path)


def init_app(app: Flask) -> None:
    """Compile the catalogs, bind Flask-Babel, and offer the language switch."""
    compiled = os.path.join(app.instance_path, "translations")
    compile_catalogs(SOURCE_DIR, compiled)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = compiled
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(html_lang=html_lang, LANGUAGES=LANGUAGES, current_locale=lambda: str(get_locale()))
    # Dates use Flask-Babel's own `dateformat` filter; numbers get these two.
    app.jinja_env.filters.update(number=format_number, percent=format_share)
    app.register_blueprint(bp)
    app.cli.add_command(i18n_cli)


def extract_messages() -> Catalog:
    """Every marked string in the code and templates, as a template catalog."""
    catalog = Catalog(locale=None, project="Ceping")
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, METHOD_MAP, options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}},
            keywords=KEYWORDS, strip_comment_tags=True):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def untranslated(message) -> bool:
    """True when a catalog entry (singular or plural) lacks any translation."""
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return not all(strings)


@click.group("i18n")
def i18n_cli() -> None:
    """Translation catalogs."""


@i18n_cli.command("build")
@click.option("--language", default="en", show_default=True)
def build(language: str) -> None:
    """Re-extract marked strings into the catalog, keep existing translations, report the untranslated."""
    template = extract_messages()
    po_path = os.path.join(SOURCE_DIR, language, "LC_MESSAGES", "messages.po")
    catalog = Catalog(locale=language, project="Ceping")
    if os.path.exists(po_path):
        with open(po_path, "rb") as handle:
            catalog = read_po(handle, locale=language)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    # Translations drafted side by side (translations/parts/<area>.po, one file per
    # person working at the same time) fill the catalog; they win over older ones.
    parts = os.path.join(SOURCE_DIR, "parts")
    for name in sorted(os.listdir(parts)) if os.path.isdir(parts) else ():
        if name.endswith(".po"):
            with open(os.path.join(parts, name), "rb") as handle:
                for message in read_po(handle, locale=language):
                    if message.id and message.string and message.id in catalog:
                        catalog[message.id].string = message.string
    os.makedirs(os.path.dirname(po_path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(po_path), suffix=".po")
    with os.fdopen(fd, "wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, sort_output=False, include_lineno=False)
    os.replace(tmp, po_path)
    missing = [m.id for m in catalog if m.id and untranslated(m)]
    click.echo(f"{len(catalog)} messages, {len(missing)} untranslated: {po_path}")
    for message_id in missing[:50]:
        click.echo(f"  {message_id!r}")
