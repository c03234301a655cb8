"""Group-by on numpy arrays, giving exactly what pandas' groupby gives, for analysis/scoring.py.

A campaign's results are a few thousand rows; pandas' groupby, merge and astype cost
0.2–2 ms each in fixed overhead, and the scoring chain made dozens of them (issue 5:
results at 1M ballots had to beat DuckDB's scan). These helpers do the same work in a
handful of numpy calls. Exactness is the contract: sums of floats take the same path
as pandas 3 takes (``np.add.reduceat`` on rows sorted by group, else its compensated
Kahan loop in row order), so a weighted rate such as (0.1 + 0.2 + 0.3) lands on the
same last bit as before; integer sums are exact anyway.
tests/analysis/test_scoring_equivalence.py compares every scoring frame with the
pandas code this replaced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def int_keys(frame: pd.DataFrame, columns: list[str]) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The key columns as int64 arrays, and a mask of rows to keep (None: all).

    pandas' groupby drops rows with a missing key and the old code cast the keys to
    int64 afterwards; rows with a missing key are dropped here too.
    """
    keep = None
    for column in columns:
        if not pd.api.types.is_integer_dtype(frame[column].dtype):
            missing = frame[column].isna().to_numpy()
            if missing.any():
                keep = ~missing if keep is None else keep & ~missing
    arrays = []
    for column in columns:
        values = frame[column].to_numpy()
        if keep is not None:
            values = values[keep]
        arrays.append(values.astype(np.int64, copy=False))
    return arrays, keep


def sort_order(keys: list[np.ndarray]) -> np.ndarray | None:
    """A stable row order sorting by the keys, first key major; None if already sorted.

    Stable, so rows of one group keep their relative order, as pandas visits them.
    """
    if len(keys[0]) < 2:
        return None
    ahead = np.zeros(len(keys[0]) - 1, dtype=bool)  # pairs already strictly ordered
    for key in keys:
        later, earlier = key[1:], key[:-1]
        if (~ahead & (later < earlier)).any():
            return np.lexsort(keys[::-1])
        ahead |= later > earlier
    return None


def run_starts(keys: list[np.ndarray]) -> np.ndarray:
    """Index of the first row of each run of equal consecutive key tuples (rows in key order)."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


def run_lengths(starts: np.ndarray, n: int) -> np.ndarray:
    """Rows in each run, from the runs' first rows and the total number of rows."""
    return np.diff(np.append(starts, n))


def run_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum of each run, as pandas' groupby sums rows sorted by group without NaN.

    pandas 3 then calls ``np.add.reduceat`` itself (``BaseGrouper._reduceat_aggregate``),
    so calling it here gives the same bits; integer sums are exact anyway.
    """
    if len(starts) == 0:
        return np.zeros(0, dtype=values.dtype)
    return np.add.reduceat(values, starts)


def _compensated_sums(values: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per run: the sum of the non-NaN values and how many there were.

    The compensated summation, in the same row order, of pandas' Cython ``group_mean``
    (pandas/_libs/groupby.pyx), which pandas uses when rows are not sorted by group or
    a value is NaN; vectorised across runs: step r adds the r-th value of every run.
    """
    lengths = run_lengths(starts, len(values))
    total = np.zeros(len(starts))
    compensation = np.zeros(len(starts))
    seen = np.zeros(len(starts), dtype=np.int64)
    for step in range(int(lengths.max()) if len(lengths) else 0):
        live = np.flatnonzero(lengths > step)
        value = values[starts[live] + step]
        present = ~np.isnan(value)
        live, value = live[present], value[present]
        seen[live] += 1
        y = value - compensation[live]
        t = total[live] + y
        c = t - total[live] - y
        c[np.isnan(c)] = 0.0  # pandas GH#53606: an infinite value must not turn the sum NaN
        compensation[live] = c
        total[live] = t
    return total, seen


def run_means(values: np.ndarray, starts: np.ndarray, was_sorted: bool) -> np.ndarray:
    """Per run, the mean of the non-NaN values (NaN if none), bit for bit as pandas' groupby mean.

    ``was_sorted``: the caller's rows were already in group order. pandas then divides
    ``np.add.reduceat`` sums by the run sizes if no value is NaN, and otherwise (or when
    the rows were not in group order) uses its compensated Cython kernel.
    """
    if len(starts) == 0:
        return np.zeros(0)
    if was_sorted and not np.isnan(values).any():
        return np.add.reduceat(values, starts) / run_lengths(starts, len(values)).astype(np.float64)
    total, seen = _compensated_sums(values, starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(seen > 0, total / np.where(seen > 0, seen, 1), np.nan)


def take(frame: pd.DataFrame, key: str, values, columns: list[str]) -> dict[str, object]:
    """Columns of ``frame`` for each of ``values`` looked up in its ``key`` column.

    What a left merge on a unique key gives: the frame's dtypes, and NaN (or the
    dtype's missing value, promoting integers to float) where a value has no row.
    """
    indexer = pd.Index(frame[key]).get_indexer(values)
    return {c: pd.api.extensions.take(frame[c].array, indexer, allow_fill=True) for c in columns}


def empty_join_keys(frame: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> None:
    """Give an empty ``frame`` the key dtypes a left merge with an empty ``right`` gave it.

    pandas makes such keys object when the right frame's are (the frames of no
    evaluation at all come from an empty query, with object columns); the lookups
    that replaced the merges would keep int64.
    """
    if len(frame) == 0 and len(right) == 0:
        for key in keys:
            if right[key].dtype == object:
                frame[key] = frame[key].astype(object)


def pair_lookup(keys_from: tuple, values_from: list, keys_to: tuple, missing=None) -> list:
    """For each (a, b) pair of ``keys_to``, the value of that pair in ``keys_from`` / ``values_from``.

    For the few hundred evaluation × unit pairs a dict beats a MultiIndex join.
    """
    table = dict(zip(zip(*(k.tolist() for k in keys_from)), values_from))
    return [table.get(pair, missing) for pair in zip(*(k.tolist() for k in keys_to))]
