"""Results documents: the JSON of the API, the CLI and the exports.

One dict per evaluation or campaign, built from :mod:`evaluation.results.frames`
through :mod:`analysis.documents` (disclosure applied there), serialised by
:func:`results_json` to exactly the text the API answers and the CLI prints.
"""
from __future__ import annotations

import json
from typing import Optional

from sqlalchemy import select

import analysis
from analysis.documents import json_records, results_document
from extensions import db
from ids import get_by_id
from models import Campaign, Evaluation
from surveys import box

from evaluation.results.frames import Frames, campaign_evaluation_ids, campaign_keys, load_frames


class ResultsNotFound(LookupError):
    """No such evaluation, campaign or questionnaire; callers answer 404 or a CLI error."""


def _sorted_documents(frames: Frames, for_liaison: bool = False) -> list[dict]:
    """Per-unit documents (analysis.documents) in a stable order: unit, then evaluation."""
    return sorted(results_document(*frames.args(), for_liaison=for_liaison),
                  key=lambda d: (d["unit_id"], d["evaluation_id"]))


def evaluation_document(evaluation_id: int, for_liaison: bool = False) -> dict:
    """The results of one evaluation as a JSON-ready dict (its unit in ``units``).

    ``for_liaison`` hides the per-item figures of a unit that is not judged
    (rule 6); checking that the liaison may see the unit is the caller's job.
    """
    evaluation = get_by_id(Evaluation, evaluation_id)
    if evaluation is None:
        raise ResultsNotFound(f"测评 {evaluation_id} 不存在 / No evaluation with id {evaluation_id}.")
    return {"evaluation_id": evaluation.id, "campaign_id": evaluation.campaign_id,
            "unit_id": evaluation.unit_id, "questionnaire": evaluation.questionnaire.key,
            "questionnaire_title": evaluation.questionnaire.title, "status": evaluation.status.value,
            "previous_id": evaluation.previous_id, "threshold": evaluation.threshold,
            "min_ballots": evaluation.min_ballots,
            # ballots sealed in the box, not yet in any figure (counted in batches, the rest at close)
            "sealed": box.sealed_counts([evaluation.id]).get(evaluation.id, 0),
            "units": _sorted_documents(load_frames([evaluation.id]), for_liaison)}


def campaign_document(campaign_id: int, questionnaire_key: Optional[str] = None,
                      unit_ids: Optional[set[int]] = None, for_liaison: bool = False) -> dict:
    """A campaign's current-round results for one questionnaire (default: its most used).

    ``units`` has one document per evaluation scored; ``committees`` the roll-up per
    committee (analysis.committee_rollup) as plain records. ``unit_ids`` (a
    liaison's subtree) keeps only those units' evaluations, the roll-up included;
    ``for_liaison`` hides the per-item figures of units that are not judged.
    """
    campaign = get_by_id(Campaign, campaign_id)
    if campaign is None:
        raise ResultsNotFound(f"活动 {campaign_id} 不存在 / No campaign with id {campaign_id}.")
    keys = campaign_keys(campaign_id)
    if questionnaire_key and questionnaire_key not in keys:
        raise ResultsNotFound(f"本活动没有使用测评表 {questionnaire_key} / Campaign {campaign_id} has no "
                              f"evaluation with questionnaire {questionnaire_key!r} (it uses: {', '.join(keys)}).")
    key = questionnaire_key or (keys[0] if keys else None)
    ids = campaign_evaluation_ids(campaign_id, key) if key else []
    if unit_ids is not None:
        ids = list(db.session.scalars(select(Evaluation.id).where(Evaluation.id.in_(ids),
                                                                  Evaluation.unit_id.in_(unit_ids))))
    frames = load_frames(ids, per_option=False)
    committees = json_records(analysis.committee_rollup(analysis.unit_results(*frames.args())))
    return {"campaign_id": campaign.id, "campaign": campaign.name, "questionnaire": key,
            "questionnaires": keys, "units": _sorted_documents(frames, for_liaison), "committees": committees}


def results_json(document: dict) -> str:
    """Serialise a results document: the exact text of the API response and of the CLI.

    UTF-8 text (no ``\\uXXXX`` for Chinese), NaN refused, and ``< > &`` written as
    ``\\u003c \\u003e \\u0026`` so a unit named ``<script>`` stays inert even if the JSON
    is ever pasted into an HTML page; it still decodes to the same strings.
    """
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"
