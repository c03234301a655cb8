"""Database ids taken from URLs, query strings and forms, bounded to the INTEGER column.

An id past the column type does not miss in the database, it makes the driver
raise (PostgreSQL above 2**31 - 1, SQLite above 2**63 - 1): a 500 instead of a
404. Every ``<int:…>`` of a route, every id read from a query string or form,
and every id a service is handed by the CLI goes through one of the helpers
below, so no such number reaches a query.
"""
from __future__ import annotations

from flask import abort

MAX_ID = 2**31 - 1  # INTEGER on PostgreSQL; SQLite's is wider, so this bound holds for both


def refuse_ids_past_the_column(endpoint, values) -> None:
    """``url_value_preprocessor``: a 404 when an ``<int:…>`` of the URL exceeds MAX_ID.

    Checked after routing rather than in the converter: a converter that
    refuses the number makes Werkzeug answer a POST with 405 (it has already
    seen the GET rule of the same path), where 404 is the truth.
    """
    if values and any(isinstance(value, int) and value > MAX_ID for value in values.values()):
        abort(404)


def db_id(value: str) -> int:
    """``type=`` for ``request.args.get``/``form.get``: an id in 1..MAX_ID, else ValueError.

    Werkzeug turns the ValueError into the default, so a forged or huge value
    reads as "not given".
    """
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError(value)
    return number


def get_by_id(model, identifier: int, **options):
    """``db.session.get`` that misses (None) for an id no row can have, instead of raising.

    For services that also take ids from the CLI (``flask results e99999999999``),
    where no URL rule stood in front.
    """
    from extensions import db

    if not 0 < identifier <= MAX_ID:
        return None
    return db.session.get(model, identifier, **options)
