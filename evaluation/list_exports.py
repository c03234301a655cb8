"""The CSV and XLSX download of a list, with the rows its page shows under the same filters.

Every list export goes through :func:`download`: the caller has already applied the reader's
scope, the list's filters and its search and order (:func:`evaluation.listing.all_rows`), so
this module only writes cells. Text cells are neutralised against spreadsheet formulas (a unit
name is typed by whoever fills in the unit sheet), and the export is recorded in the audit log.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import Response, abort

from analysis.exports import neutralise
from analysis.xlsx_stream import stream_xlsx
from extensions import db

from evaluation.accounts.audit import record
from evaluation.results.exports import CSV_MIMETYPE, XLSX_MIMETYPE, content_disposition

FORMATS = ("csv", "xlsx")


def _csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], chunk_rows: int = 500) -> Iterator[str]:
    """CSV text: a BOM (Excel reads BOM-less UTF-8 as the local code page), the header, then rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([neutralise(h) for h in header])
    for n, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else neutralise(v) for v in row])
        if n % chunk_rows == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def download(fmt: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], ascii_stem: str,
             display_stem: str, target: str) -> Response:
    """The list as ``fmt`` (``csv`` or ``xlsx``; anything else is 404), audited as an export of ``target``."""
    if fmt not in FORMATS:
        abort(404)
    record("export", target, what=f"{ascii_stem}.{fmt}")
    db.session.commit()
    # Cells are read from the database before the response starts, so the body needs no request context.
    rows = [[neutralise(v) for v in row] for row in rows]
    if fmt == "csv":
        body = (chunk.encode("utf-8") for chunk in _csv_chunks(header, rows))
        mimetype = CSV_MIMETYPE
    else:
        body = stream_xlsx([(title[:31] or "sheet", list(header), rows)])
        mimetype = XLSX_MIMETYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(f"{ascii_stem}.{fmt}", f"{display_stem}.{fmt}")
    response.headers["Cache-Control"] = "no-store"
    return response
