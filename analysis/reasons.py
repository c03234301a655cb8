"""The make-up decision in words, Chinese first, English second (rule 7).

Organisers print these sentences in reports and liaisons read them on screen, so they
name the indicators below the threshold with their rates rather than only a count.
Chinese uses full-width punctuation (,:、) as a printed report would.

Both languages are computed for every unit (``reason_zh`` and ``reason_en`` of the
results, ``reason`` and ``reason_en`` of the API), one plain loop over the few hundred
units; a page shows the one in its reader's language. Each English
sentence starts with a capital and agrees in number ("1 ballot", "1 indicator"), so it
reads on its own as the Chinese one does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def percent_label(value: float, decimals: int = 1) -> str:
    """Format a rate as a percentage with fixed decimals: 0.52 → '52.0%'."""
    return f"{value * 100:.{decimals}f}%"


def threshold_label(value: float) -> str:
    """Format a threshold without needless decimals: 0.6 → '60%', 0.625 → '62.5%'."""
    # .10g hides float noise such as 0.7 * 100 = 70.00000000000001
    return f"{value * 100:.10g}%"


def _item_lists(units: pd.DataFrame, unsat_items: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Per unit row, the unsatisfactory items as 'text 52.0%' joined for zh and en.

    Plain Python over the few unsatisfactory items: cheaper than a pandas groupby here.
    """
    labels: dict[tuple, list[str]] = {}
    listed = sorted(zip(unsat_items["position"].tolist(), unsat_items["item_id"].tolist(),
                        unsat_items["evaluation_id"].tolist(), unsat_items["unit_id"].tolist(),
                        unsat_items["text"].tolist(), unsat_items["rate"].tolist()),
                    key=lambda row: (pd.isna(row[0]), 0 if pd.isna(row[0]) else row[0], row[1]))
    for _, _, evaluation_id, unit_id, text, rate in listed:
        text = "" if pd.isna(text) else str(text)
        labels.setdefault((evaluation_id, unit_id), []).append(text + " " + percent_label(rate))
    pairs = list(zip(units["evaluation_id"].tolist(), units["unit_id"].tolist()))
    return (["、".join(labels.get(pair, ())) for pair in pairs],
            [", ".join(labels.get(pair, ())) for pair in pairs])


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
    list_zh, list_en = _item_lists(units, unsat_items)
    zh, en = [], []
    rows = zip(units["n_rated_items"].tolist(), units["n_unsatisfactory"].tolist(),
               units["n_ballots"].tolist(), units["min_ballots"].tolist(), units["threshold"].tolist(),
               units["judged"].astype(bool).tolist(), units["needs_makeup"].astype(bool).tolist(),
               list_zh, list_en)
    # One unit at a time in Python: a few hundred short sentences cost less than
    # a dozen vectorised string operations on pandas Series.
    for rated, unsat, ballots, minimum, threshold, judged, makeup, items_zh, items_en in rows:
        limit = threshold_label(threshold)
        ballot_word = " ballot" if ballots == 1 else " ballots"
        indicator_word = " indicator" if rated == 1 else " indicators"
        no_rated, some_unsat = rated == 0, unsat > 0
        rated, unsat, ballots, minimum = str(rated), str(unsat), str(ballots), str(minimum)
        if not judged:
            zh.append("有效票 " + ballots + " 张,少于最低 " + minimum + " 张,不作评判")
            en.append("Only " + ballots + ballot_word + ", fewer than the minimum of " + minimum
                      + "; not judged")
        elif no_rated:
            zh.append("没有获得有效评价的指标,不作补课判定")
            en.append("No indicator received valid answers; no make-up decision")
        elif makeup:
            zh.append(rated + " 项指标中有 " + unsat + " 项低于 " + limit + ":" + items_zh)
            en.append(unsat + " of " + rated + indicator_word + " below " + limit + ": " + items_en)
        elif some_unsat:
            zh.append(rated + " 项指标中有 " + unsat + " 项低于 " + limit + ",未过半数")
            en.append(unsat + " of " + rated + indicator_word + " below " + limit + ", not a majority")
        else:
            zh.append(rated + " 项指标均不低于 " + limit)
            en.append("None of " + rated + indicator_word + " below " + limit)
    return (pd.Series(np.array(zh, dtype=object), index=units.index),
            pd.Series(np.array(en, dtype=object), index=units.index))
