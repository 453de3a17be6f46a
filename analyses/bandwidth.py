"""``bandwidth``: where the recorded band ends, whether that changes, and what it says of the
file's history (lossy coding, upsampling)."""

from __future__ import annotations

import numpy as np

from workbench.analyses.common.comparable import Category, Numeric
from workbench.analyses.common.steps import best_split, find_steps
from workbench.core.analysis import Analysis, FigureOut, Finding, FindingKind, Result, Track, param
from workbench.core.clip import Clip
from workbench.core.plotting import (
    add_colorbar, draw_spectrogram, format_time_axis, mmss, new_figure, shade_findings,
)
from workbench.core.spectrogram import Spectrogram

EMPTY_DB = -140.0
"""Spectrum level (dB re full-scale sine, per bin) below which a band counts as empty."""
STANDARD_RATES_HZ = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000)


class Bandwidth(Analysis):
    """Effective upper band limit per window and overall; steps in it; lossy and upsampling signs.

    The band limit is a *cliff*: the frequency where the average spectrum of the frames with
    signal drops by at least ``cliff_db`` within a few hundred hertz and stays down to Nyquist.
    When there is no such cliff the band limit is Nyquist (the recording fills the band).
    """

    name = "bandwidth"
    version = "1.0"
    description = "Effective band limit over time, its steps, lossy-codec and upsampling signatures."
    measures = (
        "The frequency where the spectrum of the frames with signal ends in a steep drop (the "
        "effective upper band limit), per window and for the whole clip; steps in that limit; "
        "whether the spectrum shows a lossy codec's signature (a steep low-pass cliff or spectral "
        "holes) whatever the container says; and whether content stops at half of a lower "
        "standard sample rate (the file was upsampled)."
    )
    cannot_show = (
        "A change of band limit can come from inserted material of another source or codec, but "
        "also from a codec switching bitrate, a network changing the call's bandwidth, or a "
        "passage with no high-frequency content (a pause, a low voice). Lossy coding and "
        "upsampling are common in innocent copies (messengers, platforms) and say nothing by "
        "themselves about the content. An encoder low-pass near 16 kHz and content upsampled "
        "from 32 kHz look alike."
    )

    kinds = (
        FindingKind("bandwidth_change", "step of the band limit / 8 kHz"),
        FindingKind("lossy_history", "0.6", flagged=False),
        FindingKind("upsampled", "0.6", flagged=False),
    )
    measurement_keys = (
        "apparent_original_rate_hz", "band_limit_max_hz", "band_limit_min_hz", "band_limited",
        "effective_bandwidth_hz", "lossy_cutoff_hz", "lossy_history", "nyquist_hz",
        "spectral_hole_fraction",
    )

    comparable = (
        Numeric("effective_bandwidth_hz", "Effective bandwidth", "Hz", 0.10, relative=True),
        Category("lossy_history", "Lossy-codec signature"),
        Category("apparent_original_rate_hz", "Apparent original rate (Hz)"),
    )

    window_s: float = param(0.5, "Length of the windows of the band-limit track.", above=0)
    cliff_db: float = param(30.0, "Smallest drop across the cliff between the bands cliff_span_hz "
                            "below and above it.", above=0)
    cliff_span_hz: float = param(500.0, "Width of the bands compared on each side of a candidate cliff.",
                                 above=0)
    active_percentile: float = param(50.0, "Frames louder than this percentile of all frame levels "
                                     "count as 'with signal'.", unit="%", at_least=0, below=100)
    min_active_frames: int = param(4, "A window needs this many frames with signal to be judged.",
                                   at_least=1)
    context_windows: int = param(4, "Windows each side of a boundary whose median band limits are "
                                 "compared.", at_least=1)
    min_change_hz: float = param(1000.0, "Smallest change of band limit flagged.", above=0)
    min_change_fraction: float = param(
        0.2, "... and smallest change as a fraction of the higher of the two limits (a lossy codec's "
        "own low-pass moves by a few per cent from frame to frame).", at_least=0, below=1)
    hole_db: float = param(40.0, "A spectrogram cell this far below its frame's median in the upper "
                           "band counts as a hole.", above=0)
    lossy_hole_fraction: float = param(0.1, "Fraction of holes in the upper band above which the "
                                       "spectrum carries a lossy codec's signature.", above=0, below=1)

    def run(self, clip: Clip) -> Result:
        spec = clip.spectrogram
        nyquist = clip.sample_rate_hz / 2
        active = self._active_frames(spec)
        if active.sum() < self.min_active_frames:
            return Result.skipped("too few frames with signal to judge a band limit")
        overall = self._overall(spec, active, nyquist)
        cutoff = overall if overall is not None else nyquist
        holes = self._hole_fraction(spec.db_columns(_spread(active)), spec.freqs_hz, cutoff)
        original_rate = apparent_original_rate(overall, clip.sample_rate_hz)
        # Encoders low-pass at 11-20 kHz, where halves of 22.05, 24 and 32 kHz also fall: a cliff
        # there is read as lossy history (and, with the rate, as possible upsampling); only a cliff
        # at half of 16 kHz or less is taken as upsampling alone.
        lossy = bool(holes >= self.lossy_hole_fraction or (
            overall is not None and (original_rate is None or original_rate > 16000)))
        times, track = self._track(spec, active, nyquist, overall)
        findings = self._changes(spec, active, track)
        measurements = {
            "effective_bandwidth_hz": cutoff,
            "band_limited": overall is not None,
            "nyquist_hz": nyquist,
            "lossy_history": lossy,
            "lossy_cutoff_hz": overall if lossy else None,
            "spectral_hole_fraction": holes,
            "apparent_original_rate_hz": original_rate,
            "band_limit_min_hz": float(np.nanmin(track)) if np.isfinite(track).any() else None,
            "band_limit_max_hz": float(np.nanmax(track)) if np.isfinite(track).any() else None,
        }
        if lossy:
            findings.append(Finding(
                kind="lossy_history", start_s=0.0, end_s=clip.duration_s, strength=0.6, flagged=False,
                summary=(f"The spectrum carries a lossy codec's signature (band limit {cutoff:.0f} Hz, "
                         f"{holes:.0%} spectral holes in the upper band) whatever the container says."),
            ))
        if original_rate:
            findings.append(Finding(
                kind="upsampled", start_s=0.0, end_s=clip.duration_s, strength=0.6, flagged=False,
                summary=(f"Content stops at {cutoff:.0f} Hz, half of {original_rate} Hz: the audio "
                         f"was sampled at {original_rate} Hz or less before it was stored at "
                         f"{clip.sample_rate_hz} Hz."),
            ))
        figure = self._figure(clip, times, track, cutoff, findings)
        return Result(
            measurements=measurements, findings=findings, figures=[figure],
            parameters=spec.parameters(),
            tracks=[Track("band limit (kHz)", times, track / 1000.0)],
        )

    def measured_limit_hz(self, clip: Clip) -> float | None:
        """The clip's overall effective band limit (Hz; Nyquist when the band is full), or None
        when too few frames have signal to judge it. This is ``effective_bandwidth_hz``."""
        spec = clip.spectrogram
        active = self._active_frames(spec)
        if active.sum() < self.min_active_frames:
            return None
        overall = self._overall(spec, active, clip.sample_rate_hz / 2)
        return overall if overall is not None else clip.sample_rate_hz / 2

    def _overall(self, spec: Spectrogram, active: np.ndarray, nyquist: float) -> float | None:
        """The band limit of the mean spectrum of the frames with signal, or None (band full)."""
        background = np.percentile(spec.db_columns(_spread(spec.frame_power > 0)), 10, axis=1)
        return self._limit(spec.mean_power_db(np.flatnonzero(active)), spec.freqs_hz, nyquist,
                           background_db=background)

    def _active_frames(self, spec: Spectrogram) -> np.ndarray:
        level = 10 * np.log10(spec.frame_power + 1e-30)
        return (level > np.percentile(level, self.active_percentile)) & (level > -250)

    def _track(self, spec: Spectrogram, active, nyquist, overall) -> tuple[np.ndarray, np.ndarray]:
        per_window = self._frames_per_window(spec)
        n = spec.n_frames // per_window
        times = (np.arange(n) + 0.5) * per_window * spec.hop_length / spec.sample_rate_hz
        audible = spec.frame_power > 0
        floor = np.percentile(spec.db_columns(_spread(audible)), 50, axis=1) if audible.any() else None
        track = np.full(n, np.nan)
        for w in range(n):
            cols = w * per_window + np.flatnonzero(active[w * per_window : (w + 1) * per_window])
            if cols.size < self.min_active_frames:
                continue
            spectrum = spec.mean_power_db(cols)
            limit = self._limit(spectrum, spec.freqs_hz, nyquist, floor_db=floor)
            if limit is None and overall is not None:
                # In a band-limited clip the background is empty above the limit too, so a
                # window's cliff near the clip's limit is judged without it; any other cliff
                # (a gap between formants) leaves the window unjudged.
                near = self._limit(spectrum, spec.freqs_hz, nyquist)
                close = near is not None and abs(near - overall) <= 0.25 * overall
                track[w] = near if close else np.nan
            else:
                track[w] = limit if limit is not None else nyquist
        return times, track

    def _frames_per_window(self, spec: Spectrogram) -> int:
        return max(1, int(round(self.window_s * spec.sample_rate_hz / spec.hop_length)))

    def _limit(self, spectrum_db: np.ndarray, freqs_hz: np.ndarray, nyquist: float,
               floor_db: np.ndarray | None = None, background_db: np.ndarray | None = None) -> float | None:
        """The band limit, or None when the band is full (a cliff in the top 5 % is the
        converter's own anti-aliasing filter)."""
        limit = band_limit(spectrum_db, freqs_hz, cliff_db=self.cliff_db, span_hz=self.cliff_span_hz,
                           floor_db=floor_db, background_db=background_db)
        return limit if limit is not None and limit < 0.95 * nyquist else None

    def _changes(self, spec: Spectrogram, active, track) -> list[Finding]:
        """Steps of the band-limit track, each placed at frame resolution by :meth:`_place`."""
        per_window = self._frames_per_window(spec)
        findings = []
        for step in find_steps(track, context=self.context_windows, threshold=self.min_change_hz):
            if abs(step.size) < self.min_change_fraction * max(step.before, step.after):
                continue
            at_s = self._place(spec, active, step, per_window)
            findings.append(Finding(
                kind="bandwidth_change", start_s=at_s, end_s=at_s,
                strength=min(1.0, abs(step.size) / 8000.0), flagged=True,
                summary=(f"The band limit changes from {step.before:.0f} Hz to {step.after:.0f} Hz "
                         f"near {mmss(at_s)}."),
                details={"before_hz": step.before, "after_hz": step.after},
            ))
        return findings

    def _place(self, spec: Spectrogram, active, step, per_window: int) -> float:
        """Time (s) of a band-limit step at frame resolution: the best two-piece split of the
        frames' level just above the lower limit relative to just below it."""
        frame_s = spec.hop_length / spec.sample_rate_hz
        first = max(0, (step.index - self.context_windows) * per_window)
        last = min(spec.n_frames, (step.index + self.context_windows) * per_window)
        cols = np.arange(first, last)[active[first:last]]
        lower = min(step.before, step.after)
        below = (spec.freqs_hz >= lower - self.cliff_span_hz) & (spec.freqs_hz < lower - 100)
        above = (spec.freqs_hz > lower + 100) & (spec.freqs_hz <= lower + 4 * self.cliff_span_hz)
        if cols.size < 2 or not below.any() or not above.any():
            return step.index * per_window * frame_s
        db = spec.db_columns(cols)
        contrast = db[above].mean(axis=0) - db[below].mean(axis=0)
        split = best_split(contrast)
        return float((cols[split - 1] + cols[split]) / 2 * frame_s)

    def _hole_fraction(self, db: np.ndarray, freqs: np.ndarray, cutoff_hz: float) -> float:
        """Share of cells in the upper band (from a third of the band limit up to it) that lie
        more than ``hole_db`` below their frame's median there."""
        band = (freqs >= cutoff_hz / 3) & (freqs < cutoff_hz * 0.97)
        if band.sum() < 8:
            return 0.0
        cells = db[band]
        return float(np.mean(cells < np.median(cells, axis=0) - self.hole_db))

    def _figure(self, clip: Clip, times, track, cutoff, findings) -> FigureOut:
        fig, (ax_spec, ax_track) = new_figure(height_in=5.0, nrows=2, height_ratios=[2, 1])
        image = draw_spectrogram(ax_spec, clip.spectrogram, duration_s=clip.duration_s)
        ax_spec.axhline(cutoff / 1000, color="#2ca02c", linewidth=1.0, linestyle="--")
        ax_spec.set_title(f"Spectrogram; dashed: overall band limit {cutoff / 1000:.2f} kHz", loc="left")
        add_colorbar(fig, image, [ax_spec, ax_track])
        ax_track.plot(times, track / 1000, color="#1f4e79", marker=".", markersize=3, linewidth=1.0)
        ax_track.set_ylim(0, clip.sample_rate_hz / 2000 * 1.05)
        ax_track.set_ylabel("band limit (kHz)")
        ax_track.set_title(f"Band limit per {self.window_s:g} s window (gaps: no signal); red: flagged changes", loc="left")
        ax_track.grid(True, alpha=0.3)
        shade_findings(ax_track, [f for f in findings if f.flagged], min_width_s=clip.duration_s / 300)
        format_time_axis(ax_track, clip.duration_s)
        ax_spec.set_xlabel("")
        return FigureOut("bandwidth", fig, "Spectrogram with the overall band limit, and the band limit over time.")


def _spread(mask: np.ndarray, most: int = 4000) -> np.ndarray:
    """Indices of the True frames of ``mask``, thinned evenly to at most ``most`` (percentiles
    of a background do not need every frame of a long recording)."""
    index = np.flatnonzero(mask)
    return index[:: max(1, index.size // most)]


def band_limit(
    spectrum_db: np.ndarray, freqs_hz: np.ndarray, *, cliff_db: float, span_hz: float,
    floor_db: np.ndarray | None = None, floor_margin_db: float = 10.0,
    background_db: np.ndarray | None = None,
) -> float | None:
    """The frequency of the steepest cliff above which the spectrum stays low, or None.

    A candidate bin ``i`` qualifies when the mean level over ``span_hz`` below it exceeds the mean
    over ``span_hz`` above it by ``cliff_db`` and nothing above it rises to within ``cliff_db / 2``
    of the level below. With ``floor_db`` (the clip's own background spectrum), the band above must
    also lie ``floor_margin_db`` below that background: empty, not merely quiet, which tells a
    band limit from the gap above a vowel's formants. With ``background_db`` (the spectrum of the
    clip's quietest frames), the background must drop across the cliff too, unless it is empty
    there (below ``EMPTY_DB``): a recording's band limit cuts its room tone as well as its voice,
    where the end of the voice's own spectrum does not.
    """
    df = freqs_hz[1] - freqs_hz[0]
    gap = max(1, int(round(100.0 / df)))
    width = max(2, int(round(span_hz / df)))
    n = spectrum_db.size
    csum = np.concatenate(([0.0], np.cumsum(spectrum_db)))
    idx = np.arange(n)
    lo_a, lo_b = idx - gap - width, idx - gap
    hi_a, hi_b = idx + gap, np.minimum(idx + gap + width, n)
    valid = (lo_a >= 0) & (hi_b - hi_a >= 2)
    below = np.full(n, -np.inf)
    above = np.full(n, np.inf)
    below[valid] = (csum[lo_b[valid]] - csum[lo_a[valid]]) / width
    above[valid] = (csum[hi_b[valid]] - csum[hi_a[valid]]) / (hi_b[valid] - hi_a[valid])
    peak_above = np.full(n, np.inf)
    tail_max = np.maximum.accumulate(spectrum_db[::-1])[::-1]  # max of spectrum from i upwards
    peak_above[valid] = tail_max[hi_a[valid]]
    drop = below - above
    ok = valid & (drop >= cliff_db) & (peak_above <= below - cliff_db / 2)
    if background_db is not None:
        bsum = np.concatenate(([0.0], np.cumsum(background_db)))
        bg_below = np.full(n, -np.inf)
        bg_above = np.full(n, np.inf)
        bg_below[valid] = (bsum[lo_b[valid]] - bsum[lo_a[valid]]) / width
        bg_above[valid] = (bsum[hi_b[valid]] - bsum[hi_a[valid]]) / (hi_b[valid] - hi_a[valid])
        ok &= (bg_below - bg_above >= cliff_db / 2) | (bg_below < EMPTY_DB)
    if floor_db is not None:
        fsum = np.concatenate(([0.0], np.cumsum(floor_db)))
        floor_above = np.full(n, -np.inf)
        floor_above[valid] = (fsum[hi_b[valid]] - fsum[hi_a[valid]]) / (hi_b[valid] - hi_a[valid])
        ok &= above <= floor_above - floor_margin_db
    if not ok.any():
        return None
    # The band ends where its cliff starts: the lowest qualifying bin of the steepest cliff's run.
    best = int(np.argmax(np.where(ok, drop, -np.inf)))
    start = best
    while start > 0 and ok[start - 1]:
        start -= 1
    return float(freqs_hz[start])


def apparent_original_rate(cutoff_hz: float | None, sample_rate_hz: int) -> int | None:
    """The lower standard rate whose half the content stops at (resampler cut: 88-101 %), or None."""
    if cutoff_hz is None:
        return None
    for rate in STANDARD_RATES_HZ:
        if rate < sample_rate_hz and 0.88 * rate / 2 <= cutoff_hz <= rate / 2 * 1.01:
            return rate
    return None
