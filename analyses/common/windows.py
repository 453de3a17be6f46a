"""Fixed-length windows of the sounding part of a clip, spread evenly over it: what a learned
model scores when it cannot afford every window of a long recording."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from workbench.analyses.common.resample import mono_pieces
from workbench.core.clip import Clip


def sounding_windows(clip: Clip, rate_hz: int, window_samples: int, *, max_windows: int, below_db: float,
                     shortest_samples: int, pad: bool = False) -> tuple[list[float], list[np.ndarray]]:
    """Start times and samples of up to ``max_windows`` windows with sound, evenly spread.

    Parameters
    ----------
    clip : Clip
    rate_hz : int
        Rate of the mono mix the windows are cut from, in Hz.
    window_samples : int
        Length of a window at ``rate_hz``, in samples.
    max_windows : int
        At most this many windows are returned, spread evenly over the sounding ones.
    below_db : float
        Windows more than this many dB below the loudest (95th percentile of window levels) are
        not sounding; nor is a window below -70 dBFS.
    shortest_samples : int
        A window at the end of the clip shorter than this is dropped.
    pad : bool
        Repeat a short window's samples up to ``window_samples`` (for a model with a fixed input).

    Returns
    -------
    starts : list of float
        Start of each window, in seconds.
    windows : list of np.ndarray [shape=(n,), float32]
        Their samples at ``rate_hz``.
    """
    starts, levels = [], []
    for first_s, window in _walk(clip, rate_hz, window_samples, shortest_samples, pad, None):
        starts.append(first_s)
        levels.append(10 * np.log10(np.mean(window.astype(np.float64) ** 2) + 1e-20))
    if not starts:
        return [], []
    levels = np.array(levels)
    sounding = np.flatnonzero((levels > -70) & (levels >= np.percentile(levels, 95) - below_db))
    if not sounding.size:
        return [], []
    chosen = sounding[np.unique(np.linspace(0, sounding.size - 1, min(max_windows, sounding.size)).round().astype(int))]
    # A second walk, over the pieces that hold a chosen window, keeps only those: holding every
    # window of a 3-hour clip would cost gigabytes, and which are chosen is known only at the end.
    keep = [starts[i] for i in chosen]
    kept = set(keep)
    windows = [w.astype(np.float32) for first_s, w in _walk(clip, rate_hz, window_samples, shortest_samples, pad, keep)
               if first_s in kept]
    return keep, windows


def _walk(clip: Clip, rate_hz: int, window_samples: int, shortest_samples: int, pad: bool,
          only: list[float] | None) -> Iterator[tuple[float, np.ndarray]]:
    """Every window of the mono mix at ``rate_hz`` (of the pieces holding a start in ``only``,
    when given): start (s) and samples (as resampled)."""
    def wanted(lo_s: float, hi_s: float) -> bool:
        return only is None or any(lo_s <= s < hi_s for s in only)

    for start_s, y in mono_pieces(clip, rate_hz, piece_s=window_samples / rate_hz * 15, wanted=wanted):
        for first in range(0, y.size - shortest_samples + 1, window_samples):
            window = y[first : first + window_samples]
            if pad and window.size < window_samples:
                window = np.resize(window, window_samples)
            yield start_s + first / rate_hz, window
