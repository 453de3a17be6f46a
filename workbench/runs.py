"""Finding and merging runs of True in boolean arrays."""

from __future__ import annotations

import numpy as np


def true_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (starts, stops) of the runs of True in a 1-D boolean array; stops are exclusive."""
    mask = np.asarray(mask, dtype=bool)
    if mask.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return edges[0::2], edges[1::2]


def merge_runs(
    starts: np.ndarray, stops: np.ndarray, *, max_gap: int
) -> list[tuple[int, int, list[int]]]:
    """Merge runs closer than ``max_gap`` samples; return (start, stop, member indices) triples.

    ``starts`` must be sorted.
    """
    merged: list[tuple[int, int, list[int]]] = []
    for index, (start, stop) in enumerate(zip(starts, stops)):
        if merged and start - merged[-1][1] <= max_gap:
            first, last, members = merged[-1]
            merged[-1] = (first, max(last, int(stop)), members + [index])
        else:
            merged.append((int(start), int(stop), [index]))
    return merged
