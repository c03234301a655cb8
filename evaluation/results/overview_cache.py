"""The campaign overview, memoised under an exact version of everything it shows.

Computing the overview (results of every unit, the committee roll-up, two plotly
figures) costs a few hundred milliseconds; reading what it depends on costs one
query over small tables. So each request reads that *version* — the rows the
page is computed from, each table folded into one text by the database, except
where a count stands in exactly (below) — hashes it with the filters, the
viewer's scope, the language and the code, and reuses a stored result only under
exactly that hash. Nothing is ever invalidated: a new ballot, a changed threshold
or a make-up decision makes a new key, and the old entry simply expires unused.
Next to the overview the memo holds the page's body already rendered
(:func:`cached_body`): rendering it was most of a hit's time.

Why the campaign's ballot count can stand in for its tallies: ``tally`` and
``ballot_tally`` change together in the transaction that stores a ballot
(surveys/ballots.py), and ballots are never deleted, so the sum of
``ballot_tally.n`` grows with every change of the tallies; the one other writer,
``tallies.rebuild``, records an audit entry in its own transaction, and the
newest such entry is part of the version. Code batches likewise are only added
or voided, once, so their count and voided count grow with every change.

Where: Flask-Caching's Redis backend when ``REDIS_URL`` is set (every app server
shares it), else a small per-process store — safe because a key names the data
exactly, so no process can serve another's stale copy. Redis failures are
logged and the page is computed directly.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Optional

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import Integer, String, bindparam, case, cast, func, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by

from extensions import cache, db
from models import (
    AuditLog, BallotTally, CodeBatch, Evaluation, Item, MakeUp, Option, Questionnaire, RaterGroup,
    RectificationItem, SealedBallot, Unit, evaluation_group,
)
from surveys.tallies import REBUILD_ACTION

from evaluation.results.dashboards import campaign_overview
from evaluation.results.frames import campaign_keys_query, raw_rows

#: Part of every key: bump it when the shape of the cached dict changes.
FORMAT = 2
#: Stands for the CSRF token in a stored body. Only a template can write it: any text from the
#: data is escaped (``<`` becomes ``&lt;``) and the figure JSON escapes ``<`` as ``\u003c``.
CSRF_MARK = Markup("<!--csrf-token-->")
#: Where the page's shell takes the stored body (:func:`splice`); the same reasoning holds.
BODY_MARK = Markup("<!--overview-body-->")
#: The DataFrames of campaign_overview(); the overview page uses their ``*_rows`` instead.
FRAMES = ("units", "items", "committees", "makeup")


def _text(value: str):
    """A constant written into the SQL rather than bound: ~150 bound parameters cost more than the query."""
    return literal_column(f"'{value}'", String)


def _field(column, kind: str):
    """One value as SQLite text that names it exactly and cannot run into its neighbours.

    NULL is ''. Integers need nothing more. Floats keep every bit: 17 significant
    digits, which the ``!`` flag allows past SQLite's default 16, tell any two
    doubles apart. Texts carry their length, so no name holding a separator can
    mimic other rows.
    """
    if kind == "i":
        return func.coalesce(cast(column, String), _text(""))
    if kind == "f":
        return case((column.is_(None), _text("")), else_=func.printf(_text("%!.17g"), column))
    return case((column.is_(None), _text("")), else_=cast(func.length(column), String) + _text(":") + column)


def _aggregated(tag: int, kinds: str, branch, postgres: bool):
    """One branch folded by the database into ``(tag, text)``: its rows in order, ';'-separated.

    ``kinds`` names each selected column: ``i`` integer, ``f`` float, ``t`` text.
    Reading one text per table instead of ~2,500 rows is what makes the version
    cheap; the text still holds every value of every row, so it is as exact.
    PostgreSQL writes each row as a record literal (NULL empty, texts quoted when
    they hold a separator), the fastest exact form it has; floats go in as their
    bytes. On SQLite the order comes from the ordered subquery (group_concat keeps it
    in practice; were it ever lost, the key would only miss, never go stale).
    """
    if postgres:
        branch = branch.with_only_columns(
            *(func.float8send(c) if k == "f" else c for c, k in zip(branch.selected_columns, kinds, strict=True)))
    rows = branch.subquery(f"v{tag}")
    # By every column: a total order, so the same rows always make the same text.
    order = list(rows.c)
    if postgres:
        return select(literal_column(str(tag), Integer),
                      func.string_agg(literal_column(f"v{tag}::text", String), aggregate_order_by(_text(";"), *order))
                      ).select_from(rows)
    row = None
    for column, kind in zip(rows.c, kinds, strict=True):
        field = _field(column, kind)
        row = field if row is None else row + _text(",") + field
    ordered = select(row.label("row")).order_by(*order).subquery()
    return select(literal_column(str(tag), Integer), func.group_concat(ordered.c.row, _text(";")))


@functools.cache
def _version_statement(postgres: bool):
    """Every input of :func:`campaign_overview` for one campaign (``:campaign``), in one query.

    One UNION ALL of small tables and aggregates instead of a round trip each, each
    folded into one text by the database (:func:`_aggregated`); integers and floats
    are written exactly, so no value is rounded on the way. Built once per process
    and engine: each request only binds the campaign.
    """
    campaign = bindparam("campaign", type_=Integer)
    in_campaign = select(Evaluation.id).where(Evaluation.campaign_id == campaign)
    questionnaires = select(Evaluation.questionnaire_id).where(Evaluation.campaign_id == campaign)
    linked_groups = select(evaluation_group.c.rater_group_id).where(evaluation_group.c.evaluation_id.in_(in_campaign))
    makeups = select(MakeUp.id).where(MakeUp.evaluation_id.in_(in_campaign))
    repeated = select(Evaluation.previous_id).where(Evaluation.previous_id.is_not(None))  # as campaign_evaluation_ids
    branches = [
        ("iiiiift", select(Evaluation.id, Evaluation.unit_id, Evaluation.questionnaire_id, Evaluation.min_ballots,
                           Evaluation.previous_id, Evaluation.threshold, cast(Evaluation.status, String))
         .where(Evaluation.campaign_id == campaign)),
        # The campaign's ballots stand in for its tallies (module docstring): one more with every ballot.
        ("ii", select(func.count(), func.sum(BallotTally.n)).where(BallotTally.evaluation_id.in_(in_campaign))),
        # Ballots sealed in the box: with the counted ones above they give the codes used (turnout).
        ("i", select(func.count()).select_from(SealedBallot).where(SealedBallot.evaluation_id.in_(in_campaign))),
        ("i", select(func.max(AuditLog.id)).where(AuditLog.action == REBUILD_ACTION)),
        # The overview reads the links only as the groups linked to the evaluations it scores
        # (one questionnaire key, repeated rounds left out: results.campaign_evaluation_ids), so
        # these few distinct triples stand in exactly for the 816 links.
        ("iii", select(Evaluation.questionnaire_id, evaluation_group.c.rater_group_id,
                       Evaluation.id.in_(repeated).cast(Integer))
         .join(Evaluation, Evaluation.id == evaluation_group.c.evaluation_id)
         .where(Evaluation.campaign_id == campaign).distinct()),
        ("iift", select(RaterGroup.id, RaterGroup.campaign_id, RaterGroup.weight, RaterGroup.name)
         .where((RaterGroup.campaign_id == campaign) | RaterGroup.id.in_(linked_groups))),
        ("iitt", select(Unit.id, Unit.parent_id, Unit.name, cast(Unit.kind, String)).where(Unit.campaign_id == campaign)),
        ("it", select(Questionnaire.id, Questionnaire.key).where(Questionnaire.id.in_(questionnaires))),
        ("iiiitt", select(Item.id, Item.questionnaire_id, Item.position, Item.scale_id, cast(Item.kind, String), Item.text)
         .where(Item.questionnaire_id.in_(questionnaires))),
        ("iit", select(Option.id, Option.scale_id, cast(Option.polarity, String))
         .where(Option.scale_id.in_(select(Item.scale_id).where(Item.questionnaire_id.in_(questionnaires))))),
        # Turnout: batches are only added or voided (never deleted or resized, voided once), so one
        # count grows with each such change; used codes move with the ballots and the box above.
        ("iii", select(func.count(), func.sum(CodeBatch.count), func.count(CodeBatch.voided_at))
         .where(CodeBatch.evaluation_id.in_(in_campaign))),
        ("iiii", select(MakeUp.id, MakeUp.evaluation_id, MakeUp.followup_id, MakeUp.unit_id)
         .where(MakeUp.id.in_(makeups))),
        ("iii", select(RectificationItem.makeup_id, func.count(),
                       func.sum(case((RectificationItem.status == "done", 1), else_=0)))
         .where(RectificationItem.makeup_id.in_(makeups)).group_by(RectificationItem.makeup_id)),
    ]
    return union_all(_keys_branch(campaign, postgres),
                     *(_aggregated(tag, kinds, branch, postgres) for tag, (kinds, branch) in enumerate(branches, 1)))


def _keys_branch(campaign, postgres: bool):
    """Tag 0: the campaign's questionnaire keys (:func:`campaign_keys`) as a JSON list, in its order."""
    keys = campaign_keys_query(campaign).subquery("keys")
    if postgres:
        listed = cast(func.json_agg(aggregate_order_by(keys.c.key, keys.c.n.desc(), keys.c.key)), String)
        return select(literal_column("0", Integer), listed)
    return select(literal_column("0", Integer), func.json_group_array(keys.c.key))  # the subquery keeps its order


@functools.cache
def _code_version() -> str:
    """A hash of the code, templates and translations an overview is computed and rendered with.

    Part of every key: after a deploy, no server serves a page that the previous
    code computed (Redis outlives the processes). Read once per process.
    """
    root = Path(current_app.root_path)
    digest = hashlib.sha256()
    # The stored body also holds the chart macro's output and the i18n filters' numbers.
    for pattern in ("analysis/*.py", "evaluation/*.py", "templates/evaluation/*.html", "templates/macros/*.html",
                    "i18n.py", "translations/**/*.po"):
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def version_key(campaign_id: int, key: str, committee_id: Optional[int] = None, group_id: Optional[int] = None,
                visible: Optional[set[int]] = None) -> str:
    """The cache key of one overview: a hash of its data, filters, scope, language, database and code."""
    return _key(_version_rows(campaign_id), (campaign_id, key, committee_id, group_id, visible))


def _key(rows: list[tuple], args: tuple) -> str:
    """:func:`version_key` from the version query's rows."""
    campaign_id, key, committee_id, group_id, visible = args
    digest = hashlib.sha256()
    scope = None if visible is None else sorted(visible)
    database = db.engine.url.render_as_string(hide_password=True)
    # The stored page fragments hold links (script root) and words (language).
    digest.update(repr((FORMAT, _code_version(), database, campaign_id, key, committee_id, group_id, scope,
                        str(get_locale()), request.script_root)).encode())
    # Sorted by tag: UNION ALL promises no order of its branches.
    digest.update(repr(sorted(rows)).encode())
    return "overview:" + digest.hexdigest()


def _version_rows(campaign_id: int) -> list[tuple]:
    """Run the version query: ``(tag, text)`` per branch, tag 0 the questionnaire keys."""
    return raw_rows(_version_statement(db.engine.dialect.name == "postgresql"), {"campaign": campaign_id})


def _stored(name: str, *args):
    """``cache.get`` / ``cache.set`` that logs a failing backend (Redis down) instead of raising."""
    try:
        return getattr(cache, name)(*args)
    except Exception:  # noqa: BLE001 - any backend failure means "compute it directly"
        current_app.logger.warning("overview cache unavailable (%s); computing directly", name, exc_info=True)
        return None


def cached_overview(campaign_id: int, key: str, committee_id: Optional[int] = None,
                    group_id: Optional[int] = None, visible: Optional[set[int]] = None) -> dict:
    """:func:`evaluation.results.dashboards.campaign_overview` reused while its version is unchanged:
    its plain parts (rows, figure JSON; no DataFrames)."""
    args = (campaign_id, key, committee_id, group_id, visible)
    return _view(args, version_key(*args))[0]


def cached_body(campaign_id: int, requested: Optional[str], committee_id: Optional[int] = None,
                group_id: Optional[int] = None, visible: Optional[set[int]] = None,
                role: str = "organiser") -> tuple[list[str], Optional[str], Optional[bytes]]:
    """The campaign's questionnaire keys, the one shown (``requested`` if it is one of them, else
    the first) and the overview page from its tabs down (``_overview_body.html``) as UTF-8, rendered
    once per version; no body when the campaign has no rated questionnaire.

    Rendering its 272-row tables, 1,632 heatmap cells and two ~300 KB figure
    blocks was most of a memo hit's time; now a hit reads stored bytes, split at
    the CSRF token, which is per session and joined in for each request. Besides
    the version the body depends on the viewer's ``role`` (the tabs, the make-up
    buttons), which is in its key.
    """
    rows = _version_rows(campaign_id)
    keys = json.loads(next(text for tag, text in rows if tag == 0) or "[]")
    key = requested if requested in keys else (keys[0] if keys else None)
    if key is None:
        return keys, None, None
    args = (campaign_id, key, committee_id, group_id, visible)
    version = _key(rows, args)
    name = f"{version}:body:{role}"
    parts = _stored("get", name)
    if parts is None:
        view, stable = _view(args, version)
        body = render_template("evaluation/_overview_body.html", view=view, keys=keys, key=key, campaign_id=campaign_id,
                               committee_id=committee_id, group_id=group_id, for_liaison=visible is not None,
                               campaign={"id": campaign_id}, organiser=role == "organiser",
                               csrf_token=lambda: CSRF_MARK)
        # Bytes: unpickled ~8× faster than the text, and sent as they are (see splice).
        parts = body.encode().split(CSRF_MARK.encode())
        if stable:
            _stored("set", name, parts)
    return keys, key, generate_csrf().encode().join(parts) if len(parts) > 1 else parts[0]


def splice(page: str, body: bytes) -> bytes:
    """The page rendered around :data:`BODY_MARK`, as UTF-8 with the stored body in its place.

    Joining bytes spares the ~650 KB body a trip through Jinja's output and the encoder.
    """
    head, tail = page.encode().split(BODY_MARK.encode(), 1)
    return b"".join((head, body, tail))


def _view(args: tuple, before: str) -> tuple[dict, bool]:
    """The overview stored under ``before``, or computed; and whether it may be stored (``stable``).

    A computed overview is stored only if the version read after computing it
    equals the one read before, and no audited action (every organiser change
    records one) was committed meanwhile — so a change made during the
    computation, even one undone again at once, is never filed under the key of
    the state before it.
    """
    view = _stored("get", before)
    if view is not None:
        return view, True
    # Read after the key: a change between the two shows in the key read after computing.
    mark = _audit_mark()
    view = campaign_overview(*args)
    # The page reads the plain rows; the frames stay out of the memo (unpickling them cost more than the rest).
    view = {name: value for name, value in view.items() if name not in FRAMES}
    stable = version_key(*args) == before and _audit_mark() == mark
    if stable:
        _stored("set", before, view)
    return view, stable


def _audit_mark() -> Optional[int]:
    """The newest audit entry's id: it moves with every audited change, never back."""
    return db.session.scalar(select(func.max(AuditLog.id)))
