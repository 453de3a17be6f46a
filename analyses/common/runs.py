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


def touching_groups(starts: np.ndarray, ends: np.ndarray, mask: np.ndarray) -> list[list[int]]:
    """Indices of the selected segments, grouped where one ends where the next starts."""
    groups: list[list[int]] = []
    for i in np.flatnonzero(mask):
        if groups and groups[-1][-1] == i - 1 and abs(ends[i - 1] - starts[i]) < 1e-6:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    return groups
