"""``discontinuity``: sample-level breaks in the waveform (butt-splice candidates)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from workbench.analyses.common.runs import merge_runs
from workbench.core.analysis import Analysis, FigureOut, Finding, FindingKind, Result, Track, param, require
from workbench.core.clip import Clip, spans
from workbench.core.plotting import SMALL_PT, format_time_axis, mmss, new_figure, shade_findings

TRACK_BLOCK_S = 0.05
"""The break-score track keeps the largest score per 50 ms."""
LPC_BATCH_FRAMES = 256
"""Frames whose predictor is estimated together (bounds the FFT's temporaries)."""
SCAN_PIECE_S = 30.0
"""The signal is scored in pieces of this length (memory stays flat for long clips)."""


class Discontinuity(Analysis):
    """Steps in the waveform's value that neither side of them predicts (butt-splice candidates).

    A butt splice joins two waveforms that do not continue each other: between two samples the
    value jumps. A linear predictor fitted to the sound around (order ``lpc_order``, coefficients
    re-estimated every ``lpc_frame_s``) then fails twice at the same boundary: predicting the
    first sample after it from the past (forward error), and the last sample before it from the
    future (backward error), with opposite signs and, for a pure step, the same size. The break
    statistic at a boundary is the smaller of the two errors when their signs are opposite, else
    zero. A glottal pulse, a plosive or a note onset is one new excitation that the forward
    predictor misses but which leaves no matching backward error, so speech rarely scores; and
    where it does, the pulses repeat. A boundary is a candidate when its statistic is
    ``min_score`` times the local RMS of the statistic (the boundary itself left out) *and*
    ``min_uniqueness`` times the largest other value within ``context_s``.
    """

    name = "discontinuity"
    version = "2.1"
    min_sample_rate_hz = 8000  # prediction orders and thresholds were set and validated from 8 kHz up
    description = "Sample-level steps in the waveform that neither side predicts (butt-splice candidates)."
    measures = (
        "Boundaries between two samples where a linear predictor of the surrounding sound fails "
        "both ways at once, forward from the past and backward from the future, with opposite "
        "signs: a step in value between two samples, as a butt splice leaves. The score is that "
        "error over its local RMS; a candidate also stands well above every other within 30 ms. "
        "Candidates are listed from a score of 5; only those from 60 are flagged, because genuine "
        "speech alone reaches about 50 (see the real-recording rows below)."
    )
    cannot_show = (
        "A splice made at a zero crossing with matching slope, crossfaded, or made before lossy "
        "coding leaves no sample-level step and is not found here. A single-sample click is not a "
        "step and is not looked for. A cable fault, a digital dropout or a codec error can leave a "
        "step just as a splice does. Most splices are not flagged: in genuine recordings "
        "ordinary speech raises candidates as high as a splice ten times its local prediction "
        "error, so only very plain steps are flagged and the rest are listed as candidates (see "
        "the validation rows). A candidate is a place to listen to and to "
        "inspect at sample level, not an edit."
    )

    kinds = (FindingKind("discontinuity", "score (times the local level of prediction errors) / 60"),)
    measurement_keys = ("candidates", "candidates_per_minute", "flagged", "max_standalone_score")

    context_s: float = param(0.03, "Neighbourhood on each side used for the local RMS and the "
                             "uniqueness test (longer than two pitch periods, so one pulse of a voice "
                             "is compared with the next).", above=0)
    guard_s: float = param(0.0005, "Half-width around a boundary that is left out of its own "
                           "neighbourhood; below context_s.", above=0)
    min_score: float = param(5.0, "Smallest statistic, as a multiple of its local RMS, for a "
                             "candidate (listed unflagged).", above=0)
    flag_score: float = param(
        60.0, "Smallest statistic for a flagged candidate, at least min_score. Chosen on genuine "
        "third-party recordings (the tuning half of docs/validation.md): real speech, 8 kHz telephone "
        "prompts above all, raises candidates up to about 50 on its own.", above=0)
    min_uniqueness: float = param(2.2, "Smallest ratio of the statistic to the largest other value in "
                                  "its neighbourhood.", above=1)
    min_level_dbfs: float = param(-60.0, "Steps smaller than this are ignored, so the least "
                                  "significant bit's noise in near-silence is not taken for a break.")
    merge_s: float = param(0.05, "Candidates closer than this are one finding.", at_least=0)
    lpc_order: int = param(16, "Largest order of the linear predictor; at low sample rates it is "
                           "2 + rate / 1000.", at_least=1)
    lpc_frame_s: float = param(0.02, "Interval at which the predictor is re-estimated (from a Hann "
                               "window twice as long).", above=0)

    def check(self) -> None:
        require(self.guard_s < self.context_s, "discontinuity.guard_s must be in (0, context_s)")
        require(self.flag_score >= self.min_score, "discontinuity.flag_score must be >= min_score")

    def run(self, clip: Clip) -> Result:
        sr = clip.sample_rate_hz
        if clip.frames < 8:
            return Result.skipped("too few samples")
        positions, score, uniqueness, spike, track = self._scan(clip, sr)
        findings = []
        for _start, _stop, members in merge_runs(positions, positions + 1, max_gap=int(self.merge_s * sr)):
            best = members[int(np.argmax(score[members]))]
            peak = int(positions[best])
            at_s = peak / sr
            findings.append(Finding(
                kind="discontinuity", start_s=at_s, end_s=at_s,
                strength=min(1.0, float(score[best]) / 60.0), flagged=bool(score[best] >= self.flag_score),
                summary=(f"A step of about {spike[best]:.3f} FS at {mmss(at_s, decimals=3)} that "
                         f"neither side predicts: {score[best]:.0f}x the local level of prediction "
                         f"errors and {uniqueness[best]:.1f}x any other within {self.context_s * 1000:.0f} ms."),
                details={"sample": peak, "score": float(score[best]),
                         "uniqueness": float(uniqueness[best]), "jump": float(spike[best])},
            ))
        times = (np.arange(track.size) + 0.5) * TRACK_BLOCK_S
        measurements = {
            "candidates": len(findings),
            "flagged": sum(f.flagged for f in findings),
            "max_standalone_score": float(np.max(track)) if track.size else 0.0,
            "candidates_per_minute": len(findings) / (clip.duration_s / 60),
        }
        figures = [self._figure(clip, times, track, findings)]
        if findings:
            figures.append(self._zooms(clip, findings))
        return Result(measurements=measurements, findings=findings, figures=figures,
                      tracks=[Track("break score", times, track)])

    def _scan(self, clip: Clip, sr: int):
        """Score the mono mix in 30 s pieces read from the source (with context on both sides), so
        memory stays flat however long the clip is. Returns the candidates' sample positions
        (the first sample after the step), score, uniqueness and step size, and the break-score
        track per ``TRACK_BLOCK_S``."""
        context = max(4, int(self.context_s * sr))
        guard = max(1, int(round(self.guard_s * sr)))
        block = max(1, int(TRACK_BLOCK_S * sr))
        piece = block * int(SCAN_PIECE_S / TRACK_BLOCK_S)
        order, frame = predictor_shape(sr, lpc_order=self.lpc_order, lpc_frame_s=self.lpc_frame_s)
        margin = context + 2 * frame + order
        positions: list[np.ndarray] = []
        values: list[np.ndarray] = []
        track: list[np.ndarray] = []
        for span in spans(clip.frames, piece, before=margin, after=margin):
            start = span.start
            # Read from the predictor's frame grid of the whole clip, so that each sample is
            # predicted with the same coefficients wherever the pieces fall.
            lo = span.lo - span.lo % frame
            core = slice(span.core.start + span.lo - lo, span.core.stop + span.lo - lo)
            steps = step_errors(clip.mono_range(lo, span.hi).astype(np.float64), order=order, frame=frame)
            score, uniqueness, spike = spike_scores(steps, context=context, guard=guard)
            score, uniqueness, spike = score[core], uniqueness[core], spike[core]
            hits = ((score >= self.min_score) & (uniqueness >= self.min_uniqueness)
                    & (spike >= 10 ** (self.min_level_dbfs / 20)))
            positions.append(start + np.flatnonzero(hits))
            values.append(np.stack([score[hits], uniqueness[hits], spike[hits]]))
            shown = np.minimum(score, 100.0) * (uniqueness >= self.min_uniqueness)
            full = shown.size // block
            track.append(shown[: full * block].reshape(full, block).max(axis=1) if full else shown[:0])
        score, uniqueness, spike = np.concatenate(values, axis=1) if values else np.zeros((3, 0))
        found = np.concatenate(positions) if positions else np.zeros(0, dtype=int)
        return found, score, uniqueness, spike, np.concatenate(track) if track else np.zeros(0)

    def _figure(self, clip: Clip, times, track, findings) -> FigureOut:
        fig, (ax,) = new_figure(height_in=2.8)
        ax.plot(times, track, color="#1f4e79", linewidth=0.8)
        ax.axhline(self.min_score, color="#999999", linestyle=":", linewidth=0.8)
        ax.axhline(self.flag_score, color="#d62728", linestyle="--", linewidth=0.8)
        shade_findings(ax, findings, min_width_s=clip.duration_s / 300)
        ax.set_ylim(0, max(self.flag_score * 1.1, float(np.max(track)) * 1.1 if track.size else 1))
        ax.set_ylabel("score (x local RMS)")
        ax.set_title("Break score per 50 ms (only steps that stand alone); dotted: candidate, dashed: flag threshold", loc="left")
        ax.grid(True, alpha=0.3)
        format_time_axis(ax, clip.duration_s)
        return FigureOut("score", fig, "Largest stand-alone step score per 50 ms.")

    def _zooms(self, clip: Clip, findings, max_panels: int = 6) -> FigureOut:
        strongest = sorted(findings, key=lambda f: -f.strength)[:max_panels]
        strongest.sort(key=lambda f: f.start_s)
        cols = min(3, len(strongest))
        rows = int(np.ceil(len(strongest) / cols))
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 2.4 * rows), dpi=110, layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        sr = clip.sample_rate_hz
        half = int(0.005 * sr)
        for ax, finding in zip(axes, strongest):
            centre = finding.details["sample"]
            lo, hi = max(0, centre - half), min(clip.frames, centre + half)
            t_ms = (np.arange(lo, hi) - centre) / sr * 1000
            ax.plot(t_ms, clip.mono_range(lo, hi), color="#1f4e79", linewidth=0.9, marker=".", markersize=2)
            ax.axvline(0, color="#d62728", linewidth=0.8)
            ax.set_title(f"{mmss(finding.start_s, decimals=3)}", loc="left", fontsize=SMALL_PT)
            ax.set_xlabel("ms from the break")
            ax.grid(True, alpha=0.3)
        for ax in axes[len(strongest):]:
            ax.set_visible(False)
        return FigureOut("zoom", fig, "The waveform 5 ms either side of the strongest candidates, sample by sample.")


def step_errors(x: np.ndarray, *, order: int, frame: int) -> np.ndarray:
    """Per boundary, the evidence of a step in value between sample ``n - 1`` and sample ``n``.

    Linear-prediction coefficients of ``order`` are estimated every ``frame`` samples (from a
    Hann window of ``2 * frame`` centred on the frame). ``e_f[n]`` is the error predicting
    ``x[n]`` from the ``order`` samples before it, ``e_b[n - 1]`` the error predicting
    ``x[n - 1]`` from the ``order`` samples after it (same coefficients: a stationary process
    predicts the same both ways). A step of size J gives ``e_f[n] ~ J`` and ``e_b[n - 1] ~ -J``.

    Returns
    -------
    np.ndarray [shape=x.shape]
        ``min(|e_f[n]|, |e_b[n - 1]|)`` where the two have opposite signs, else 0 (full-scale
        units); 0 within ``order`` samples of either end, where one side is missing.
    """
    n = x.size
    forward, backward = prediction_errors(x, order=order, frame=frame)
    after, before = forward[1:], backward[:-1]
    out = np.zeros(n)
    out[1:] = np.where(after * before < 0, np.minimum(np.abs(after), np.abs(before)), 0.0)
    out[: order + 1] = 0.0
    out[max(0, n - order) :] = 0.0
    return out


def prediction_errors(x: np.ndarray, *, order: int, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward linear-prediction errors of ``x`` (full-scale units, shape of ``x``).

    ``forward[n]`` predicts ``x[n]`` from the ``order`` samples before it, ``backward[n]`` from
    the ``order`` after it, both with the coefficients of the frame ``n`` lies in (see
    :func:`lpc_per_frame`); outside ``x`` the signal counts as zero.
    """
    n = x.size
    frames = max(1, -(-n // frame))
    a = lpc_per_frame(x, order=order, frame=frame)
    padded = np.zeros(frames * frame + 2 * order)
    padded[order : order + n] = x
    # view[f, i, j] = padded[f * frame + i + j]: sample f * frame + i sits at j = order.
    view = sliding_window_view(padded, 2 * order + 1)[: frames * frame].reshape(frames, frame, 2 * order + 1)
    forward = np.einsum("fij,fj->fi", view[:, :, : order + 1], a[:, ::-1]).ravel()[:n]
    backward = np.einsum("fij,fj->fi", view[:, :, order:], a).ravel()[:n]
    return forward, backward


def predictor_shape(sr: int, *, lpc_order: int = 16, lpc_frame_s: float = 0.02) -> tuple[int, int]:
    """The predictor's order and frame length (samples) at ``sr`` Hz, as the detector uses them."""
    order = min(lpc_order, 2 + sr // 1000)
    return order, max(order + 1, int(round(lpc_frame_s * sr)))


def local_error_rms(x: np.ndarray, sr: int, at: int, *, halfwidth_s: float = 0.03) -> float:
    """RMS (FS) of the forward prediction error of mono ``x`` within ``halfwidth_s`` of sample
    ``at``, with the detector's default predictor: the yardstick of a step's visibility."""
    order, frame = predictor_shape(sr)
    half = int(halfwidth_s * sr)
    lo, hi = max(0, at - half - 2 * frame), min(x.size, at + half + 2 * frame)
    forward, _ = prediction_errors(x[lo:hi].astype(np.float64), order=order, frame=frame)
    core = forward[max(0, at - half - lo) : at + half - lo]
    return float(np.sqrt(np.mean(core**2))) if core.size else 0.0


def lpc_per_frame(x: np.ndarray, *, order: int, frame: int) -> np.ndarray:
    """Prediction-error filters ``[1, a_1 .. a_order]`` (rows) for each ``frame`` samples of ``x``.

    Autocorrelation method with a Hann window of ``2 * frame`` centred on each frame, all frames
    solved together by the Levinson-Durbin recursion; a -40 dB white-noise floor keeps silent or
    pure-tone frames well conditioned.
    """
    frames = max(1, -(-x.size // frame))
    padded = np.zeros(frames * frame + 2 * frame)
    padded[frame // 2 : frame // 2 + x.size] = x
    windows = sliding_window_view(padded, 2 * frame)[::frame][:frames]
    # Lags up to ``order`` only: the FFT needs no more than the window plus the largest lag.
    n_fft = 1 << int(np.ceil(np.log2(2 * frame + order + 1)))
    taper = np.hanning(2 * frame)
    r = np.empty((frames, order + 1))
    for first in range(0, frames, LPC_BATCH_FRAMES):  # bounded temporaries
        batch = windows[first : first + LPC_BATCH_FRAMES] * taper
        r[first : first + LPC_BATCH_FRAMES] = np.fft.irfft(
            np.abs(np.fft.rfft(batch, n_fft)) ** 2, n_fft)[:, : order + 1]
    r[:, 0] = r[:, 0] * (1 + 1e-4) + 1e-20
    a = np.zeros((frames, order + 1))
    a[:, 0] = 1.0
    error = r[:, 0].copy()
    for i in range(1, order + 1):
        k = -(r[:, i] + np.einsum("fj,fj->f", a[:, 1:i], r[:, i - 1 : 0 : -1])) / error
        a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1 : 0 : -1]
        a[:, i] = k
        error *= 1 - k * k
    return a


def spike_scores(
    d: np.ndarray, *, context: int, guard: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample score, uniqueness and size of a non-negative statistic ``d``.

    Returns
    -------
    score : d over the RMS of d within ``context`` samples, the ``guard`` samples around
        the sample left out.
    uniqueness : d over the largest d within ``context`` samples outside the guard.
    spike : d itself.
    """
    window, inner = 2 * context + 1, 2 * guard + 1
    total = uniform_filter1d(d * d, size=window, mode="nearest") * window
    centre = uniform_filter1d(d * d, size=inner, mode="nearest") * inner
    rms = np.sqrt(np.maximum(total - centre, 0) / (window - inner)) + 1e-12
    side = context - guard
    # Largest |d| in [n - context, n - guard - 1] and in [n + guard + 1, n + context].
    running = maximum_filter1d(d, size=side, origin=-(side // 2), mode="nearest")  # max of d[n : n + side]
    padded = np.concatenate([np.zeros(context + 1), running, np.zeros(context + 1)])
    n = np.arange(d.size) + context + 1
    neighbours = np.maximum(padded[n - context], padded[n + guard + 1]) + 1e-12
    return d / rms, d / neighbours, d
