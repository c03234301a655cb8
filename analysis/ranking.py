"""Ranks and the slice of a ranking a page shows: pure pandas, no Flask.

The overview of a campaign with hundreds of units cannot draw every bar. It shows
the best and the worst ``n`` by default, one committee when one is picked, or all
when asked. Ranks are numbered over judged units only: a unit that is not judged
(fewer ballots than its minimum, analysis/disclosure.py) has no rate, so it gets no
rank number either and stays after every judged unit.
"""

from __future__ import annotations

import pandas as pd

#: Units shown at each end of the ranking by default (issue 14: the top and bottom 30).
EDGE = 30


def with_ranks(ranked: pd.DataFrame) -> pd.DataFrame:
    """``ranked`` (disclosure.rank_units order) with ``rank``: 1… for judged units, None for the rest."""
    judged = ranked["judged"].fillna(False).astype(bool).to_numpy()
    ranks = pd.Series(range(1, len(ranked) + 1), index=ranked.index, dtype=object)
    # rank_units puts every judged unit first, so counting positions numbers them 1..n in order.
    return ranked.assign(rank=ranks.where(judged, None))


def edges(ranked: pd.DataFrame, n: int = EDGE) -> pd.DataFrame:
    """The first and last ``n`` rows of a ranking (all of it when it has at most ``2n`` rows).

    The last rows include the units not judged, which rank last: the slice is the
    ranking's two ends as they are, never a reordering of it.
    """
    if len(ranked) <= 2 * n:
        return ranked
    return pd.concat([ranked.head(n), ranked.tail(n)])


def label_ranks(ranked: pd.DataFrame) -> pd.Series:
    """Unit names prefixed with their rank ('12. 某单位'), '—' for units without one.

    Used as chart labels when the chart shows a slice: the numbers make the gap between
    the best and the worst visible.
    """
    rank = ranked["rank"].map(lambda r: "—" if r is None or r != r else str(int(r)))
    return rank + ". " + ranked["unit"].fillna("").astype(str)


def per_day(days: pd.DataFrame) -> pd.DataFrame:
    """``day``, ``n`` rows (ballots counted, by the day they were cast) with the missing days as 0.

    A day with no ballot is a real zero on the chart, not a gap that joins its neighbours.
    """
    if days.empty:
        return pd.DataFrame({"day": pd.Series(dtype="datetime64[ns]"), "n": pd.Series(dtype="int64")})
    frame = days.assign(day=pd.to_datetime(days["day"])).groupby("day", as_index=True)["n"].sum()
    full = pd.date_range(frame.index.min(), frame.index.max(), freq="D")
    return frame.reindex(full, fill_value=0).rename_axis("day").reset_index().astype({"n": "int64"})


def ranked_documents(units: list[dict]) -> list[dict]:
    """Unit results documents (analysis.documents) in ranking order: judged best first, then the
    units not judged, by name — the order of the overview's table, for the exports."""
    def key(doc: dict) -> tuple:
        judged = bool(doc.get("judged")) and doc.get("overall_rate") is not None
        return (not judged, -(doc["overall_rate"] if judged else 0.0), str(doc.get("unit") or ""),
                doc.get("evaluation_id") or 0)

    return sorted(units, key=key)
