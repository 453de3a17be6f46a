"""``discontinuity``: sample-level breaks in the waveform (butt-splice candidates)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from workbench.analysis import Analysis, FigureOut, Finding, Result, Track, require
from workbench.clip import Clip
from workbench.plotting import format_time_axis, mmss, new_figure, shade_findings
from workbench.runs import merge_runs

TRACK_BLOCK_S = 0.05
"""The break-score track keeps the largest score per 50 ms."""
SCAN_PIECE_S = 30.0
"""The signal is scored in pieces of this length (memory stays flat for long clips)."""


class Discontinuity(Analysis):
    """Spikes of the waveform's high-order difference that stand alone in their neighbourhood.

    A butt splice joins two waveforms that do not continue each other: the value or the slope
    jumps between two samples, which puts one large spike in the difference of order
    ``difference_order`` (3: ``x[n] - 3 x[n-1] + 3 x[n-2] - x[n-3]``, a steep high-pass under
    which speech is small and a jump is not). Ordinary sound puts spikes there too (glottal
    pulses, noise), but they repeat: a splice's spike is much larger than every other spike
    around it. A sample is a candidate when its spike is ``min_score`` times the local RMS of the
    difference (the spike itself left out) *and* ``min_uniqueness`` times the largest other spike
    within ``context_s``.

    Parameters
    ----------
    context_s : float > 0
        Neighbourhood on each side used for the local RMS and the uniqueness test, in seconds.
    guard_s : float > 0
        Half-width around a sample that is left out of its own neighbourhood, in seconds.
    min_score : float > 0
        Smallest spike, as a multiple of the local RMS of the difference.
    min_uniqueness : float > 1
        Smallest ratio of the spike to the largest other spike in its neighbourhood.
    min_level_dbfs : float
        Spikes smaller than this (in dBFS) are ignored, so the least significant bit's noise in
        near-silence is not mistaken for a break.
    merge_s : float >= 0
        Candidates closer than this are one finding, in seconds.
    difference_order : int in [1, 6]
        Order of the difference taken (higher stresses high frequencies more).
    """

    name = "discontinuity"
    version = "1.0"
    description = "Sample-level waveform breaks that stand out from their surroundings (butt-splice candidates)."
    measures = (
        "Samples where the waveform's third difference (a steep high-pass) spikes far above its "
        "local level and far above every other spike nearby: a jump in value or slope between two "
        "samples, as a butt splice leaves."
    )
    cannot_show = (
        "A splice made at a zero crossing with matching slope, crossfaded, or made before lossy "
        "coding leaves no sample-level break and is not found here. Clicks from a microphone, a "
        "cable, a digital dropout or a codec error look the same as a splice. A candidate is a "
        "place to listen to and to inspect at sample level, not an edit."
    )

    def __init__(
        self, *, context_s: float = 0.01, guard_s: float = 0.0005, min_score: float = 5.0,
        min_uniqueness: float = 2.2, min_level_dbfs: float = -60.0, merge_s: float = 0.05,
        difference_order: int = 3,
    ):
        require(context_s > 0, "discontinuity.context_s must be > 0")
        require(0 < guard_s < context_s, "discontinuity.guard_s must be in (0, context_s)")
        require(min_score > 0, "discontinuity.min_score must be > 0")
        require(min_uniqueness > 1, "discontinuity.min_uniqueness must be > 1")
        require(merge_s >= 0, "discontinuity.merge_s must be >= 0")
        require(1 <= difference_order <= 6, "discontinuity.difference_order must be in [1, 6]")
        self.context_s = float(context_s)
        self.guard_s = float(guard_s)
        self.min_score = float(min_score)
        self.min_uniqueness = float(min_uniqueness)
        self.min_level_dbfs = float(min_level_dbfs)
        self.merge_s = float(merge_s)
        self.difference_order = int(difference_order)

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
                strength=min(1.0, float(score[best]) / 60.0), flagged=True,
                summary=(f"A sample-level break at {mmss(at_s, decimals=3)}: the waveform's "
                         f"high-pass difference is {score[best]:.0f}x its local level and "
                         f"{uniqueness[best]:.1f}x any other spike within {self.context_s * 1000:.0f} ms."),
                details={"sample": peak, "score": float(score[best]),
                         "uniqueness": float(uniqueness[best]), "jump": float(spike[best])},
            ))
        times = (np.arange(track.size) + 0.5) * TRACK_BLOCK_S
        measurements = {
            "candidates": len(findings),
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
        memory stays flat however long the clip is. Returns the candidates' sample positions,
        score, uniqueness and spike, and the break-score track per ``TRACK_BLOCK_S``."""
        context = max(4, int(self.context_s * sr))
        guard = max(1, int(round(self.guard_s * sr)))
        block = max(1, int(TRACK_BLOCK_S * sr))
        piece = block * int(SCAN_PIECE_S / TRACK_BLOCK_S)
        margin = context + self.difference_order + 1
        positions: list[np.ndarray] = []
        values: list[np.ndarray] = []
        track: list[np.ndarray] = []
        for start in range(0, clip.frames, piece):
            lo, hi = max(0, start - margin), min(clip.frames, start + piece + margin)
            score, uniqueness, spike = spike_scores(clip.mono_range(lo, hi).astype(np.float64), context=context,
                                                    guard=guard, order=self.difference_order)
            core = slice(start - lo, min(start + piece, clip.frames) - lo)
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
        ax.axhline(self.min_score, color="#d62728", linestyle="--", linewidth=0.8)
        shade_findings(ax, findings, min_width_s=clip.duration_s / 300)
        ax.set_ylim(0, max(self.min_score * 2, float(np.max(track)) * 1.1 if track.size else 1))
        ax.set_ylabel("score (x local RMS)")
        ax.set_title("Break score per 50 ms (only spikes that stand alone); dashed: flag threshold", loc="left")
        ax.grid(True, alpha=0.3)
        format_time_axis(ax, clip.duration_s)
        return FigureOut("score", fig, "Largest stand-alone spike of the high-order difference per 50 ms.")

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
            ax.set_title(f"{mmss(finding.start_s, decimals=3)}", loc="left", fontsize=9)
            ax.set_xlabel("ms from the break")
            ax.grid(True, alpha=0.3)
        for ax in axes[len(strongest):]:
            ax.set_visible(False)
        return FigureOut("zoom", fig, "The waveform 5 ms either side of the strongest candidates, sample by sample.")


def spike_scores(
    x: np.ndarray, *, context: int, guard: int, order: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample break score, uniqueness and spike size of a signal.

    Returns
    -------
    score : |d| over the RMS of d within ``context`` samples, the ``guard`` samples around
        the sample left out.
    uniqueness : |d| over the largest |d| within ``context`` samples outside the guard.
    spike : |d|, the difference's magnitude (full-scale units).
    """
    d = np.zeros_like(x)
    d[order:] = np.abs(np.diff(x, n=order))
    window, inner = 2 * context + 1, 2 * guard + 1
    total = uniform_filter1d(d * d, size=window, mode="nearest") * window
    centre = uniform_filter1d(d * d, size=inner, mode="nearest") * inner
    rms = np.sqrt(np.maximum(total - centre, 0) / (window - inner)) + 1e-12
    side = context - guard
    # Largest |d| in [n - context, n - guard - 1] and in [n + guard + 1, n + context].
    running = maximum_filter1d(d, size=side, origin=-(side // 2), mode="nearest")  # max of d[n : n + side]
    padded = np.concatenate([np.zeros(context + 1), running, np.zeros(context + 1)])
    n = np.arange(x.size) + context + 1
    neighbours = np.maximum(padded[n - context], padded[n + guard + 1]) + 1e-12
    return d / rms, d / neighbours, d
