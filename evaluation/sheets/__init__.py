"""Paper ballots read from scans (issue 16): printed answer sheets, the reader, the review queue.

``layout`` places a questionnaire's bubbles; ``printing`` draws the sheets and
``issuing`` issues their codes; ``images`` turns uploaded files into page
images; ``reading`` finds markers, QR and marks on a page; ``processing``
refuses or redeems each sheet through the ballot box; ``queue`` keeps a batch's
files and pending sheets in a private directory; ``review`` applies an
operator's decisions; ``routes``, ``review_routes`` and ``cli`` are the doors in.
"""
from __future__ import annotations

import os

from flask import Flask


def init_app(app: Flask) -> None:
    """Start-up sweep: delete scan batches left over from an earlier run (untouched for SCAN_KEEP_HOURS).

    A batch in use is touched by every page read and every decision, so only
    abandoned work is removed; its codes stay unused and the paper can be
    scanned again.
    """
    folder = app.config.get("SCAN_DIR") or os.path.join(app.instance_path, "scans")
    if os.path.isdir(folder):
        with app.app_context():
            from . import queue

            queue.sweep(float(app.config.get("SCAN_KEEP_HOURS", 24)) * 3600)
