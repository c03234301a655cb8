"""Issuing codes as printed answer sheets: the service behind ``sheets print`` and the codes page.

The codes are issued exactly as slips are (keyed hashes stored, plain codes
returned once); here they go straight into the PDF and are then forgotten.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask import current_app, has_request_context, url_for

from extensions import db
from models import Evaluation
from surveys import structure
from surveys.codes import format_code

from evaluation.accounts import audit
from evaluation.services import ServiceError, issue_codes
from .layout import PAPERS, Layout, fits, layout
from .printing import SheetText, render


@dataclass
class Printed:
    """A printed batch: the PDF bytes and the layout its sheets follow."""

    pdf: bytes
    layout: Layout
    count: int


def sheet_layout(questionnaire_id: int, paper: str = "A4") -> Layout:
    """The layout of a questionnaire's sheet on ``paper`` (A5 only when it fits one page)."""
    view = structure.questionnaire(questionnaire_id)
    if paper == "A5":
        placed = fits(view, "A5")
        if placed is None:
            raise ServiceError("测评表在 A5 纸上放不下一页,请用 A4 / the questionnaire does not fit one A5 page")
        return placed
    if paper not in PAPERS:
        raise ServiceError(f"纸张只能是 A4 或 A5 / paper must be A4 or A5, not {paper}")
    try:
        return layout(view, paper)
    except ValueError as error:
        raise ServiceError(str(error)) from None


def ballot_link(code: str, base_url: Optional[str] = None) -> str:
    """The QR's link for ``code``: ``<base>/v#CODE``, the code in the fragment as on slips."""
    if base_url:
        return base_url.rstrip("/") + "/v#" + format_code(code)
    if has_request_context():
        return url_for("surveys.ballot", _external=True) + "#" + format_code(code)
    base = current_app.config.get("PUBLIC_URL") or "http://localhost:5000"
    return base.rstrip("/") + "/v#" + format_code(code)


def print_sheets(evaluation_id: int, group_name: str, count: int, paper: str = "A4",
                 base_url: Optional[str] = None, user_id: Optional[int] = None) -> Printed:
    """Issue ``count`` codes of one evaluation and rater group and print one sheet per code."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise ServiceError(f"测评 {evaluation_id} 不存在 / no evaluation {evaluation_id}")
    placed = sheet_layout(evaluation.questionnaire_id, paper)  # refuse before issuing anything
    title, unit = evaluation.questionnaire.title, evaluation.unit.name
    plain = issue_codes(evaluation_id, group_name, count, user_id)
    # Audited like slips: how many codes, for which evaluation and group, and that they went onto sheets.
    audit.record("codes_issue", f"evaluation:{evaluation_id}", codes=len(plain), group=group_name, form="sheets")
    db.session.commit()
    sheets = [SheetText(format_code(c), ballot_link(c, base_url), title, unit, group_name) for c in plain]
    return Printed(render(sheets, placed), placed, len(plain))
