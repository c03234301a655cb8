"""Count what waits in the ballot box of evaluations that no longer accept ballots, before results are read.

An evaluation stops accepting ballots when it is closed (which counts its box
at once) or when its window ends, which happens with nobody pressing a button.
Its last batch is counted here, before any organiser page or API answer, so
results never leave out ballots that were cast. The check is one query on the
(small) box table; ``flask --app app box settle`` does the same from cron.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from surveys import box

_PREFIXES = ("/admin", "/api/")


def init_app(app: Flask) -> None:
    """Settle due boxes before every organiser page and API request that reads data (GET)."""

    @app.before_request
    def settle_due_boxes():
        if request.method != "GET" or not request.path.startswith(_PREFIXES):
            return None
        try:
            box.settle()
        except SQLAlchemyError:
            # A busy database: the page still shows what is counted; the next request tries again.
            db.session.rollback()
            current_app.logger.warning("ballot box: settling postponed (database error)", exc_info=True)
        return None
