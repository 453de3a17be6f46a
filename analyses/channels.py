"""``channels``: how the channels of a multichannel clip relate to each other."""

from __future__ import annotations

import numpy as np

from workbench.analyses.common.runs import true_runs
from workbench.analyses.common.units import to_db
from workbench.core.analysis import Analysis, FigureOut, Finding, FindingKind, Result, param
from workbench.core.clip import Clip, spans
from workbench.core.plotting import format_time_axis, legend_outside, mmss, new_figure, shade_findings

IDENTICAL_TOLERANCE = 1e-6
BLOCK_S = 60
"""The clip is read in blocks of about this many seconds (whole windows)."""


class Channels(Analysis):
    """Per-channel levels, channel correlation, dual mono and polarity inversion."""

    name = "channels"
    version = "1.1"
    description = "Per-channel levels, channel correlation, dual mono and polarity inversion."
    measures = (
        "Peak and RMS level per channel, the Pearson correlation between channels over the whole "
        "clip and per window, whether the channels are identical (dual mono), and windows where "
        "one channel is the inverted copy of the other."
    )
    cannot_show = (
        "Channel relations describe how the file was made (a mono source copied to two channels, "
        "a wiring or processing polarity flip), not whether its content is authentic. A segment "
        "whose correlation differs from the rest is worth listening to: it may have been inserted "
        "from material processed differently, or a microphone may have moved."
    )

    kinds = (
        FindingKind("polarity_inversion", "minus the correlation between the channels there"),
        FindingKind("dual_mono", "1 (the two channels carry one signal)", flagged=False),
    )
    measurement_keys = (
        "channel_correlation", "channel_correlation_matrix", "dual_mono", "peak_dbfs_per_channel",
        "polarity_inverted_s", "rms_dbfs_per_channel",
    )

    window_s: float = param(0.5, "Window for the correlation and level tracks.", above=0)
    min_window_rms_dbfs: float = param(-50.0, "Windows quieter than this in either channel are left "
                                       "out of the correlation track.")
    inversion_correlation: float = param(-0.5, "A window (or the whole clip) correlating below this is "
                                         "polarity-inverted.", above=-1, below=0)

    def run(self, clip: Clip) -> Result:
        if clip.channels < 2:
            return Result.skipped("single-channel recording: there are no channels to compare")
        stats, times, corr, levels = self._walk(clip)
        matrix = stats.correlation()
        measurements = {
            "peak_dbfs_per_channel": [to_db(v) for v in stats.peak],
            "rms_dbfs_per_channel": [to_db(v) for v in np.sqrt(stats.mean_square())],
            "channel_correlation": float(matrix[0, 1]) if clip.channels == 2 else matrix.tolist(),
            "channel_correlation_matrix": matrix.tolist(),
        }
        findings: list[Finding] = []
        identical = bool(np.all(stats.largest_difference <= IDENTICAL_TOLERANCE))
        measurements["dual_mono"] = identical
        if identical:
            findings.append(
                Finding(
                    kind="dual_mono", start_s=0.0, end_s=clip.duration_s, strength=1.0, flagged=False,
                    summary="All channels carry the same samples: a mono signal stored as multichannel.",
                )
            )
        findings.extend(self._inversions(times, corr, matrix, clip))
        measurements["polarity_inverted_s"] = sum(
            f.end_s - f.start_s for f in findings if f.kind == "polarity_inversion"
        )
        figure = self._figure(clip, times, corr, levels, findings)
        return Result(measurements=measurements, findings=findings, figures=[figure])

    def _walk(self, clip: Clip) -> tuple["_Moments", np.ndarray, np.ndarray, np.ndarray]:
        """One pass over the clip in blocks of whole windows: the whole-clip moments and the
        per-window tracks, so a long multichannel file is never held whole."""
        window = max(2, int(self.window_s * clip.sample_rate_hz))
        stats = _Moments(clip.channels)
        tracks = []
        for span in spans(clip.frames, window * max(1, BLOCK_S * clip.sample_rate_hz // window)):
            x = clip.read(span.start, span.stop).astype(np.float64)
            stats.add(x)
            tracks.append(self._tracks(x, clip.sample_rate_hz))
        corr = np.concatenate([c for c, _ in tracks])
        levels = np.concatenate([lv for _, lv in tracks])
        times = (np.arange(corr.size) + 0.5) * window / clip.sample_rate_hz
        return stats, times, corr, levels

    def _tracks(self, x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-window correlation of channels 1 and 2 (NaN where too quiet) and per-channel RMS dB
        of the whole windows in ``x``."""
        window = max(2, int(self.window_s * sr))
        n = x.shape[0] // window
        framed = x[: n * window].reshape(n, window, x.shape[1])
        framed = framed - framed.mean(axis=1, keepdims=True)
        rms = np.sqrt(np.mean(framed**2, axis=1))
        a, b = framed[:, :, 0], framed[:, :, 1]
        denom = np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.sum(a * b, axis=1) / denom
        loud = np.all(to_db(rms[:, :2]) > self.min_window_rms_dbfs, axis=1)
        corr[~loud] = np.nan
        return corr, to_db(rms)

    def _inversions(self, times, corr, matrix, clip: Clip) -> list[Finding]:
        if matrix[0, 1] < self.inversion_correlation:
            return [
                Finding(
                    kind="polarity_inversion", start_s=0.0, end_s=clip.duration_s,
                    strength=min(1.0, -matrix[0, 1]), flagged=True,
                    summary=(
                        f"Channels 1 and 2 are inversely correlated over the whole clip "
                        f"(r = {matrix[0, 1]:.2f}): one channel is polarity-inverted."
                    ),
                )
            ]
        # Runs are taken over the windows loud enough to judge, so a pause inside an
        # inverted stretch does not split it in two.
        judged = np.flatnonzero(~np.isnan(corr))
        inverted = corr[judged] < self.inversion_correlation
        half = self.window_s / 2
        findings = []
        for start, stop in zip(*true_runs(inverted)):
            r = float(np.mean(corr[judged[start:stop]]))
            begin, end = times[judged[start]] - half, times[judged[stop - 1]] + half
            findings.append(
                Finding(
                    kind="polarity_inversion", start_s=begin, end_s=end,
                    strength=min(1.0, -r), flagged=True,
                    summary=(
                        f"Channels 1 and 2 are inversely correlated (r = {r:.2f}) from "
                        f"{mmss(begin)} to {mmss(end)}, unlike the clip as a whole "
                        f"(r = {matrix[0, 1]:.2f})."
                    ),
                    details={"window_correlation": r},
                )
            )
        return findings

    def _figure(self, clip: Clip, times, corr, levels, findings) -> FigureOut:
        fig, (ax_level, ax_corr) = new_figure(height_in=4.4, nrows=2)
        for channel in range(levels.shape[1]):
            ax_level.plot(times, levels[:, channel], linewidth=1.0, label=f"channel {channel + 1}")
        ax_level.set_ylabel("RMS (dBFS)")
        ax_level.set_title(f"Level per channel ({self.window_s:g} s windows)", loc="left")
        legend_outside(ax_level)
        ax_level.grid(True, alpha=0.3)
        ax_corr.plot(times, corr, color="#1f4e79", linewidth=1.0, marker=".", markersize=3)
        ax_corr.axhline(0, color="black", linewidth=0.6)
        ax_corr.axhline(self.inversion_correlation, color="#d62728", linewidth=0.8, linestyle="--")
        shade_findings(ax_corr, [f for f in findings if f.flagged], min_width_s=clip.duration_s / 300)
        ax_corr.set_ylim(-1.05, 1.05)
        ax_corr.set_ylabel("correlation r")
        ax_corr.set_title(
            "Correlation of channels 1 and 2 per window (gaps: too quiet); dashed: inversion threshold",
            loc="left",
        )
        ax_corr.grid(True, alpha=0.3)
        format_time_axis(ax_corr, clip.duration_s)
        ax_level.set_xlabel("")
        return FigureOut("channels", fig, "Per-channel level and inter-channel correlation over time.")


class _Moments:
    """Whole-clip statistics of a multichannel signal gathered block by block: peak, mean
    square, the channels' co-moments (combined exactly across blocks, Chan et al.) and the
    largest difference of each channel from the first."""

    def __init__(self, channels: int):
        self.n = 0
        self.peak = np.zeros(channels)
        self.square_sum = np.zeros(channels)
        self.mean = np.zeros(channels)
        self.comoment = np.zeros((channels, channels))
        self.largest_difference = np.zeros(channels)

    def add(self, x: np.ndarray) -> None:
        """Take in a block ``x`` of shape (frames, channels)."""
        m = x.shape[0]
        if m == 0:
            return
        self.peak = np.maximum(self.peak, np.max(np.abs(x), axis=0))
        self.square_sum += np.sum(x**2, axis=0)
        self.largest_difference = np.maximum(self.largest_difference, np.max(np.abs(x - x[:, :1]), axis=0))
        mean = x.mean(axis=0)
        centred = x - mean
        delta = mean - self.mean
        total = self.n + m
        self.comoment += centred.T @ centred + np.outer(delta, delta) * self.n * m / total
        self.mean += delta * m / total
        self.n = total

    def mean_square(self) -> np.ndarray:
        return self.square_sum / max(1, self.n)

    def correlation(self) -> np.ndarray:
        """Pearson correlation between channels; 0 where a channel is constant."""
        norms = np.sqrt(np.diag(self.comoment))
        with np.errstate(invalid="ignore", divide="ignore"):
            matrix = self.comoment / np.outer(norms, norms)
        matrix = np.nan_to_num(matrix, nan=0.0)
        np.fill_diagonal(matrix, 1.0)
        return matrix
