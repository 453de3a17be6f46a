"""``levels``: clipping, digital silence inside the recording, and steps in DC offset."""

from __future__ import annotations

import numpy as np

from workbench.analyses.common.runs import merge_runs, true_runs
from workbench.analyses.common.steps import find_steps, strongest_apart
from workbench.analyses.common.units import to_db
from workbench.core.analysis import Analysis, FigureOut, Finding, FindingKind, Result, Track, param
from workbench.core.clip import Clip
from workbench.core.plotting import (
    draw_waveform, format_time_axis, legend_outside, mmss, new_figure, plain_log_axis, shade_findings,
)

SILENCE_EDGE_S = 0.005
"""Sound beside a run of digital silence is measured over this long on each side (s)."""


def block_runs(clip: Clip, tests: list) -> list[list[tuple[int, int]]]:
    """For each of ``tests`` (samples of shape (frames, channels) -> a boolean per frame), the
    (start, stop) frames of the runs where it holds; all found in one walk over the blocks, a run
    cut by a block boundary joined again, so no per-frame array of the whole recording is built."""
    found: list[list[tuple[int, int]]] = [[] for _ in tests]
    for block in clip.blocks(block_s=60.0) if tests else ():
        for test, runs in zip(tests, found):
            starts, stops = true_runs(test(block.samples))
            for start, stop in zip(starts + block.start, stops + block.start):
                if runs and runs[-1][1] == start:
                    runs[-1] = (runs[-1][0], int(stop))
                else:
                    runs.append((int(start), int(stop)))
    return found


class Levels(Analysis):
    """Sample-level checks: clipped runs, digital silence and DC offset over time."""

    name = "levels"
    version = "1.3"
    description = "Clipping runs, digital silence inside the recording, DC offset and its steps."
    measures = (
        "NaN or infinite samples in a floating-point file, runs of consecutive samples held at "
        "the clip's peak value (clipping), runs of exact or "
        "near-exact digital zero (digital silence), how often the recording falls to exact zero "
        "inside it (exact_zero_runs_per_min, which some synthesizers leave between phrases: its "
        "separation of genuine from synthetic speech is measured in docs/validation.md), and the "
        "DC offset (mean) per window with the places where it steps."
    )
    cannot_show = (
        "Digital silence inside a recording is not produced by a room microphone; it can come "
        "from an edit, but also from a muting or noise-suppressing device, a dropped network "
        "packet or a codec's silence handling. Clipping shows the level exceeded the converter "
        "or a later gain stage; after lossy re-encoding clipped tops are no longer flat and can be "
        "missed. A DC step can come from splicing material from another device, or from a device "
        "switching mode, a filter settling, or a cable moved."
    )

    kinds = (
        FindingKind("digital_silence", "length / 0.2 s (1 from 200 ms)"),
        FindingKind("clipping", "clipped samples / 10 ms of samples"),
        FindingKind("dc_offset_change", "(step in dBFS + 60) / 40: 0 for a -60 dBFS step, 1 from -20 dBFS"),
        FindingKind("nonfinite_samples", "1 (NaN or infinite samples: no recorder writes them)"),
    )
    measurement_keys = (
        "clipped_samples", "clipping_regions", "dc_offset_dbfs_per_channel",
        "dc_offset_per_channel", "dc_step_threshold_used", "digital_silence_runs",
        "digital_silence_s", "exact_zero_runs_per_min", "nonfinite_samples", "peak_dbfs_per_channel",
    )

    silence_threshold_dbfs: float = param(
        -90.0, "Samples at or below this magnitude count as digital silence (-90 dBFS is about one "
        "16-bit step).")
    min_silence_s: float = param(0.02, "Shortest run of digital silence reported.", above=0)
    silence_edge_dbfs: float = param(
        -80.0, "A run inside the recording is flagged when it holds one value (exact zero or a "
        "constant, nine samples in ten) and the sound in the SILENCE_EDGE_S on both sides of it is "
        "at least this loud (RMS): the recording stops and resumes. A run reached from near-silence "
        "on one side (a noise gate, an inserted pause), or of near-zero samples that still move, is "
        "listed unflagged.")
    clip_tolerance: float = param(1e-4, "Samples within this fraction of the clip's peak count as "
                                  "at the peak.", above=0, below=0.1)
    min_clip_run_samples: int = param(3, "Shortest run of consecutive samples at the peak that counts "
                                      "as clipped.", at_least=2)
    min_clip_level_dbfs: float = param(-30.0, "Peaks below this level are not examined for clipping.")
    clip_merge_s: float = param(0.25, "Clipped runs closer than this are one region.", at_least=0)
    min_clipped_samples: int = param(8, "A region is flagged when it holds at least this many "
                                     "clipped samples.", at_least=1)
    dc_window_s: float = param(0.25, "Window over which DC offset (the mean) is measured.", above=0)
    dc_context_windows: int = param(8, "Windows each side of a boundary whose median DC is compared.",
                                    at_least=1)
    dc_step_threshold_dbfs: float = param(-50.0, "Smallest DC step flagged.")
    dc_noise_factor: float = param(8.0, "A step must also exceed this multiple of the DC track's own "
                                   "robust spread.", above=0)

    def run(self, clip: Clip) -> Result:
        silence = self._digital_silence(clip)
        clipping, clip_stats = self._clipping(clip)
        dc_times, dc_track, steps, dc_stats = self._dc(clip)
        findings = sorted(silence + clipping + steps + self._nonfinite(clip), key=lambda f: f.start_s)
        measurements = {
            "digital_silence_s": sum(f.end_s - f.start_s for f in silence),
            "digital_silence_runs": len(silence),
            "exact_zero_runs_per_min": sum(1 for f in silence if f.details["exact_zero"] and not f.details["at_edge"])
            / max(clip.duration_s / 60.0, 1e-9),
            "nonfinite_samples": clip.nonfinite_count,
            **clip_stats,
            **dc_stats,
        }
        figures = [
            self._figure(clip, findings, dc_times, dc_track),
            self._histogram(clip),
        ]
        tracks = [Track("DC offset (FS)", dc_times, dc_track.mean(axis=1))] if dc_times.size else []
        return Result(measurements=measurements, findings=findings, figures=figures, tracks=tracks)

    # -- digital silence -------------------------------------------------------------------
    def _digital_silence(self, clip: Clip) -> list[Finding]:
        sr = clip.sample_rate_hz
        threshold = 10 ** (self.silence_threshold_dbfs / 20)
        findings = []
        for start, stop in block_runs(clip, [lambda x: np.all(np.abs(x) <= threshold, axis=1)])[0]:
            length_s = (stop - start) / sr
            if length_s < self.min_silence_s:
                continue
            at_edge = start == 0 or stop == clip.frames
            run = clip.read(start, stop)
            exact = not np.any(run)
            what = "exact digital zero" if exact else f"near-zero samples (<= {self.silence_threshold_dbfs:g} dBFS)"
            edge_dbfs = self._edge_levels(clip, start, stop)
            abrupt = not at_edge and _held(run) and min(edge_dbfs) >= self.silence_edge_dbfs
            if at_edge:
                where = "at the edge of the file"
            elif abrupt:
                where = "inside the recording, with sound on both sides"
            elif min(edge_dbfs) < self.silence_edge_dbfs:
                where = ("inside the recording, reached from near-silence "
                         f"({min(edge_dbfs):.0f} dBFS beside it), as a noise gate or an inserted pause leaves")
            else:
                where = "inside the recording, with sound on both sides, but its samples still move (a quiet pause processed below the threshold)"
            findings.append(
                Finding(
                    kind="digital_silence",
                    start_s=start / sr,
                    end_s=stop / sr,
                    strength=min(1.0, length_s / 0.2),
                    flagged=abrupt,
                    summary=f"{length_s * 1000:.0f} ms of {what} {where}.",
                    details={"length_s": length_s, "exact_zero": exact, "at_edge": bool(at_edge),
                             "edge_dbfs": [round(v, 1) for v in edge_dbfs]},
                )
            )
        return findings

    @staticmethod
    def _edge_levels(clip: Clip, start: int, stop: int) -> tuple[float, float]:
        """RMS level (dBFS) of the mono mix in the ``SILENCE_EDGE_S`` before ``start`` and after ``stop``."""
        width = max(1, int(SILENCE_EDGE_S * clip.sample_rate_hz))
        levels = []
        for lo, hi in ((max(0, start - width), start), (stop, min(clip.frames, stop + width))):
            x = clip.mono_range(lo, hi).astype(np.float64) if hi > lo else np.zeros(1)
            levels.append(float(20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-12)))
        return levels[0], levels[1]

    # -- NaN and infinity -----------------------------------------------------------------
    def _nonfinite(self, clip: Clip) -> list[Finding]:
        """Runs of frames holding NaN or infinite samples (a float file only): the analyses read
        them as 0, and a recorder does not produce them."""
        frames = clip.nonfinite_frames
        if frames.size == 0:
            return []
        sr = clip.sample_rate_hz
        breaks = np.flatnonzero(np.diff(frames) != 1)  # frames are sorted: runs are consecutive indices
        starts = frames[np.concatenate(([0], breaks + 1))]
        stops = frames[np.concatenate((breaks, [frames.size - 1]))] + 1
        return [
            Finding(kind="nonfinite_samples", start_s=start / sr, end_s=stop / sr, strength=1.0,
                    flagged=True, summary=(f"{stop - start} frame(s) of NaN or infinite samples, read "
                                           "as 0 by every analysis; no recorder writes these."),
                    details={"frames": int(stop - start)})
            for start, stop, _m in merge_runs(starts, stops, max_gap=0)
        ]

    # -- clipping --------------------------------------------------------------------------
    def _clipping(self, clip: Clip) -> tuple[list[Finding], dict]:
        sr = clip.sample_rate_hz
        peaks = np.max([np.max(np.abs(b.samples), axis=0) for b in clip.blocks(block_s=60.0)], axis=0)
        starts, stops = self._runs_at_peak(clip, peaks)
        findings = []
        for start, stop, members in merge_runs(starts, stops, max_gap=int(self.clip_merge_s * sr)):
            clipped = int(np.sum(stops[members] - starts[members]))
            findings.append(
                Finding(
                    kind="clipping",
                    start_s=start / sr,
                    end_s=stop / sr,
                    strength=min(1.0, clipped / (0.01 * sr)),
                    flagged=clipped >= self.min_clipped_samples,
                    summary=(
                        f"{len(members)} run(s) of samples held at the peak level, "
                        f"{clipped} samples in all ({clipped / sr * 1000:.1f} ms)."
                    ),
                    details={"runs": len(members), "clipped_samples": clipped},
                )
            )
        stats = {
            "clipped_samples": int(np.sum(stops - starts)) if starts.size else 0,
            "clipping_regions": len(findings),
            "peak_dbfs_per_channel": [to_db(p) for p in peaks],
        }
        return findings, stats

    def _runs_at_peak(self, clip: Clip, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sorted (starts, stops) of the runs of at least ``min_clip_run_samples`` samples at a
        channel's peak."""
        tests = [
            lambda x, c=channel, s=sign, level=peak * (1 - self.clip_tolerance): s * x[:, c] >= level
            for channel, peak in enumerate(peaks)
            if peak > 0 and to_db(peak) >= self.min_clip_level_dbfs
            for sign in (1.0, -1.0)
        ]
        found = sorted(run for runs in block_runs(clip, tests) for run in runs
                       if run[1] - run[0] >= self.min_clip_run_samples)
        return (np.array([r[0] for r in found], dtype=int), np.array([r[1] for r in found], dtype=int))

    # -- DC offset -------------------------------------------------------------------------
    def _dc(self, clip: Clip) -> tuple[np.ndarray, np.ndarray, list[Finding], dict]:
        sr = clip.sample_rate_hz
        window = max(1, int(self.dc_window_s * sr))
        n_windows = clip.frames // window
        total = np.zeros(clip.channels)
        means = []
        # Blocks hold whole windows, so each window's mean comes from one block.
        for block in clip.blocks(block_s=window * max(1, int(60 * sr) // window) / sr):
            total += block.samples.sum(axis=0, dtype=np.float64)
            whole = block.samples.shape[0] // window
            means.append(block.samples[: whole * window].reshape(whole, window, clip.channels)
                         .mean(axis=1, dtype=np.float64))
        stats = {"dc_offset_per_channel": (total / max(1, clip.frames)).tolist()}
        stats["dc_offset_dbfs_per_channel"] = [to_db(v) for v in stats["dc_offset_per_channel"]]
        k = self.dc_context_windows
        if n_windows < 2 * k:
            return np.zeros(0), np.zeros((0, clip.channels)), [], stats
        track = np.concatenate(means)[:n_windows]
        times = (np.arange(n_windows) + 0.5) * window / sr
        findings: list[Finding] = []
        for channel in range(clip.channels):
            findings.extend(self._dc_steps(track[:, channel], window / sr, channel, clip.channels))
        merged = strongest_apart(findings, min_gap_s=2 * self.dc_window_s)
        stats["dc_step_threshold_used"] = self._dc_threshold(track)
        return times, track, merged, stats

    def _dc_threshold(self, track: np.ndarray) -> float:
        spread = np.median(np.abs(np.diff(track, axis=0) - np.median(np.diff(track, axis=0))))
        return float(max(10 ** (self.dc_step_threshold_dbfs / 20), self.dc_noise_factor * spread))

    def _dc_steps(self, dc: np.ndarray, window_s: float, channel: int, channels: int) -> list[Finding]:
        threshold = self._dc_threshold(dc[:, np.newaxis])
        findings = []
        for step in find_steps(dc, context=self.dc_context_windows, threshold=threshold):
            at_s = step.index * window_s
            where = f" in channel {channel + 1}" if channels > 1 else ""
            findings.append(
                Finding(
                    kind="dc_offset_change",
                    start_s=at_s,
                    end_s=at_s,
                    strength=(to_db(step.size) + 60.0) / 40.0,
                    flagged=True,
                    summary=(
                        f"DC offset steps by {step.size:+.4f} FS ({to_db(step.size):.1f} dBFS){where} "
                        f"near {mmss(at_s)}."
                    ),
                    details={"step": step.size, "step_dbfs": to_db(step.size), "channel": channel + 1},
                )
            )
        return findings

    # -- figures ---------------------------------------------------------------------------
    def _figure(self, clip: Clip, findings: list[Finding], dc_times, dc_track) -> FigureOut:
        fig, (ax_wave, ax_dc) = new_figure(height_in=4.6, nrows=2, height_ratios=[3, 2])
        draw_waveform(ax_wave, clip)
        flagged = [f for f in findings if f.flagged]
        shade_findings(ax_wave, flagged, min_width_s=clip.duration_s / 300)
        ax_wave.set_title(
            f"Waveform with flagged level findings ({len(flagged)}; numbered in time order)", loc="left"
        )
        for channel in range(dc_track.shape[1] if dc_track.ndim == 2 else 0):
            ax_dc.plot(dc_times, dc_track[:, channel], linewidth=1.0, label=f"channel {channel + 1}")
        for finding in findings:
            if finding.kind == "dc_offset_change":
                ax_dc.axvline(finding.start_s, color="#d62728", linewidth=1.2)
        ax_dc.axhline(0, color="black", linewidth=0.6)
        ax_dc.set_ylabel("DC offset (FS)")
        ax_dc.set_title(f"DC offset per {self.dc_window_s:g} s window; red lines: flagged steps", loc="left")
        ax_dc.grid(True, alpha=0.3)
        if clip.channels > 1:
            legend_outside(ax_dc)
        format_time_axis(ax_dc, clip.duration_s)
        ax_wave.set_xlabel("")
        return FigureOut(
            "levels", fig,
            "Top: waveform with flagged clipping and digital-silence regions. "
            "Bottom: DC offset per window with flagged steps.",
        )

    def _histogram(self, clip: Clip) -> FigureOut:
        fig, (ax,) = new_figure(height_in=2.8, sharex=False)
        edges = np.linspace(-1.0, 1.0, 402)
        counts = sum(np.histogram(block.samples, bins=edges)[0] for block in clip.blocks(block_s=30.0))
        centres = (edges[:-1] + edges[1:]) / 2
        ax.semilogy(centres, np.maximum(counts, 0.8), color="#1f4e79", linewidth=0.9, drawstyle="steps-mid")
        ax.set_xlim(-1.0, 1.0)
        ax.set_ylim(bottom=0.8)
        plain_log_axis(ax.yaxis)
        ax.set_xlabel("sample value (FS)")
        ax.set_ylabel("count (log)")
        ax.set_title("Sample-value histogram: clipping shows as spikes at the extremes", loc="left")
        ax.grid(True, alpha=0.3)
        return FigureOut(
            "histogram", fig,
            "Histogram of all sample values. Piles at the two ends point to clipping or limiting.",
        )


def _held(run: np.ndarray) -> bool:
    """True when nine in ten samples of ``run`` hold one value (exact zero, or a constant written
    in): digital, not a quiet pause whose samples still move below the threshold. The run's own
    edges may catch a few samples of a waveform crossing zero."""
    _, counts = np.unique(run, return_counts=True)
    return bool(counts.max() >= 0.9 * run.size)
