"""``noise_floor``: the background between the words, its level and colour over time."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from workbench.analyses.common.comparable import BandLevels
from workbench.analyses.common.steps import best_split, strongest_apart
from workbench.core.analysis import Analysis, FigureOut, Finding, FindingKind, Result, Track, param, require
from workbench.core.clip import Clip
from workbench.core.plotting import format_time_axis, legend_outside, mmss, new_figure, plot_gappy, shade_findings
from workbench.core.spectrogram import Spectrogram


MIN_BAND_HZ = 600.0
"""Bands narrower than this are left out: between a voice's harmonics too few bins stay quiet."""
MIN_AXIS_SPAN_DB = 12.0
"""The level axes span at least this much, so steady noise's fraction-of-a-dB wobble does not
look like a change next to the flag thresholds (5-8 dB)."""
LEVEL_BLOCK_FRAMES = 8192
"""Spectrogram frames whose band levels are computed together."""
QUIET_PERCENTILE = 25.0
"""A band's background is judged steady from its quietest quarter of frames in a window."""


class NoiseFloor(Analysis):
    """Background level and spectral shape measured in the pauses and valleys, tracked over time.

    Each frame's level in each band is taken from its quietest bins only (the lowest
    ``valley_fraction`` of them, scaled to the whole band): between the harmonics of a voice or
    a note the background shows through, so it can be measured where sound never pauses. In each
    window the background of each band is the ``floor_percentile`` of those frame levels
    (minimum statistics: the quiet frames between words set it), kept only where it is steady
    (the quietest quarter of the frames varies no more than background noise alone would, plus
    ``max_spread_db``). Bands steady in at least half the windows make the track; it is cut into
    stretches of constant background by PELT change-point detection (ruptures ``KernelCPD`` with
    a linear kernel, i.e. the L2 cost) on the track standardised by its own window-to-window noise.
    """

    name = "noise_floor"
    version = "2.1"
    description = "Background (room tone) level and colour in the pauses and spectral valleys over time, and where it changes."
    measures = (
        "The background level in each of several frequency bands, estimated from the quietest "
        "bins of each frame (between harmonics) and the quietest frames of each window (the "
        "pauses between words), over time; the places where the background's level or spectral "
        "shape changes (PELT change points), with the step in dB and the distance between the "
        "spectral shapes before and after."
    )
    cannot_show = (
        "A change of background can come from inserted material recorded elsewhere, but also "
        "from automatic gain control, a noise suppressor adapting, a door closing, traffic, a fan "
        "switching, the speaker moving, or a codec switching mode. Where sound fills a band "
        "without pauses or valleys (dense music, broadband noise) that band is not judged there. "
        "Digital silence (exact zero) is left "
        "out and reported by the levels analysis."
    )

    kinds = (FindingKind("noise_floor_change", "larger of the level step and the shape distance, / 20 dB"),)
    measurement_keys = (
        "band_edges_hz", "band_floor_dbfs_median", "change_points", "noise_floor_dbfs_max",
        "noise_floor_dbfs_median", "noise_floor_dbfs_min", "windows_judged",
    )

    comparable = (
        BandLevels("band_edges_hz", "band_floor_dbfs_median", "Noise floor (median, shared bands)", "dBFS", 6.0),
    )

    window_s: float = param(3.0, "Window over which the background is estimated.", above=0)
    hop_s: float = param(0.5, "Step between windows.", above=0)
    floor_percentile: float = param(10.0, "Percentile of frame levels taken as the background.",
                                    unit="%", above=0, at_most=50)
    bands: int = param(8, "Number of log-spaced bands between low_hz and high_hz. The edges do not "
                       "depend on the sample rate, so clips at different rates are measured in the "
                       "same bands; bands narrower than MIN_BAND_HZ are left out, and the top one is "
                       "cut at 90 % of Nyquist.", at_least=1)
    low_hz: float = param(100.0, "Bottom of the band range.", above=0)
    high_hz: float = param(8000.0, "Top of the band range.", above=0)
    penalty: float = param(8.0, "PELT penalty per band, times log(number of windows); larger finds "
                           "fewer changes.", above=0)
    min_segment_s: float = param(2.0, "Shortest stretch of constant background.", above=0)
    min_step_db: float = param(5.0, "A change is flagged when the broadband background steps by at "
                               "least this much ...", above=0)
    min_shape_db: float = param(5.0, "... or its spectral shape (level-removed band levels) moves this "
                                "far (RMS) ...", above=0)
    valley_fraction: float = param(0.25, "Share of a band's bins (the quietest) that give a frame's "
                                   "level in that band.", above=0, at_most=1)
    max_spread_db: float = param(1.5, "A band's background in a window is kept when the standard "
                                 "deviation of the quietest quarter of its frame levels exceeds that "
                                 "of steady noise by no more than this.", above=0)
    min_band_step_db: float = param(8.0, "... or any single band's background steps by this much (a "
                                    "change of colour confined to one band).", above=0)

    def check(self) -> None:
        require(self.low_hz < self.high_hz, "noise_floor.low_hz must be > 0 and below high_hz")

    def run(self, clip: Clip) -> Result:
        spec = clip.spectrogram
        band_db, edges, bins = self._band_levels(spec)
        if not edges:
            return Result.skipped(f"no band between {self.low_hz:g} and {self.high_hz:g} Hz is "
                                  f"{MIN_BAND_HZ:g} Hz wide below this sample rate's Nyquist")
        frame_s = spec.hop_length / spec.sample_rate_hz
        audible = np.isfinite(band_db).all(axis=0)
        if audible.sum() < 4:
            return Result.skipped("the clip has no background to measure (silent or too short)")
        times, floor = self._floor_track(band_db, audible, frame_s, bins)
        if times.size < 4:
            return Result.skipped(f"the clip is too short for {self.window_s:g} s background windows")
        used = np.mean(np.isfinite(floor), axis=0) >= 0.5
        if not used.any():
            return Result.skipped(
                f"no band has a steady background in half of the {self.window_s:g} s windows "
                "(sound without pauses or spectral valleys)")
        floor, band_db = floor[:, used], band_db[used]
        edges = [band for band, keep in zip(edges, used) if keep]
        judged = float(np.mean(np.isfinite(floor)))
        filled = _fill_gaps(floor)
        rows = np.isfinite(floor).any(axis=1)  # windows judged in some band
        broadband = np.where(rows, _power_sum_db(filled), np.nan)
        if judged < 0.25:
            return Result.skipped(
                f"only {judged:.0%} of the {self.window_s:g} s windows have a steady background "
                "(sound without pauses or spectral valleys)")
        boundaries = self._change_points(filled)
        context = max(2, int(round(self.min_segment_s / self.hop_s)))
        # A window straddling a change sees part of both sides: each side is measured from the
        # windows clear of the boundary (up to the neighbouring change), and one change seen as
        # the two ends of that ramp is one.
        clear = int(np.ceil(self.window_s / 2 / self.hop_s))
        bounds = [0, *boundaries, len(filled)]
        findings = []
        for i, b in enumerate(boundaries):
            before = np.arange(bounds[i], b - clear) if b - clear > bounds[i] else np.arange(bounds[i], b)
            after = np.arange(b + clear, bounds[i + 2]) if b + clear < bounds[i + 2] else np.arange(b, bounds[i + 2])
            findings.append(self._finding(
                band_db, audible, _judged(filled[before[::-1]], rows[before[::-1]], context),
                _judged(filled[after], rows[after], context), times[b], frame_s, edges))
        # Change points too small to be worth a line (half the flag thresholds) are not reported.
        findings = strongest_apart(
            [f for f in findings if abs(f.details["step_db"]) >= self.min_step_db / 2
             or f.details["shape_distance_db"] >= self.min_shape_db / 2
             or f.details["largest_band_step_db"] >= self.min_band_step_db / 2],
            min_gap_s=max(self.min_segment_s, self.window_s),
        )
        valid = np.isfinite(broadband)
        measurements = {
            "noise_floor_dbfs_median": float(np.median(broadband[valid])) if valid.any() else None,
            "noise_floor_dbfs_min": float(np.min(broadband[valid])) if valid.any() else None,
            "noise_floor_dbfs_max": float(np.max(broadband[valid])) if valid.any() else None,
            "change_points": len(findings),
            "windows_judged": judged,
            "band_edges_hz": edges,
            "band_floor_dbfs_median": [float(v) for v in np.nanmedian(floor, axis=0)],
        }
        figure = self._figure(clip, times, floor, broadband, edges, findings)
        return Result(measurements=measurements, findings=findings, figures=[figure],
                      parameters=spec.parameters(),
                      tracks=[Track("noise floor (dBFS)", times, broadband)])

    def _band_levels(self, spec: Spectrogram) -> tuple[np.ndarray, list[tuple[float, float]], np.ndarray]:
        """Per-frame background level of log-spaced bands from their quietest bins.

        Returns the levels (dB re FS sine; -inf where the quietest bins are exactly zero), the
        bands' edges (Hz) and their number of bins; bands narrower than ``MIN_BAND_HZ`` (after
        the top one is cut at 90 % of Nyquist) are left out. A band's level is the mean power of
        its lowest ``valley_fraction`` of bins, scaled to the band's width and corrected for the
        bias that selection has on noise (so steady noise reads at its level).
        """
        top = 0.9 * spec.sample_rate_hz / 2
        edges = np.geomspace(self.low_hz, self.high_hz, self.bands + 1)
        scale = np.float32(spec.n_fft / 4) ** 2
        pairs = [(float(lo), min(float(hi), top)) for lo, hi in zip(edges[:-1], edges[1:])]
        bands = [(lo, hi, np.flatnonzero((spec.freqs_hz >= lo) & (spec.freqs_hz < hi)))
                 for lo, hi in pairs if hi - lo >= MIN_BAND_HZ]
        levels = np.empty((len(bands), spec.n_frames))
        kept = [self._kept(rows.size) for *_, rows in bands]
        bias_db = [_valley_noise(rows.size, keep)[0] for (*_, rows), keep in zip(bands, kept)]
        for start, magnitude in spec.blocks(LEVEL_BLOCK_FRAMES):
            stop = start + magnitude.shape[1]
            for i, (_lo, _hi, rows) in enumerate(bands):
                block, keep = magnitude[rows], kept[i]
                low = np.partition(block, keep - 1, axis=0)[:keep] if keep < rows.size else block
                power = np.einsum("ij,ij->j", low, low, dtype=np.float64) / scale * (rows.size / keep)
                levels[i, start:stop] = np.where(
                    power > 1e-18, 10 * np.log10(np.maximum(power, 1e-30)) + bias_db[i], -np.inf)
        return levels, [(lo, hi) for lo, hi, _ in bands], np.array([rows.size for *_, rows in bands])

    def _kept(self, bins: int) -> int:
        """How many of a band's ``bins`` (the quietest) give a frame's level."""
        return max(1, int(round(self.valley_fraction * bins)))

    def _floor_track(self, band_db, audible, frame_s, bins) -> tuple[np.ndarray, np.ndarray]:
        """Per window and band, the background (``floor_percentile`` of the frame levels), NaN
        where the band's quieter frames vary more than steady noise would (plus
        ``max_spread_db``)."""
        per_window = max(2, int(round(self.window_s / frame_s)))
        hop = max(1, int(round(self.hop_s / frame_s)))
        starts = np.arange(0, band_db.shape[1] - per_window + 1, hop)
        floor = np.full((starts.size, band_db.shape[0]), np.nan)
        allowed = np.array([_valley_noise(m, self._kept(m))[1] for m in bins]) + self.max_spread_db
        for i, start in enumerate(starts):
            cols = np.arange(start, start + per_window)[audible[start : start + per_window]]
            if cols.size < per_window // 4:
                continue
            levels = band_db[:, cols]
            estimate = np.percentile(levels, self.floor_percentile, axis=1)
            cut = np.percentile(levels, QUIET_PERCENTILE, axis=1, keepdims=True)
            quiet = np.where(levels <= cut, levels, np.nan)
            spread = np.nanstd(quiet, axis=1)
            floor[i] = np.where(spread <= allowed, estimate, np.nan)
        return (starts + per_window / 2) * frame_s, floor

    def _change_points(self, data: np.ndarray) -> list[int]:
        """Window indices where a new stretch of constant background starts (PELT, L2 cost) in
        the gap-filled band track ``data``."""
        import ruptures

        if len(data) < 8:
            return []
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
        band = int(np.nanargmax(np.abs(after - before))) if np.isfinite(after - before).any() else 0
        at_s = self._place(band_db[band], audible, boundary_s - self.hop_s / 2, frame_s,
                           float(max(before[band], after[band])))
        band_step = float(np.max(np.abs(after - before)))
        flagged = (abs(step) >= self.min_step_db or shape >= self.min_shape_db
                   or band_step >= self.min_band_step_db)
        return Finding(
            kind="noise_floor_change", start_s=at_s, end_s=at_s,
            strength=min(1.0, max(abs(step), shape) / 20.0), flagged=flagged,
            summary=(f"The background changes near {mmss(at_s)}: level {step:+.1f} dB, spectral "
                     f"shape moves {shape:.1f} dB RMS across {len(edges)} bands (largest band "
                     f"step {band_step:.1f} dB)."),
            details={"step_db": step, "shape_distance_db": shape, "largest_band_step_db": band_step,
                     "before_db": before.tolist(), "after_db": after.tolist()},
        )

    def _place(self, band_levels, audible, coarse_s: float, frame_s: float, louder_db: float) -> float:
        """Refine a change time to frame resolution: the best two-piece split of the frame levels
        of the band that changed most (where sound masks the change least), over its background
        frames (no louder than the louder background + 3 dB) within a window of it."""
        lo = max(0, int((coarse_s - self.window_s) / frame_s))
        hi = min(band_levels.size, int((coarse_s + self.window_s) / frame_s))
        cols = np.arange(lo, hi)[audible[lo:hi]]
        level = band_levels[cols]
        background = level <= louder_db + 3.0
        if background.sum() < 4:
            return coarse_s
        split = best_split(level[background])
        return float((cols[background][split - 1] + cols[background][split]) / 2 * frame_s)

    def _figure(self, clip: Clip, times, floor, broadband, edges, findings) -> FigureOut:
        """The background level over time and, with more than one band, each band's (with one
        band the two would be the same line)."""
        per_band = len(edges) > 1
        fig, axes = new_figure(height_in=4.8 if per_band else 2.8, nrows=2 if per_band else 1)
        ax_level = axes[0]
        plot_gappy(ax_level, times, broadband, color="#1f4e79", linewidth=1.2)
        shade_findings(ax_level, [f for f in findings if f.flagged], min_width_s=clip.duration_s / 300)
        ax_level.set_ylabel("background (dBFS)")
        ax_level.set_title(
            f"Background level, {edges[0][0]:.0f}-{edges[-1][1]:.0f} Hz ({self.floor_percentile:g}th "
            f"percentile of frames per {self.window_s:g} s); red: flagged changes", loc="left")
        ax_level.grid(True, alpha=0.3)
        _at_least_span(ax_level, broadband, MIN_AXIS_SPAN_DB)
        if per_band:
            ax_bands = axes[1]
            for band in range(floor.shape[1]):
                plot_gappy(ax_bands, times, floor[:, band], color=f"C{band % 10}", linewidth=0.9,
                              label=f"{edges[band][0]:.0f}-{edges[band][1]:.0f} Hz")
            ax_bands.set_ylabel("band level (dB)")
            ax_bands.set_title("Background per band: a change of colour moves the bands apart", loc="left")
            ax_bands.grid(True, alpha=0.3)
            _at_least_span(ax_bands, floor, MIN_AXIS_SPAN_DB)
            legend_outside(ax_bands)
        format_time_axis(axes[-1], clip.duration_s)
        return FigureOut("noise-floor", fig, "Background level and per-band background over time."
                         if per_band else "Background level over time (one band measured).")


@lru_cache(maxsize=None)
def _valley_noise(bins: int, keep: int) -> tuple[float, float]:
    """For steady noise (independent exponential bin powers), the mean dB by which the mean of
    the lowest ``keep`` of ``bins`` bins reads below the true level, and the standard deviation
    (dB) of the quietest quarter of such readings. Simulated once per band shape (seeded)."""
    rng = np.random.default_rng(0)
    power = np.sort(rng.exponential(size=(4000, bins)), axis=1)[:, :keep].mean(axis=1)
    readings = 10 * np.log10(power)
    quiet = readings[readings <= np.percentile(readings, QUIET_PERCENTILE)]
    return float(-np.mean(readings)), float(np.std(quiet))


def _at_least_span(ax, values: np.ndarray, span_db: float) -> None:
    """Widen the y axis of ``ax`` to ``span_db`` around the finite ``values`` if they span less."""
    finite = values[np.isfinite(values)]
    if finite.size and np.ptp(finite) < span_db:
        middle = (finite.max() + finite.min()) / 2
        ax.set_ylim(middle - span_db / 2, middle + span_db / 2)


def _fill_gaps(floor: np.ndarray) -> np.ndarray:
    """Each band's unjudged windows filled from its judged neighbours, so indices keep their
    times (every band passed in is judged in at least one window)."""
    filled = floor.copy()
    idx = np.arange(len(floor))
    for band in range(floor.shape[1]):
        known = np.isfinite(floor[:, band])
        filled[:, band] = np.interp(idx, idx[known], floor[known, band])
    return filled


def _judged(floor: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` windows of ``floor`` where ``rows`` is true (judged in some band),
    walking outward from a boundary."""
    return floor[rows][:count]


def _power_sum_db(levels_db: np.ndarray) -> np.ndarray:
    """Sum band levels (dB) in power along the last axis; NaN rows stay NaN."""
    with np.errstate(invalid="ignore"):
        return 10 * np.log10(np.sum(10 ** (levels_db / 10), axis=-1))
