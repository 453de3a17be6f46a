"""``noise_floor``: the background between the words, its level and colour over time."""

from __future__ import annotations

import warnings

import numpy as np

from workbench.analysis import Analysis, FigureOut, Finding, Result, Track, require
from workbench.clip import Clip, Spectrogram
from workbench.plotting import format_time_axis, legend_outside, mmss, new_figure, shade_findings
from workbench.steps import best_split, strongest_apart


class NoiseFloor(Analysis):
    """Background level and spectral shape measured in the pauses, tracked over time.

    In each window the background of each band is the ``floor_percentile`` of its frame levels
    (minimum statistics: the quiet frames between words set it). The multiband track is cut into
    stretches of constant background by PELT change-point detection (ruptures ``KernelCPD`` with
    a linear kernel, i.e. the L2 cost) on the track standardised by its own frame-to-frame noise.

    Parameters
    ----------
    window_s : float > 0
        Window over which the background is estimated, in seconds.
    hop_s : float > 0
        Step between windows, in seconds.
    floor_percentile : float in (0, 50]
        Percentile of frame levels taken as the background.
    bands : int >= 1
        Number of log-spaced bands between ``low_hz`` and ``high_hz``.
    low_hz, high_hz : float > 0
        Band range in Hz (the upper end is capped below Nyquist).
    penalty : float > 0
        PELT penalty per band, times log(number of windows); larger finds fewer changes.
    min_segment_s : float > 0
        Shortest stretch of constant background, in seconds.
    min_step_db : float > 0
        A change is flagged when the broadband background steps by at least this many dB ...
    min_shape_db : float > 0
        ... or its spectral shape (level-removed band levels) moves this far (RMS dB) ...
    min_band_step_db : float > 0
        ... or any single band's background steps by this much (a change of colour confined to
        one band, e.g. hiss above a hum-dominated background).
    min_contrast_db : float
        A window is judged only when its median frame is this much louder than its background
        estimate, i.e. when it has pauses (continuous music or noise has none) ...
    max_spread_db : float > 0
        ... and the level of its quietest frames (up to twice ``floor_percentile``) varies by no
        more than this (standard deviation, dB): a background is steady.
    """

    name = "noise_floor"
    version = "1.0"
    description = "Background (room tone) level and colour in the pauses over time, and where it changes."
    measures = (
        "The background level in each of several frequency bands, estimated from the quietest "
        "frames of each window (the pauses between words), over time; the places where the "
        "background's level or spectral shape changes (PELT change points), with the step in dB "
        "and the distance between the spectral shapes before and after."
    )
    cannot_show = (
        "A change of background can come from inserted material recorded elsewhere, but also "
        "from automatic gain control, a noise suppressor adapting, a door closing, traffic, a fan "
        "switching, the speaker moving, or a codec switching mode. Where speech never pauses "
        "within a window the estimate rises with the voice. Digital silence (exact zero) is left "
        "out and reported by the levels analysis."
    )

    def __init__(
        self, *, window_s: float = 3.0, hop_s: float = 0.5, floor_percentile: float = 10.0,
        bands: int = 8, low_hz: float = 100.0, high_hz: float = 8000.0, penalty: float = 8.0,
        min_segment_s: float = 2.0, min_step_db: float = 5.0, min_shape_db: float = 5.0,
        min_contrast_db: float = 12.0, max_spread_db: float = 2.0, min_band_step_db: float = 8.0,
    ):
        require(window_s > 0 and hop_s > 0, "noise_floor.window_s and hop_s must be > 0")
        require(0 < floor_percentile <= 50, "noise_floor.floor_percentile must be in (0, 50]")
        require(bands >= 1, "noise_floor.bands must be >= 1")
        require(0 < low_hz < high_hz, "noise_floor.low_hz must be > 0 and below high_hz")
        require(penalty > 0, "noise_floor.penalty must be > 0")
        require(min_segment_s > 0, "noise_floor.min_segment_s must be > 0")
        require(min_step_db > 0 and min_shape_db > 0, "noise_floor.min_step_db and min_shape_db must be > 0")
        self.window_s = float(window_s)
        self.hop_s = float(hop_s)
        self.floor_percentile = float(floor_percentile)
        self.bands = int(bands)
        self.low_hz = float(low_hz)
        self.high_hz = float(high_hz)
        self.penalty = float(penalty)
        self.min_segment_s = float(min_segment_s)
        self.min_step_db = float(min_step_db)
        self.min_shape_db = float(min_shape_db)
        self.min_contrast_db = float(min_contrast_db)
        self.max_spread_db = float(max_spread_db)
        self.min_band_step_db = float(min_band_step_db)

    def run(self, clip: Clip) -> Result:
        spec = clip.spectrogram
        band_db, edges = self._band_levels(spec)
        frame_s = spec.hop_length / spec.sample_rate_hz
        audible = np.isfinite(band_db).all(axis=0)
        if audible.sum() < 4:
            return Result.skipped("the clip has no background to measure (silent or too short)")
        times, floor = self._floor_track(band_db, audible, frame_s)
        if times.size < 4:
            return Result.skipped(f"the clip is too short for {self.window_s:g} s background windows")
        broadband = _power_sum_db(floor)
        judged = float(np.mean(np.isfinite(broadband)))
        if judged < 0.25:
            return Result.skipped(
                f"only {judged:.0%} of the {self.window_s:g} s windows have pauses to measure the "
                "background in (continuous sound)")
        boundaries = self._change_points(floor)
        context = max(2, int(round(self.min_segment_s / self.hop_s)))
        findings = [
            self._finding(band_db, audible, _judged(floor[:b][::-1], context), _judged(floor[b:], context),
                          times[b], frame_s, edges)
            for b in boundaries
        ]
        # Change points too small to be worth a line (half the flag thresholds) are not reported.
        findings = strongest_apart(
            [f for f in findings if abs(f.details["step_db"]) >= self.min_step_db / 2
             or f.details["shape_distance_db"] >= self.min_shape_db / 2
             or f.details["largest_band_step_db"] >= self.min_band_step_db / 2],
            min_gap_s=self.min_segment_s,
        )
        valid = np.isfinite(broadband)
        measurements = {
            "noise_floor_dbfs_median": float(np.median(broadband[valid])) if valid.any() else None,
            "noise_floor_dbfs_min": float(np.min(broadband[valid])) if valid.any() else None,
            "noise_floor_dbfs_max": float(np.max(broadband[valid])) if valid.any() else None,
            "change_points": len(findings),
            "windows_with_pauses": judged,
            "band_edges_hz": edges.tolist(),
        }
        figure = self._figure(clip, times, floor, broadband, edges, findings)
        return Result(measurements=measurements, findings=findings, figures=[figure],
                      parameters=spec.parameters(),
                      tracks=[Track("noise floor (dBFS)", times, broadband)])

    def _band_levels(self, spec: Spectrogram) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame level (dB re FS sine, summed power) of log-spaced bands; -inf where empty."""
        high = min(self.high_hz, 0.9 * spec.sample_rate_hz / 2)
        edges = np.geomspace(self.low_hz, high, self.bands + 1)
        scale = np.float32(spec.n_fft / 4) ** 2
        rows = []
        for lo, hi in zip(edges[:-1], edges[1:]):
            rows_in_band = spec.magnitude[(spec.freqs_hz >= lo) & (spec.freqs_hz < hi)]
            # Sum of squares band by band: no full-size power array for a long recording.
            total = np.einsum("ij,ij->j", rows_in_band, rows_in_band, dtype=np.float64) / scale
            rows.append(np.where(total > 1e-18, 10 * np.log10(np.maximum(total, 1e-30)), -np.inf))
        return np.array(rows), edges

    def _floor_track(self, band_db, audible, frame_s) -> tuple[np.ndarray, np.ndarray]:
        per_window = max(2, int(round(self.window_s / frame_s)))
        hop = max(1, int(round(self.hop_s / frame_s)))
        starts = np.arange(0, band_db.shape[1] - per_window + 1, hop)
        floor = np.full((starts.size, band_db.shape[0]), np.nan)
        for i, start in enumerate(starts):
            cols = np.arange(start, start + per_window)[audible[start : start + per_window]]
            if cols.size < per_window // 4:
                continue
            estimate = np.percentile(band_db[:, cols], self.floor_percentile, axis=1)
            level = _power_sum_db(band_db[:, cols].T)
            quiet = level[level <= np.percentile(level, 2 * self.floor_percentile)]
            # Without pauses the quiet frames are quiet signal, not background: a background is
            # well below the typical frame and steady from frame to frame.
            contrast = np.median(level) - _power_sum_db(estimate[np.newaxis])[0]
            if contrast >= self.min_contrast_db and np.std(quiet) <= self.max_spread_db:
                floor[i] = estimate
        return (starts + per_window / 2) * frame_s, floor

    def _change_points(self, floor: np.ndarray) -> list[int]:
        """Window indices where a new stretch of constant background starts (PELT, L2 cost)."""
        import ruptures

        rows = np.isfinite(floor).all(axis=1)
        if rows.sum() < 8:
            return []
        data = floor.copy()
        data[~rows] = np.nan
        # Fill unmeasured windows from their neighbours so indices keep their times.
        idx = np.arange(len(data))
        for band in range(data.shape[1]):
            data[:, band] = np.interp(idx, idx[rows], data[rows, band])
        noise = np.median(np.abs(np.diff(data, axis=0)), axis=0) / 0.6745 / np.sqrt(2)
        scaled = data / np.maximum(noise, 0.3)
        min_size = max(2, int(round(self.min_segment_s / self.hop_s)))
        penalty = self.penalty * data.shape[1] * np.log(len(data))
        # PELT with a linear kernel is PELT with the L2 cost, in ruptures' C implementation
        # (the pure-Python Pelt grows quadratically on long recordings). Candidates every second
        # window; each change is placed at frame resolution afterwards.
        search = ruptures.KernelCPD(kernel="linear", min_size=min_size, jump=2)
        ends = search.fit(scaled).predict(pen=penalty)
        return [int(end) for end in ends[:-1]]

    def _finding(self, band_db, audible, segment_before, segment_after, boundary_s, frame_s, edges) -> Finding:
        """Describe the change between two stretches of constant background (PELT segments)."""
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a side may hold unjudged windows only
            before = np.nanmedian(segment_before, axis=0)
            after = np.nanmedian(segment_after, axis=0)
        step = float(_power_sum_db(after[np.newaxis])[0] - _power_sum_db(before[np.newaxis])[0])
        shape = float(np.sqrt(np.mean(((after - after.mean()) - (before - before.mean())) ** 2)))
        louder = max(_power_sum_db(before[np.newaxis])[0], _power_sum_db(after[np.newaxis])[0])
        at_s = self._place(band_db, audible, boundary_s - self.hop_s / 2, frame_s, louder)
        band_step = float(np.max(np.abs(after - before)))
        flagged = (abs(step) >= self.min_step_db or shape >= self.min_shape_db
                   or band_step >= self.min_band_step_db)
        return Finding(
            kind="noise_floor_change", start_s=at_s, end_s=at_s,
            strength=min(1.0, max(abs(step), shape) / 20.0), flagged=flagged,
            summary=(f"The background changes near {mmss(at_s)}: level {step:+.1f} dB, spectral "
                     f"shape moves {shape:.1f} dB RMS across {len(edges) - 1} bands (largest band "
                     f"step {band_step:.1f} dB)."),
            details={"step_db": step, "shape_distance_db": shape, "largest_band_step_db": band_step,
                     "before_db": before.tolist(), "after_db": after.tolist()},
        )

    def _place(self, band_db, audible, coarse_s: float, frame_s: float, louder_db: float) -> float:
        """Refine a change time to frame resolution: the best two-piece split of the levels of the
        background frames (no louder than the louder background + 3 dB) within a window of it."""
        lo = max(0, int((coarse_s - self.window_s) / frame_s))
        hi = min(band_db.shape[1], int((coarse_s + self.window_s) / frame_s))
        cols = np.arange(lo, hi)[audible[lo:hi]]
        level = _power_sum_db(band_db[:, cols].T)
        background = level <= louder_db + 3.0
        if background.sum() < 4:
            return coarse_s
        split = best_split(level[background])
        return float((cols[background][split - 1] + cols[background][split]) / 2 * frame_s)

    def _figure(self, clip: Clip, times, floor, broadband, edges, findings) -> FigureOut:
        fig, (ax_level, ax_bands) = new_figure(height_in=4.8, nrows=2)
        ax_level.plot(times, broadband, color="#1f4e79", linewidth=1.2)
        shade_findings(ax_level, [f for f in findings if f.flagged], min_width_s=clip.duration_s / 300)
        ax_level.set_ylabel("background (dBFS)")
        ax_level.set_title(
            f"Background level ({self.floor_percentile:g}th percentile of frames per {self.window_s:g} s); "
            "red: flagged changes", loc="left")
        ax_level.grid(True, alpha=0.3)
        colors = [f"C{i % 10}" for i in range(floor.shape[1])]
        for band, color in enumerate(colors):
            ax_bands.plot(times, floor[:, band], color=color, linewidth=0.9,
                          label=f"{edges[band]:.0f}-{edges[band + 1]:.0f} Hz")
        ax_bands.set_ylabel("band level (dB)")
        ax_bands.set_title("Background per band: a change of colour moves the bands apart", loc="left")
        ax_bands.grid(True, alpha=0.3)
        legend_outside(ax_bands)
        format_time_axis(ax_bands, clip.duration_s)
        ax_level.set_xlabel("")
        return FigureOut("noise-floor", fig, "Background level and per-band background over time.")


def _judged(floor: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` judged (finite) windows of ``floor``, walking outward from a boundary."""
    rows = np.isfinite(floor).all(axis=1)
    return floor[rows][:count]


def _power_sum_db(levels_db: np.ndarray) -> np.ndarray:
    """Sum band levels (dB) in power along the last axis; NaN rows stay NaN."""
    with np.errstate(invalid="ignore"):
        return 10 * np.log10(np.sum(10 ** (levels_db / 10), axis=-1))
