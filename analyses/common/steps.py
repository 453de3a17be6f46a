"""Step detection on measurement tracks: where the level of a track changes and stays changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from workbench.analyses.common.runs import true_runs
from workbench.core.model import Finding


@dataclass(frozen=True)
class Step:
    """A step in a track between index ``index - 1`` and ``index``.

    Attributes
    ----------
    index : int
        First value after the step.
    before, after : float
        Median of the track over the context on each side.
    """

    index: int
    before: float
    after: float

    @property
    def size(self) -> float:
        return self.after - self.before


def find_steps(track: np.ndarray, *, context: int, threshold: float, min_valid: int = 2) -> list[Step]:
    """Find the places where the median of ``context`` values after a boundary differs from the
    median of ``context`` values before it by at least ``threshold``.

    Each run of boundaries above the threshold gives one step, at its largest difference. NaN
    values are ignored; a side with fewer than ``min_valid`` values is not judged. Transients
    shorter than about half the context do not move a median and so give no step.

    Parameters
    ----------
    track : np.ndarray [shape=(n,)]
    context : int >= 1
        Values on each side of a boundary.
    threshold : float > 0
        Smallest absolute difference of medians reported, in the track's unit.
    """
    track = np.asarray(track, dtype=float)
    boundaries = np.arange(context, track.size - context + 1)
    sizes = np.full(boundaries.size, np.nan)
    before = np.full(boundaries.size, np.nan)
    after = np.full(boundaries.size, np.nan)
    for i, b in enumerate(boundaries):
        left, right = track[b - context : b], track[b : b + context]
        left, right = left[~np.isnan(left)], right[~np.isnan(right)]
        if left.size >= min_valid and right.size >= min_valid:
            before[i], after[i] = np.median(left), np.median(right)
            sizes[i] = after[i] - before[i]
    above = np.nan_to_num(np.abs(sizes), nan=0.0) >= threshold
    steps = []
    for start, stop in zip(*true_runs(above)):
        best = start + int(np.nanargmax(np.abs(sizes[start:stop])))
        steps.append(Step(int(boundaries[best]), float(before[best]), float(after[best])))
    return steps


def best_split(values: np.ndarray) -> int:
    """Index that best splits ``values`` into two constant pieces (least squares), in [1, n-1].

    Used to place a step found on a coarse track at the resolution of a finer one.
    """
    values = np.asarray(values, dtype=float)
    n = values.size
    if n < 2:
        return 0
    csum, csq = np.cumsum(values), np.cumsum(values**2)
    k = np.arange(1, n)
    left = csq[k - 1] - csum[k - 1] ** 2 / k
    right = (csq[-1] - csq[k - 1]) - (csum[-1] - csum[k - 1]) ** 2 / (n - k)
    return int(k[np.argmin(left + right)])


def strongest_apart(findings: list[Finding], *, min_gap_s: float,
                    by: Callable[[Finding], float] = lambda f: f.strength) -> list[Finding]:
    """Keep the strongest (largest ``by``: the strength unless told) of findings that start closer
    than ``min_gap_s`` to each other (one event seen twice: in two channels, or by two overlapping
    windows), in time order."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: -by(f)):
        if all(abs(finding.start_s - other.start_s) >= min_gap_s for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start_s)
