"""The campaign overview, memoised under an exact version of everything it shows.

Computing the overview (results of every unit, the committee roll-up, two plotly
figures) costs a few hundred milliseconds; reading what it depends on costs one
query over small tables. So each request reads that *version* — the very rows
the page is computed from, except the answer tallies, for which the ballot counts
stand in (below) — hashes it with the filters, the viewer's scope, the
language and the code, and reuses a stored result only under exactly that hash. Nothing is
ever invalidated: a new ballot, a changed threshold or a make-up decision makes
a new key, and the old entry simply expires unused. The stored overview also
holds its two long tables already rendered (most of the page's render time).

Why the ballot counts can stand in for the tallies: ``tally`` and
``ballot_tally`` change together in the transaction that stores a ballot
(surveys/ballots.py), ballots are never deleted, so a cell's ballot count grows
with every change of its tallies; the one other writer, ``tallies.rebuild``,
records an audit entry in its own transaction, and the newest such entry is
part of the version.

Where: Flask-Caching's Redis backend when ``REDIS_URL`` is set (every app server
shares it), else a small per-process store — safe because a key names the data
exactly, so no process can serve another's stale copy. Redis failures are
logged and the page is computed directly.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Optional

from flask import current_app, render_template, request
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import Float, Integer, String, bindparam, case, cast, func, literal, null, select, union_all

from extensions import cache, db
from models import (
    AuditLog, BallotTally, CodeBatch, Evaluation, Item, MakeUp, Option, Questionnaire, RaterGroup,
    RectificationItem, Unit, evaluation_group,
)
from surveys.tallies import REBUILD_ACTION

from .dashboards import campaign_overview
from .results import raw_rows

#: Part of every key: bump it when the shape of the cached dict changes.
FORMAT = 1
#: The DataFrames of campaign_overview(); the overview page uses their ``*_rows`` instead.
FRAMES = ("units", "items", "committees", "makeup")


def _columns(tag: int, ints=(), real=None, texts=()) -> list:
    """One branch of the version query: a tag, five integers, a float and two texts (NULL-padded)."""
    ints = list(ints) + [null()] * (5 - len(ints))
    texts = list(texts) + [null()] * (2 - len(texts))
    return [literal(tag, Integer), *(cast(v, Integer) for v in ints),
            cast(real if real is not None else null(), Float), *(cast(t, String) for t in texts)]


@functools.cache
def _version_statement():
    """Every input of :func:`campaign_overview` for one campaign (``:campaign``), in one ordered query.

    One UNION ALL of small tables and aggregates instead of a round trip each;
    integers and floats keep their own columns, so no value is rounded on the way.
    Built once per process: each request only binds the campaign.
    """
    campaign = bindparam("campaign", type_=Integer)
    in_campaign = select(Evaluation.id).where(Evaluation.campaign_id == campaign)
    questionnaires = select(Evaluation.questionnaire_id).where(Evaluation.campaign_id == campaign)
    linked_groups = select(evaluation_group.c.rater_group_id).where(evaluation_group.c.evaluation_id.in_(in_campaign))
    makeups = select(MakeUp.id).where(MakeUp.evaluation_id.in_(in_campaign))
    branches = [
        select(*_columns(1, (Evaluation.id, Evaluation.unit_id, Evaluation.questionnaire_id, Evaluation.min_ballots,
                             Evaluation.previous_id), Evaluation.threshold, (Evaluation.status,)))
        .where(Evaluation.campaign_id == campaign),
        # Ballots per evaluation × group: they stand in for the tallies (module docstring).
        select(*_columns(2, (BallotTally.evaluation_id, BallotTally.rater_group_id, BallotTally.n)))
        .where(BallotTally.evaluation_id.in_(in_campaign)),
        select(*_columns(3, (func.max(AuditLog.id),))).where(AuditLog.action == REBUILD_ACTION),
        select(*_columns(4, (evaluation_group.c.evaluation_id, evaluation_group.c.rater_group_id)))
        .where(evaluation_group.c.evaluation_id.in_(in_campaign)),
        select(*_columns(5, (RaterGroup.id, RaterGroup.campaign_id), RaterGroup.weight, (RaterGroup.name,)))
        .where((RaterGroup.campaign_id == campaign) | RaterGroup.id.in_(linked_groups)),
        select(*_columns(6, (Unit.id, Unit.parent_id), None, (Unit.name, Unit.kind)))
        .where(Unit.campaign_id == campaign),
        select(*_columns(7, (Questionnaire.id,), None, (Questionnaire.key,)))
        .where(Questionnaire.id.in_(questionnaires)),
        select(*_columns(8, (Item.id, Item.questionnaire_id, Item.position, Item.scale_id), None,
                         (Item.kind, Item.text)))
        .where(Item.questionnaire_id.in_(questionnaires)),
        select(*_columns(9, (Option.id, Option.scale_id), None, (Option.polarity,)))
        .where(Option.scale_id.in_(select(Item.scale_id).where(Item.questionnaire_id.in_(questionnaires)))),
        # Turnout: batches are only added or voided; used codes move with the ballots above.
        select(*_columns(10, (CodeBatch.evaluation_id, func.count(), func.sum(CodeBatch.count),
                              func.count(CodeBatch.voided_at))))
        .where(CodeBatch.evaluation_id.in_(in_campaign)).group_by(CodeBatch.evaluation_id),
        select(*_columns(11, (MakeUp.id, MakeUp.evaluation_id, MakeUp.followup_id, MakeUp.unit_id)))
        .where(MakeUp.id.in_(makeups)),
        select(*_columns(12, (RectificationItem.makeup_id, func.count(),
                              func.sum(case((RectificationItem.status == "done", 1), else_=0)))))
        .where(RectificationItem.makeup_id.in_(makeups)).group_by(RectificationItem.makeup_id),
    ]
    rows = union_all(*branches).subquery()
    # Within each tag the first two integers are unique, so this order is total.
    return select(rows).order_by(*list(rows.c)[:3])


@functools.cache
def _code_version() -> str:
    """A hash of the code, templates and translations an overview is computed and rendered with.

    Part of every key: after a deploy, no server serves a page that the previous
    code computed (Redis outlives the processes). Read once per process.
    """
    root = Path(current_app.root_path)
    digest = hashlib.sha256()
    for pattern in ("analysis/*.py", "evaluation/*.py", "templates/evaluation/*.html", "translations/**/*.po"):
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def version_key(campaign_id: int, key: str, committee_id: Optional[int] = None, group_id: Optional[int] = None,
                visible: Optional[set[int]] = None) -> str:
    """The cache key of one overview: a hash of its data, filters, scope, language, database and code."""
    digest = hashlib.sha256()
    scope = None if visible is None else sorted(visible)
    database = db.engine.url.render_as_string(hide_password=True)
    # The stored page fragments hold links (script root) and words (language).
    digest.update(repr((FORMAT, _code_version(), database, campaign_id, key, committee_id, group_id, scope,
                        str(get_locale()), request.script_root)).encode())
    digest.update(repr(raw_rows(_version_statement(), {"campaign": campaign_id})).encode())
    return "overview:" + digest.hexdigest()


def _stored(name: str, *args):
    """``cache.get`` / ``cache.set`` that logs a failing backend (Redis down) instead of raising."""
    try:
        return getattr(cache, name)(*args)
    except Exception:  # noqa: BLE001 - any backend failure means "compute it directly"
        current_app.logger.warning("overview cache unavailable (%s); computing directly", name, exc_info=True)
        return None


def cached_overview(campaign_id: int, key: str, committee_id: Optional[int] = None,
                    group_id: Optional[int] = None, visible: Optional[set[int]] = None) -> dict:
    """:func:`evaluation.dashboards.campaign_overview` for the overview page, reused while its version
    is unchanged: its plain parts (no DataFrames) and the rendered ``fragments``.

    A computed overview is stored only if the version read after computing it
    equals the one read before, and no audited action (every organiser change
    records one) was committed meanwhile — so a change made during the
    computation, even one undone again at once, is never filed under the key of
    the state before it.
    """
    args = (campaign_id, key, committee_id, group_id, visible)
    before = version_key(*args)
    view = _stored("get", before)
    if view is not None:
        return view
    # Read after the key: a change between the two shows in the key read after computing.
    mark = _audit_mark()
    view = campaign_overview(*args)
    view["fragments"] = _fragments(view, for_liaison=visible is not None)
    # The page reads the plain rows; the frames stay out of the memo (unpickling them cost more than the rest).
    view = {name: value for name, value in view.items() if name not in FRAMES}
    if version_key(*args) == before and _audit_mark() == mark:
        _stored("set", before, view)
    return view


def _fragments(view: dict, for_liaison: bool) -> dict:
    """The two long tables rendered once (272 rows, 1,632 cells): most of a page's render time.

    ``for_liaison`` is the scope being a unit subtree (only liaisons have one),
    which is part of the key; it hides the heatmap rows of units not judged.
    """
    return {"unit_rows": Markup(render_template("evaluation/_unit_rows.html", units=view["unit_rows"])),
            "heat_rows": Markup(render_template("evaluation/_heat_rows.html", heat=view["heat_table"],
                                                for_liaison=for_liaison))}


def _audit_mark() -> Optional[int]:
    """The newest audit entry's id: it moves with every audited change, never back."""
    return db.session.scalar(select(func.max(AuditLog.id)))
