"""The mono mix at an analysis rate, delivered in pieces so a long recording is never held whole:
speech work runs at 16 kHz, hum work at 1 kHz.

The pieces are always at the rate asked for, whatever the clip's own rate: an 8 kHz call is
upsampled to 16 kHz for Praat, a 400 Hz mains reference to 1 kHz for the hum. Samples delivered
at the clip's rate but read at the analysis rate would play twice as fast (every frequency
doubled), so there is no pass-through. Content above the clip's own Nyquist frequency is absent
from an upsampled piece; analyses that need it ask :func:`content_limit_hz`.
"""

from __future__ import annotations

from math import gcd
from typing import Callable, Iterator

import numpy as np
from scipy import signal

from workbench.core.clip import Clip, spans


def mono_pieces(clip: Clip, rate_hz: int, *, piece_s: float = 300.0, margin_s: float = 1.0,
                wanted: Callable[[float, float], bool] | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """Walk the clip's mono mix resampled to ``rate_hz`` (polyphase, anti-aliased).

    Parameters
    ----------
    clip : Clip
    rate_hz : int
        Output rate in Hz, above or below the clip's rate (polyphase up- or downsampling); equal
        to it, the mix is passed through.
    piece_s : float
        Length of each piece in seconds. The last one runs to the end of the clip and is between
        half and one and a half pieces long (a remainder shorter than half a piece joins the
        piece before), so no piece is a sliver too short to analyse.
    margin_s : float
        Context read each side of a piece so the resampling filter has settled at its edges;
        it is cut off again, so consecutive pieces join without gap or overlap.
    wanted : callable (start_s, stop_s) -> bool, optional
        Pieces for which it returns False are neither resampled nor yielded; the others are
        exactly as a walk of every piece gives them.

    Yields
    ------
    start_s : float
        Time of the piece's first sample, in seconds from the start of the clip.
    y : np.ndarray [shape=(n,), float64]
        The piece at ``rate_hz``, whatever the clip's rate.
    """
    up, down = _ratio(clip, rate_hz)
    # Whole multiples of ``up`` output samples keep every piece on the input sample grid.
    core = up * max(1, int(piece_s * clip.sample_rate_hz) // down)
    for span in spans(resampled_frames(clip, rate_hz), core, join_tail=True):
        if wanted is None or wanted(span.start / rate_hz, span.stop / rate_hz):
            yield span.start / rate_hz, mono_range(clip, rate_hz, span.start, span.stop, margin_s=margin_s)


def resampled_frames(clip: Clip, rate_hz: int) -> int:
    """Number of samples of the clip's mono mix at ``rate_hz``."""
    up, down = _ratio(clip, rate_hz)
    return -(-clip.frames * up // down)


def mono_range(clip: Clip, rate_hz: int, lo: int, hi: int, *, margin_s: float = 1.0) -> np.ndarray:
    """Samples ``[lo, hi)`` of the clip's mono mix at ``rate_hz`` (float64), as they fall in the
    whole mix resampled at once: ``margin_s`` of input is read either side so the resampling
    filter has settled. An analysis walks :func:`~workbench.core.clip.spans` over
    :func:`resampled_frames` and reads each span (with its own margins) this way."""
    up, down = _ratio(clip, rate_hz)
    if up == down:
        return clip.mono_range(lo, hi).astype(np.float64)
    # Input frame ``m * down`` is output sample ``m * up``: start the read on that grid.
    block = lo // up
    margin = down * max(1, int(margin_s * clip.sample_rate_hz) // down)
    first = max(0, block * down - margin)
    last = min(clip.frames, -(-hi * down // up) + margin)
    y = signal.resample_poly(clip.mono_range(first, last).astype(np.float64), up, down)
    skip = (block * down - first) * up // down + (lo - block * up)
    return y[skip : skip + (hi - lo)]


def _ratio(clip: Clip, rate_hz: int) -> tuple[int, int]:
    """(up, down): the polyphase factors from the clip's rate to ``rate_hz``."""
    common = gcd(int(rate_hz), clip.sample_rate_hz)
    return int(rate_hz) // common, clip.sample_rate_hz // common


def content_limit_hz(clip: Clip, rate_hz: int) -> float:
    """Highest frequency (Hz) that pieces at ``rate_hz`` can carry: the lower of the two Nyquist
    frequencies, the clip's and the analysis rate's."""
    return min(clip.sample_rate_hz, int(rate_hz)) / 2
