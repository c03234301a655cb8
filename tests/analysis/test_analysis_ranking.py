"""analysis.ranking: ranks for judged units only, the two ends of a ranking, ballots per day, export order."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis import disclosure, ranking


def _units(n: int, unjudged: int = 0) -> pd.DataFrame:
    rows = [{"unit_id": i, "unit": f"单位{i:03d}", "judged": i >= unjudged, "overall_rate": 0.5 + i / (4 * n)}
            for i in range(n)]
    return disclosure.rank_units(disclosure.mask_unjudged(pd.DataFrame(rows)))


def test_ranks_number_judged_units_only_and_the_rest_come_last():
    ranked = ranking.with_ranks(_units(5, unjudged=2))
    assert list(ranked["rank"]) == [1, 2, 3, None, None]
    assert list(ranked["unit_id"][:3]) == [4, 3, 2]
    assert list(ranking.label_ranks(ranked)) == ["1. 单位004", "2. 单位003", "3. 单位002", "—. 单位000", "—. 单位001"]


def test_edges_are_the_first_and_last_n_or_everything_when_short():
    ranked = ranking.with_ranks(_units(100, unjudged=3))
    ends = ranking.edges(ranked, 30)
    assert len(ends) == 60 and list(ends["rank"][:30]) == list(range(1, 31))
    assert list(ends["rank"][30:57]) == list(range(71, 98)) and list(ends["rank"][57:]) == [None] * 3
    assert len(ranking.edges(ranked.head(60), 30)) == 60


def test_per_day_fills_the_days_without_ballots():
    days = pd.DataFrame({"day": [dt.date(2026, 5, 1), dt.date(2026, 5, 4)], "n": [3, 7]})
    filled = ranking.per_day(days)
    assert list(filled["n"]) == [3, 0, 0, 7] and filled["day"].iloc[1] == pd.Timestamp(2026, 5, 2)
    assert ranking.per_day(days.iloc[0:0]).empty


def test_documents_in_ranking_order_for_the_exports():
    docs = [{"evaluation_id": 1, "unit": "乙", "judged": False, "overall_rate": None},
            {"evaluation_id": 2, "unit": "甲", "judged": True, "overall_rate": 0.7},
            {"evaluation_id": 3, "unit": "丙", "judged": True, "overall_rate": 0.9}]
    assert [d["evaluation_id"] for d in ranking.ranked_documents(docs)] == [3, 2, 1]
