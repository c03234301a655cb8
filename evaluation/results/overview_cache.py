"""The campaign overview, cached under its campaign's data version: one rule.

``campaign.data_version`` (:func:`models.bump_data_version`) moves in the transaction
of every change the overview can show: the ballot box counting a batch
(surveys/box.py; closing and settling an evaluation count too), a tally rebuild, and
every organiser decision the audit log records (evaluation/accounts/audit.py: make-up
decisions, units, imports, groups, questionnaires, evaluations, thresholds, codes).
So the overview's computed parts (its rows and figure JSON: no DataFrames, no HTML)
are kept in Flask-Caching under the campaign, that version, the questionnaire, the
filters, the viewer's scope and role, the language and the code. Nothing is ever
invalidated: a bump makes new keys, and old entries expire unused.

What a reader sees therefore moves only in whole counted batches or with a decision;
turnout (codes used) too moves with the counts, not with each ballot submitted. A
change written straight into the database, past these paths, shows once the next
count or decision moves the version (or the entry expires, CACHE_DEFAULT_TIMEOUT).

The page body is rendered per request from the cached parts, with the viewer's own
CSRF token. Where: Redis when ``REDIS_URL`` is set (every app server shares it), else
a few entries per process; a failing Redis is logged and the page computed directly.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Optional

from flask import current_app, render_template, request
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import select

from extensions import cache, db
from models import Campaign

from evaluation.results.dashboards import campaign_overview
from evaluation.results.frames import campaign_keys

#: Make-up rows the overview shows; the rest are on the make-up page, linked below them.
MAKEUP_SHOWN = 10
#: The DataFrames of campaign_overview(); the page reads their ``*_rows`` instead, so they stay out.
FRAMES = ("units", "items", "committees", "makeup")


@functools.cache
def _code_version() -> str:
    """A hash of the code, templates and translations an overview is computed with, read once per process.

    Part of every key: after a deploy no server serves what the previous code computed
    (Redis outlives the processes).
    """
    root = Path(current_app.root_path)
    digest = hashlib.sha256()
    # evaluation/**: the overview is computed in evaluation/results/, a subpackage a flat pattern would miss.
    for pattern in ("analysis/*.py", "evaluation/**/*.py", "templates/evaluation/*.html", "templates/macros/*.html",
                    "i18n.py", "translations/**/*.po"):
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def data_version(campaign_id: int) -> Optional[str]:
    """The campaign's data version with its creation time (None for no such campaign): one primary-key read.

    The creation time tells apart two campaigns that got the same id in turn (a database
    emptied or restored while Redis kept its entries): each starts at version 0.
    """
    row = db.session.execute(select(Campaign.data_version, Campaign.created_at)
                             .where(Campaign.id == campaign_id)).first()
    return None if row is None else f"{row[0]}@{row[1].isoformat() if row[1] else ''}"


def cache_key(campaign_id: int, version: Optional[str], *parts) -> str:
    """The key of one cached value: campaign, data version, what else it depends on, language, database, code."""
    database = db.engine.url.render_as_string(hide_password=True)
    named = repr((_code_version(), database, str(get_locale()), request.script_root, parts)).encode()
    return f"overview:{campaign_id}:{version}:{hashlib.sha256(named).hexdigest()}"


def _stored(name: str, *args):
    """``cache.get`` / ``cache.set`` that logs a failing backend (Redis down) instead of raising."""
    try:
        return getattr(cache, name)(*args)
    except Exception:  # noqa: BLE001 - any backend failure means "compute it directly"
        current_app.logger.warning("overview cache unavailable (%s); computing directly", name, exc_info=True)
        return None


def _remembered(key: str, compute):
    """The value cached under ``key``, or ``compute()`` stored there."""
    value = _stored("get", key)
    if value is None:
        value = compute()
        _stored("set", key, value)
    return value


def cached_overview(campaign_id: int, key: str, committee_id: Optional[int] = None, group_id: Optional[int] = None,
                    visible: Optional[set[int]] = None, role: str = "organiser",
                    version: Optional[str] = None, show_all: bool = False) -> dict:
    """:func:`evaluation.results.dashboards.campaign_overview`'s plain parts (rows, figure JSON), cached.

    ``version`` is the campaign's data version if the caller read it already.
    """
    if version is None:
        version = data_version(campaign_id)
    scope = None if visible is None else sorted(visible)

    def compute() -> dict:
        view = campaign_overview(campaign_id, key, committee_id, group_id, visible, show_all)
        return {name: value for name, value in view.items() if name not in FRAMES}

    parts = ("view", key, committee_id, group_id, scope, role, show_all)
    return _remembered(cache_key(campaign_id, version, *parts), compute)


def overview_view(campaign_id: int, requested: Optional[str], committee_id: Optional[int] = None,
                  group_id: Optional[int] = None, visible: Optional[set[int]] = None, role: str = "organiser",
                  show_all: bool = False) -> tuple[list[str], Optional[str], Optional[dict]]:
    """The campaign's questionnaire keys, the one shown (``requested`` if one of them, else the first)
    and its cached overview parts; no parts when the campaign has no rated questionnaire."""
    version = data_version(campaign_id)
    keys = _remembered(cache_key(campaign_id, version, "keys"), lambda: campaign_keys(campaign_id))
    key = requested if requested in keys else (keys[0] if keys else None)
    if key is None:
        return keys, None, None
    return keys, key, cached_overview(campaign_id, key, committee_id, group_id, visible, role, version, show_all)


def overview_body(campaign_id: int, requested: Optional[str], committee_id: Optional[int] = None,
                  group_id: Optional[int] = None, visible: Optional[set[int]] = None,
                  role: str = "organiser", show_all: bool = False) -> tuple[list[str], Optional[str], Optional[Markup]]:
    """The campaign's questionnaire keys, the one shown (``requested`` if it is one of them, else
    the first) and the overview page from its tabs down (``_overview_body.html``), rendered now
    from the cached overview; no body when the campaign has no rated questionnaire."""
    keys, key, view = overview_view(campaign_id, requested, committee_id, group_id, visible, role, show_all)
    if view is None:
        return keys, None, None
    body = render_template("evaluation/_overview_body.html", view=view, keys=keys, key=key, campaign_id=campaign_id,
                           committee_id=view["committee_id"], group_id=group_id, for_liaison=visible is not None,
                           show_all=show_all, makeup_shown=MAKEUP_SHOWN,
                           campaign={"id": campaign_id}, organiser=role == "organiser")
    return keys, key, Markup(body)
