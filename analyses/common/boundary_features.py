"""How much the background and the channel differ either side of each moment of a clip.

A recording made of pieces carries, at each join, a change of room, microphone, channel, codec or
background, even where the waveform joins smoothly. For every candidate boundary (a grid of
``step_s``) the frames of the ``side_s`` before it are compared with those of the ``side_s`` after:

- the *background*: the mean band levels of each side's quietest frames (its pauses and valleys);
- the *voice's spectrum*: the mean band levels of each side's louder half of frames;
- the *dynamics*: the spread between loud and quiet frames (reverberation and noise fill pauses).

Each comparison is summarised as a level step (the mean difference over the bands) and a change
of colour (the spread of the differences over the bands, the level removed), in dB. Speech alone
moves these too; so each is also given against its own spread over the clip, which is what the
join detector (:mod:`workbench.analyses.consistency`) weighs.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from workbench.core.clip import Clip
from workbench.core.spectrogram import Spectrogram

LOW_HZ = 100.0
"""Bottom of the lowest band (Hz): below it a room's rumble and a microphone's cut-off dominate."""
BANDS_PER_OCTAVE = 3
"""Bands are a third of an octave wide from ``LOW_HZ`` up to 90 % of Nyquist (16 at 8 kHz)."""
QUIET_SHARE = 0.1
"""A side's background is the mean level of its quietest tenth of frames (0.3 s of 3 s: a side with
one short pause still shows its room)."""
LOUD_SHARE = 0.5
"""A side's voice spectrum is the mean level of its louder half of frames."""
FLOOR_PERCENTILE = 5.0
"""Each band's own floor on a side: this percentile of its frame levels (minimum statistics)."""
SILENT_DBFS = -100.0
"""Frames below this broadband level (dBFS) are digital silence or near it: no room shows there."""
MIN_SPREAD = 0.5
"""Added to a comparison's spread over the clip (dB; the divergence too) before it divides: a
clip that barely varies would otherwise make any wobble exceptional."""
MIN_LIVE_S = 1.0
"""A boundary is judged only where both sides hold at least this much (s) of live frames (not
digital silence): the start of speech after a prompt's padding is no join."""
FLOOR_DB = -120.0
"""Band levels are held above this (dBFS), so exact digital zero does not weigh as -inf."""
NAMES = ("background_step_db", "background_colour_db", "voice_step_db", "voice_colour_db",
         "dynamics_step_db", "top_band_step_db", "floor_step_db", "floor_colour_db", "divergence")
"""The raw comparisons, each in dB; :func:`boundary_features` adds each against its clip median."""


def band_levels(spec: Spectrogram) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame level (dBFS) of third-octave bands from ``LOW_HZ`` to 90 % of Nyquist.

    Returns
    -------
    levels : np.ndarray [shape=(n_frames, n_bands)]
    times_s : np.ndarray [shape=(n_frames,)]
    """
    top = 0.9 * spec.sample_rate_hz / 2
    count = max(1, int(np.floor(BANDS_PER_OCTAVE * np.log2(top / LOW_HZ))))
    edges = LOW_HZ * 2.0 ** (np.arange(count + 1) / BANDS_PER_OCTAVE)
    rows = [np.flatnonzero((spec.freqs_hz >= lo) & (spec.freqs_hz < hi)) for lo, hi in zip(edges[:-1], edges[1:])]
    rows = [r for r in rows if r.size]
    scale = np.float64(spec.n_fft / 4) ** 2
    levels = np.empty((spec.n_frames, len(rows)))
    for start, magnitude in spec.blocks():
        stop = start + magnitude.shape[1]
        for i, r in enumerate(rows):
            power = np.einsum("ij,ij->j", magnitude[r], magnitude[r], dtype=np.float64) / scale
            levels[start:stop, i] = 10 * np.log10(np.maximum(power, 10 ** (FLOOR_DB / 10)))
    return levels, np.asarray(spec.times_s, float)


def _nanpercentile(a: np.ndarray, q: float) -> np.ndarray:
    """``np.nanpercentile(a, q, axis=1)`` (linear interpolation) by one sort: NumPy's own walks
    the rows one by one when NaN is present, a hundred times slower here."""
    ordered = np.sort(a, axis=1)  # NaN last
    count = np.sum(~np.isnan(a), axis=1, keepdims=True)
    position = q / 100 * np.maximum(count - 1, 0)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    below = np.take_along_axis(ordered, low, axis=1)
    above = np.take_along_axis(ordered, high, axis=1)
    value = (below + (position - low) * (above - below))[:, 0]
    return np.where(count[:, 0] > 0, value, np.nan)


def _side_summaries(windows: np.ndarray) -> tuple[np.ndarray, ...]:
    """For each window of frames [shape=(n, frames, bands)], its live frames only (not digital
    silence): the quiet frames' and the loud frames' mean band levels and each band's own floor
    [shape=(n, bands)], the loud-minus-quiet broadband spread (dB) and the number of live frames
    [shape=(n,)]. Frames past the clip's ends are NaN: never live."""
    broadband = 10 * np.log10(np.mean(10 ** (windows / 10), axis=2))
    live = broadband > SILENT_DBFS
    level = np.where(live, broadband, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        quiet = live & (level <= _nanpercentile(level, 100 * QUIET_SHARE)[:, None])
        loud = live & (level >= _nanpercentile(level, 100 * (1 - LOUD_SHARE))[:, None])
        mean_of = lambda mask: (np.where(mask[:, :, None], windows, 0.0).sum(axis=1)
                                / np.maximum(mask.sum(axis=1), 1)[:, None])
        floor = _nanpercentile(np.where(live[:, :, None], windows, np.nan), FLOOR_PERCENTILE)
        spread = (np.nansum(np.where(loud, level, 0), axis=1) / np.maximum(loud.sum(axis=1), 1)
                  - np.nansum(np.where(quiet, level, 0), axis=1) / np.maximum(quiet.sum(axis=1), 1))
    return mean_of(quiet), mean_of(loud), floor, spread, live.sum(axis=1)


CHUNK = 1024
"""Boundaries compared at once (bounds the memory of the side windows)."""


def _compare(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The raw comparisons of :data:`NAMES` between paired windows [shape=(n, frames, bands)], and
    last the smaller of the two sides' numbers of live frames."""
    qb, lb, fb, sb, live_b = _side_summaries(before)
    qa, la, fa, sa, live_a = _side_summaries(after)
    dq, dl, df = qa - qb, la - lb, fa - fb
    top = max(1, dl.shape[1] // 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mb, ma = np.nanmean(before, axis=1), np.nanmean(after, axis=1)
        vb, va = np.nanvar(before, axis=1) + 1.0, np.nanvar(after, axis=1) + 1.0
    divergence = 0.25 * ((ma - mb) ** 2 * (1 / va + 1 / vb) + va / vb + vb / va - 2)
    return np.column_stack([
        np.abs(dq.mean(axis=1)), dq.std(axis=1), np.abs(dl.mean(axis=1)), dl.std(axis=1),
        np.abs(sa - sb), np.abs(dl[:, -top:].mean(axis=1) - dl.mean(axis=1)),
        np.abs(df.mean(axis=1)), df.std(axis=1), divergence.mean(axis=1), np.minimum(live_b, live_a),
    ])


def boundary_features(levels: np.ndarray, times_s: np.ndarray, *, side_s: float,
                      step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The comparisons of :data:`NAMES` at every candidate boundary, raw and against their
    clip median.

    Parameters
    ----------
    levels, times_s : from :func:`band_levels`
    side_s : float
        Length (s) of each side's window.
    step_s : float
        Spacing (s) of the candidate boundaries.

    Returns
    -------
    at_s : np.ndarray [shape=(n,)]
        Times (s) of the boundaries judged (see :data:`MIN_LIVE_S`); empty when none is.
    features : np.ndarray [shape=(n, 2 * len(NAMES))]
        The raw comparisons, then each against the clip's boundaries: its distance from their
        median in robust standard deviations (1.4826 MAD, plus :data:`MIN_SPREAD`).
    """
    if times_s.size < 4:
        return np.empty(0), np.empty((0, 2 * len(NAMES)))
    frame_s = float(np.median(np.diff(times_s)))
    side = max(2, int(round(side_s / frame_s)))
    step = max(1, int(round(step_s / frame_s)))
    least = max(2, int(round(MIN_LIVE_S / frame_s)))
    # Sides are cut short at the clip's ends (padding frames are never live), so a join a second
    # from either end is still judged, on fewer frames.
    pad = side - least
    padded = np.concatenate([np.full((pad, levels.shape[1]), np.nan), levels, np.full((pad, levels.shape[1]), np.nan)])
    if padded.shape[0] < 2 * side:
        return np.empty(0), np.empty((0, 2 * len(NAMES)))
    view = sliding_window_view(padded, side, axis=0).transpose(0, 2, 1)  # (start, frames, bands)
    starts = np.arange(0, padded.shape[0] - 2 * side + 1, step)
    compared = np.concatenate([_compare(view[chunk], view[chunk + side])
                               for chunk in np.array_split(starts, max(1, starts.size // CHUNK))])
    raw, judged = compared[:, :-1], compared[:, -1] >= least
    boundary = starts + side - pad  # index, in the clip's frames, of the first frame after the boundary
    at_s = (times_s[boundary - 1] + times_s[boundary]) / 2
    if not judged.any():
        return at_s[:0], np.empty((0, 2 * len(NAMES)))
    at_s, raw = at_s[judged], raw[judged]
    centre = np.median(raw, axis=0)
    spread = 1.4826 * np.median(np.abs(raw - centre), axis=0) + MIN_SPREAD
    return at_s, np.column_stack([raw, (raw - centre) / spread])


def clip_boundaries(clip: Clip, *, side_s: float, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`boundary_features` of ``clip``'s shared spectrogram (see there)."""
    levels, times = band_levels(clip.spectrogram)
    return boundary_features(levels, times, side_s=side_s, step_s=step_s)
