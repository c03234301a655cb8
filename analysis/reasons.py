"""The make-up decision in words, Chinese first, English second (rule 7).

Organisers print these sentences in reports and liaisons read them on screen, so they
name the indicators below the threshold with their rates rather than only a count.
Chinese uses full-width punctuation (,:、) as a printed report would.

Both languages are computed for every unit (``reason_zh`` and ``reason_en`` of the
results, ``reason`` and ``reason_en`` of the API), whole sentences built vectorised for
hundreds of units; a page shows the one in its reader's language. Each English
sentence starts with a capital and agrees in number ("1 ballot", "1 indicator"), so it
reads on its own as the Chinese one does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EVAL_KEYS = ["evaluation_id", "unit_id"]


def percent_label(value: float, decimals: int = 1) -> str:
    """Format a rate as a percentage with fixed decimals: 0.52 → '52.0%'."""
    return f"{value * 100:.{decimals}f}%"


def threshold_label(value: float) -> str:
    """Format a threshold without needless decimals: 0.6 → '60%', 0.625 → '62.5%'."""
    # .10g hides float noise such as 0.7 * 100 = 70.00000000000001
    return f"{value * 100:.10g}%"


def _item_lists(units: pd.DataFrame, unsat_items: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per unit row, the unsatisfactory items as 'text 52.0%' joined for zh and en."""
    listed = unsat_items.sort_values(["position", "item_id"])
    labels = listed["text"].fillna("").astype(str) + " " + listed["rate"].map(percent_label)
    joined = labels.groupby([listed[k] for k in EVAL_KEYS]).agg(
        zh="、".join, en=", ".join)
    index = pd.MultiIndex.from_frame(units[EVAL_KEYS])
    zh = joined["zh"].reindex(index).fillna("").to_numpy(dtype=object)
    en = joined["en"].reindex(index).fillna("").to_numpy(dtype=object)
    return zh, en


def reason_texts(units: pd.DataFrame,
                 unsat_items: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Build the reason sentences for each unit row.

    ``units`` needs evaluation_id, unit_id, n_ballots, min_ballots, threshold,
    n_rated_items, n_unsatisfactory, judged, needs_makeup; ``unsat_items`` holds the
    unsatisfactory item rows (evaluation_id, unit_id, item_id, position, text, rate).
    Returns ``(reason_zh, reason_en)`` aligned with ``units.index``.

    Examples: '有效票 5 张,少于最低 8 张,不作评判';
    '5 项指标中有 3 项低于 60%:查找突出问题情况 52.0%、…';
    '5 项指标中有 1 项低于 60%,未过半数'; '5 项指标均不低于 60%'.
    """
    rated = units["n_rated_items"].astype(str)
    unsat = units["n_unsatisfactory"].astype(str)
    ballots = units["n_ballots"].astype(str)
    minimum = units["min_ballots"].astype(str)
    limit = units["threshold"].map(threshold_label)
    list_zh, list_en = _item_lists(units, unsat_items)
    ballot_word = np.where(units["n_ballots"] == 1, " ballot", " ballots")
    indicator_word = np.where(units["n_rated_items"] == 1, " indicator", " indicators")

    conditions = [
        ~units["judged"].astype(bool),
        units["n_rated_items"] == 0,
        units["needs_makeup"].astype(bool),
        units["n_unsatisfactory"] > 0,
    ]
    zh = np.select(conditions, [
        "有效票 " + ballots + " 张,少于最低 " + minimum + " 张,不作评判",
        pd.Series("没有获得有效评价的指标,不作补课判定", index=units.index),
        rated + " 项指标中有 " + unsat + " 项低于 " + limit + ":" + list_zh,
        rated + " 项指标中有 " + unsat + " 项低于 " + limit + ",未过半数",
    ], default=rated + " 项指标均不低于 " + limit)
    en = np.select(conditions, [
        "Only " + ballots + ballot_word + ", fewer than the minimum of " + minimum
        + "; not judged",
        pd.Series("No indicator received valid answers; no make-up decision",
                  index=units.index),
        unsat + " of " + rated + indicator_word + " below " + limit + ": " + list_en,
        unsat + " of " + rated + indicator_word + " below " + limit + ", not a majority",
    ], default="None of " + rated + indicator_word + " below " + limit)
    return pd.Series(zh, index=units.index), pd.Series(en, index=units.index)
