"""``voice``: Praat voice measures (F0, jitter, shimmer, HNR, formants), pauses, a speech-rate
proxy and the long-term average spectrum, computed at a speech rate.

Praat is reached through praat-parselmouth, so the numbers are Praat's own algorithms (Boersma
1993 pitch; Burg formants); which command and settings produced each one is stated in
:attr:`Voice.measures` and recorded in the report's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from workbench.analyses.common.comparable import Curve, Numeric
from workbench.analyses.common.resample import content_limit_hz, mono_pieces
from workbench.analyses.common.runs import true_runs
from workbench.core.analysis import Analysis, FigureOut, Result, Track, param, require
from workbench.core.clip import Clip
from workbench.core.plotting import (
    FIGURE_WIDTH_IN, SCREEN_DPI, draw_spectrogram, format_time_axis, new_figure, plain_log_axis,
)
from workbench.core.spectrogram import Spectrogram

ANALYSIS_RATE_HZ = 16000
PIECE_S = 60.0
"""Praat works on pieces of this length (s), so a long recording is never held whole (5-minute
pieces cost 0.4 GB of resampling and Praat buffers)."""
F0_HISTOGRAM_EDGES_HZ = 50.0 * 2.0 ** (np.arange(49) / 12.0)
"""One-semitone bins from 50 to 800 Hz: fixed, so histograms of different clips line up."""
LTAS_CENTRES_HZ = 1000.0 * 2.0 ** (np.arange(-13, 14) / 3.0)
"""Third-octave band centres from 50 Hz to 20 kHz (base-2 series, ANSI S1.11)."""
# Praat's standard settings for period-based measures (its Voice report): shortest and longest
# period (s), maximum period factor, maximum amplitude factor.
PERIOD_ARGS = (0.0001, 0.02, 1.3)
AMPLITUDE_FACTOR = 1.6
FORMANT_STEP_S = 0.04
"""Formant frames every 40 ms: medians over thousands of voiced frames need no finer step, and
Burg's analysis is the costliest Praat step here (3.7 s per 10 minutes at 20 ms)."""
PLOT_POINTS = 20000
"""At most this many points of a track are drawn (a dot cloud denser than the pixels adds nothing)."""


@dataclass
class _Tracks:
    """Frame tracks gathered piece by piece, on the clip's time axis."""

    f0_times: list = field(default_factory=list)
    f0_hz: list = field(default_factory=list)
    strength: list = field(default_factory=list)
    formant_times: list = field(default_factory=list)
    formants_hz: list = field(default_factory=list)
    intensity_times: list = field(default_factory=list)
    intensity_db: list = field(default_factory=list)
    periods: list = field(default_factory=list)
    jitter: list = field(default_factory=list)
    shimmer: list = field(default_factory=list)

    def joined(self, name: str, axis: int = 0) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts, axis=axis) if parts else np.zeros(0)


class Voice(Analysis):
    """Voice measures through Praat at 16 kHz, with a pitch range adapted to the speaker."""

    name = "voice"
    version = "1.1"
    heavy = True
    min_sample_rate_hz = 8000  # the telephone band: formants and pitch need 300-3400 Hz
    description = "Praat voice measures: F0, jitter, shimmer, HNR, formants, pauses, LTAS."
    measures = (
        "The mono mix resampled to 16 kHz (up from a lower rate: an 8 kHz call keeps its 4 kHz "
        "band), in 1-minute pieces. F0: Praat To Pitch (ac) 60-600 Hz "
        "for the speaker's range, then To Pitch (cc) between 0.75 x its 25th and 1.5 x its 75th "
        "percentile (10 ms steps); median, 5th-95th percentile, spread (SD) and range in "
        "semitones over voiced frames. Jitter (local, rap, ppq5) and shimmer (local, apq3, apq5, "
        "apq11): Praat's PointProcess (cc) with its standard settings (periods 0.1-20 ms, period "
        "factor 1.3, amplitude factor 1.6), averaged over pieces weighted by periods. Praat's "
        "shimmer is computed on its own period marks and is not MDVP's; its jitter is close to but "
        "not identical with MDVP's Jitt. HNR: 10 log10(r / (1 - r)) of the cross-correlation "
        "strength r of voiced pitch frames, the relation Praat's Harmonicity uses, averaged over "
        "voiced frames. Formants F1-F3: To Formant (burg) every 40 ms, 5 formants below 5000 Hz (5500 Hz when "
        "the median F0 is above 165 Hz); a clip whose band ends lower (an 8 kHz call: 4000 Hz) "
        "is searched below its band's end with as many formants per kHz (4 below 4000 Hz); "
        "medians in voiced frames. Pauses: To Intensity, silent "
        "stretches between sounding ones; speech-rate proxy: voiced segments per second of "
        "sounding time. LTAS: mean power of sounding frames of the shared spectrogram in "
        "third-octave bands, relative to the total."
    )
    cannot_show = (
        "Voice measures vary with the speaker's health, effort, emotion and speaking style, with "
        "the microphone, room, distance and codec, and with the language spoken; differences from "
        "other recordings do not show a different speaker or synthetic speech, and similarity "
        "does not show the same speaker. Jitter, shimmer and HNR are reliable only on sustained, "
        "clean, uncompressed voicing; in running speech through a codec they are rough. The "
        "speech-rate proxy counts voiced stretches, not syllables."
    )
    measurement_keys = (
        "f0_histogram", "f0_histogram_edges_hz", "f0_mean_hz", "f0_median_hz", "f0_p5_hz",
        "f0_p95_hz", "f0_range_st", "f0_sd_st", "f1_median_hz", "f2_median_hz", "f3_median_hz",
        "hnr_db", "jitter_local_pct", "jitter_ppq5_pct", "jitter_rap_pct", "ltas_band_hz",
        "ltas_db", "pause_count", "pause_median_s", "pause_p90_s", "pauses_per_min",
        "shimmer_apq11_pct", "shimmer_apq3_pct", "shimmer_apq5_pct", "shimmer_local_pct",
        "sounding_s", "voiced_fraction", "voiced_s", "voiced_segments_per_s",
    )

    comparable = (
        Numeric("f0_median_hz", "F0 median", "Hz", 0.12, relative=True),
        Numeric("f0_sd_st", "F0 spread (SD)", "semitones", 1.0),
        Numeric("f0_range_st", "F0 range (5th-95th percentile)", "semitones", 2.0),
        Numeric("jitter_local_pct", "Jitter (local)", "%", 0.5),
        Numeric("jitter_ppq5_pct", "Jitter (ppq5)", "%", 0.3),
        Numeric("shimmer_local_pct", "Shimmer (local)", "%", 2.0),
        Numeric("shimmer_apq11_pct", "Shimmer (apq11)", "%", 2.0),
        Numeric("hnr_db", "HNR", "dB", 3.0),
        Numeric("f1_median_hz", "F1 median", "Hz", 0.10, relative=True),
        Numeric("f2_median_hz", "F2 median", "Hz", 0.10, relative=True),
        Numeric("f3_median_hz", "F3 median", "Hz", 0.10, relative=True),
        Numeric("voiced_fraction", "Voiced fraction", "of the clip", 0.15),
        Numeric("pause_median_s", "Pause length (median)", "s", 0.2),
        Numeric("voiced_segments_per_s", "Speech-rate proxy", "voiced segments/s", 0.5),
        Curve("f0_histogram_edges_hz", "f0_histogram", "F0 distributions", "F0 (Hz)", "% of voiced frames",
              ticks=(50, 100, 200, 400, 800), histogram=True),
        Curve("ltas_band_hz", "ltas_db", "Long-term average spectra (sounding frames)",
              "third-octave band centre (Hz)", "dB re loudest band", distance="ltas",
              label="LTAS difference from the references (RMS over bands)", tolerance_db=2.0,
              limit=("bandwidth", "effective_bandwidth_hz")),
    )

    pitch_floor_hz: float = param(60.0, "Bottom of the first, speaker-independent pitch pass. The "
                                  "second pass uses 0.75 x the 25th and 1.5 x the 75th percentile "
                                  "of the first (Hirst 2011), kept inside the first's range.", above=0)
    pitch_ceiling_hz: float = param(600.0, "Top of the first pitch pass.", above=0, at_most=1000)
    silence_below_db: float = param(25.0, "Intensity frames more than this far below the loud level "
                                    "(99th percentile) are silent.", above=0)
    min_pause_s: float = param(0.25, "Silent stretches between sounding ones at least this long count "
                               "as pauses.", above=0)
    min_voiced_s: float = param(1.0, "Less voiced speech than this and the measures are not computed.",
                                above=0)

    def check(self) -> None:
        require(self.pitch_floor_hz < self.pitch_ceiling_hz,
                "voice.pitch_floor_hz and pitch_ceiling_hz must satisfy 0 < floor < ceiling <= 1000")

    def run(self, clip: Clip) -> Result:
        try:
            import parselmouth
        except ImportError:
            return Result.skipped("praat-parselmouth is not installed: pip install praat-parselmouth")
        floor_hz, ceiling_hz, first_median_hz = self._speaker_range(clip, parselmouth)
        if floor_hz is None:
            return Result.skipped(f"fewer than {self.min_voiced_s:g} s of voiced speech were found "
                                  "(Praat pitch, 60-600 Hz): no voice measures")
        max_formant, n_formants = formant_ceiling(5500.0 if first_median_hz > 165 else 5000.0,
                                                  content_limit_hz(clip, ANALYSIS_RATE_HZ))
        tracks = self._measure(clip, parselmouth, floor_hz, ceiling_hz, max_formant, n_formants)
        f0 = tracks.joined("f0_hz")
        voiced = f0 > 0
        measurements = self._f0_measures(f0[voiced], clip.duration_s)
        measurements |= _period_measures(tracks)
        measurements["hnr_db"] = _hnr_db(tracks.joined("strength")[voiced])
        times = tracks.joined("f0_times")
        formants = _voiced_formants(tracks, times[voiced])
        measurements |= {f"f{k}_median_hz": _nanmedian(formants[k - 1]) for k in (1, 2, 3)}
        pauses, sounding_s = self._pauses(tracks)
        measurements |= _pause_measures(pauses, sounding_s, clip.duration_s)
        segments = _voiced_segments(voiced)
        measurements["voiced_segments_per_s"] = segments / sounding_s if sounding_s > 0 else None
        band_hz, ltas = ltas_bands(clip.spectrogram)
        measurements["ltas_band_hz"], measurements["ltas_db"] = band_hz, ltas
        histogram, _ = np.histogram(f0[voiced], bins=F0_HISTOGRAM_EDGES_HZ)
        measurements["f0_histogram_edges_hz"] = F0_HISTOGRAM_EDGES_HZ
        measurements["f0_histogram"] = histogram / max(1, histogram.sum())
        figures = [
            self._pitch_figure(clip, times, f0, ceiling_hz),
            self._distributions_figure(f0[voiced], formants, pauses),
        ]
        return Result(
            measurements=measurements,
            figures=figures,
            parameters={
                "analysis_rate_hz": ANALYSIS_RATE_HZ,
                "pitch_floor_hz_used": round(float(floor_hz), 1),
                "pitch_ceiling_hz_used": round(float(ceiling_hz), 1),
                "max_formant_hz": max_formant,
                "formants_searched": n_formants,
                "praat_version": parselmouth.PRAAT_VERSION,
                "parselmouth_version": parselmouth.VERSION,
            },
            tracks=[Track("F0 (Hz)", *_median_track(times, np.where(voiced, f0, np.nan), 0.5))],
        )

    def _speaker_range(self, clip: Clip, parselmouth) -> tuple[float | None, float | None, float | None]:
        """Adapted (floor, ceiling) and the median F0, in Hz, from a first pitch pass, or
        (None, None, None) with too little voicing."""
        values = []
        for _, y in mono_pieces(clip, ANALYSIS_RATE_HZ, piece_s=PIECE_S):
            if y.size < ANALYSIS_RATE_HZ * 0.1:
                continue
            pitch = parselmouth.Sound(y, ANALYSIS_RATE_HZ).to_pitch_ac(
                time_step=0.02, pitch_floor=self.pitch_floor_hz, pitch_ceiling=self.pitch_ceiling_hz)
            f0 = pitch.selected_array["frequency"]
            values.append(f0[f0 > 0])
        voiced = np.concatenate(values) if values else np.zeros(0)
        if voiced.size * 0.02 < self.min_voiced_s:
            return None, None, None
        q25, q75 = np.percentile(voiced, [25, 75])
        floor_hz = max(self.pitch_floor_hz, 0.75 * q25)
        ceiling_hz = min(self.pitch_ceiling_hz, 1.5 * q75)
        return floor_hz, max(ceiling_hz, floor_hz * 2), float(np.median(voiced))

    def _measure(self, clip: Clip, parselmouth, floor_hz: float, ceiling_hz: float,
                 max_formant_hz: float, n_formants: float) -> _Tracks:
        """The second, speaker-adapted pass: Praat's tracks and period measures per piece."""
        from parselmouth.praat import call

        tracks = _Tracks()
        for start_s, y in mono_pieces(clip, ANALYSIS_RATE_HZ, piece_s=PIECE_S):
            if y.size < 3 * ANALYSIS_RATE_HZ / floor_hz:
                continue
            sound = parselmouth.Sound(y, ANALYSIS_RATE_HZ)
            pitch = sound.to_pitch_cc(time_step=0.01, pitch_floor=floor_hz, pitch_ceiling=ceiling_hz)
            frames = pitch.selected_array
            tracks.f0_times.append(pitch.xs() + start_s)
            tracks.f0_hz.append(frames["frequency"])
            tracks.strength.append(frames["strength"])
            formant = sound.to_formant_burg(time_step=FORMANT_STEP_S, max_number_of_formants=n_formants,
                                            maximum_formant=max_formant_hz)
            formant_times = formant.xs()
            tracks.formant_times.append(formant_times + start_s)
            tracks.formants_hz.append(np.array(
                [[formant.get_value_at_time(k, t) for t in formant_times] for k in (1, 2, 3)]))
            intensity = sound.to_intensity(minimum_pitch=floor_hz, time_step=0.01)
            tracks.intensity_times.append(intensity.xs() + start_s)
            tracks.intensity_db.append(intensity.values[0])
            points = call([sound, pitch], "To PointProcess (cc)")
            periods = call(points, "Get number of periods", 0, 0, *PERIOD_ARGS)
            tracks.periods.append(periods)
            tracks.jitter.append([call(points, f"Get jitter ({kind})", 0, 0, *PERIOD_ARGS)
                                  for kind in ("local", "rap", "ppq5")])
            tracks.shimmer.append([
                call([sound, points], f"Get shimmer ({kind})", 0, 0, *PERIOD_ARGS, AMPLITUDE_FACTOR)
                for kind in ("local", "apq3", "apq5", "apq11")])
        return tracks

    def _f0_measures(self, f0: np.ndarray, duration_s: float) -> dict[str, float]:
        median = float(np.median(f0))
        semitones = 12.0 * np.log2(f0 / median)
        p5, p95 = np.percentile(f0, [5, 95])
        return {
            "voiced_s": f0.size * 0.01,
            "voiced_fraction": f0.size * 0.01 / duration_s,
            "f0_median_hz": median,
            "f0_mean_hz": float(np.mean(f0)),
            "f0_p5_hz": float(p5),
            "f0_p95_hz": float(p95),
            "f0_sd_st": float(np.std(semitones)),
            "f0_range_st": float(12.0 * np.log2(p95 / p5)),
        }

    def _pauses(self, tracks: _Tracks) -> tuple[np.ndarray, float]:
        """Pause lengths (s) between sounding stretches, and the total sounding time (s)."""
        level = tracks.joined("intensity_db")
        if level.size == 0:
            return np.zeros(0), 0.0
        sounding = level >= np.percentile(level, 99) - self.silence_below_db
        starts, stops = true_runs(~sounding)
        inner = (starts > 0) & (stops < level.size)
        lengths = (stops - starts)[inner] * 0.01
        sound_idx = np.flatnonzero(sounding)
        span = (sound_idx[-1] - sound_idx[0] + 1) * 0.01 if sound_idx.size else 0.0
        pauses = lengths[lengths >= self.min_pause_s]
        return pauses, float(span - pauses.sum())

    def _pitch_figure(self, clip: Clip, times: np.ndarray, f0: np.ndarray, ceiling_hz: float) -> FigureOut:
        fig, (ax,) = new_figure(height_in=3.4)
        draw_spectrogram(ax, clip.spectrogram, duration_s=clip.duration_s, dynamic_range_db=80.0, top_hz=5000.0)
        ax.set_ylabel("frequency (kHz)")
        pitch_ax = ax.twinx()
        voiced = f0 > 0
        step = max(1, int(np.count_nonzero(voiced) // PLOT_POINTS))
        pitch_ax.plot(times[voiced][::step], f0[voiced][::step], ".", color="#00e5ff",
                      markersize=1.5, label="F0 (Praat, cc)")
        pitch_ax.set_ylim(0, ceiling_hz * 1.1)
        pitch_ax.set_ylabel("F0 (Hz), cyan dots")
        ax.set_title("Pitch contour (cyan, right axis) over the spectrogram up to 5 kHz", loc="left")
        format_time_axis(ax, clip.duration_s)
        return FigureOut("pitch", fig, "F0 of voiced frames (Praat, cross-correlation, speaker-"
                         "adapted range) over the spectrogram of the mono mix, 0-5 kHz.")

    def _distributions_figure(self, f0: np.ndarray, formants: np.ndarray, pauses: np.ndarray) -> FigureOut:
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 3.2), dpi=SCREEN_DPI, layout="constrained")
        ax_f0, ax_vowel, ax_pause = fig.subplots(1, 3)
        histogram, _ = np.histogram(f0, bins=F0_HISTOGRAM_EDGES_HZ)
        ax_f0.stairs(100 * histogram / max(1, histogram.sum()), F0_HISTOGRAM_EDGES_HZ,
                     fill=True, color="#1f4e79", alpha=0.8)
        ax_f0.set_xscale("log")
        plain_log_axis(ax_f0.xaxis, ticks=(50, 100, 200, 400, 800))
        ax_f0.set_xlabel("F0 (Hz, 1-semitone bins)")
        ax_f0.set_ylabel("% of voiced frames")
        ax_f0.set_title("F0 distribution", loc="left")
        if formants.size:
            f1, f2 = formants[0], formants[1]
            step = max(1, f1.size // PLOT_POINTS)
            ax_vowel.plot(f2[::step], f1[::step], ".", color="#1f4e79", markersize=1.5, alpha=0.4)
        ax_vowel.set_xlabel("F2 (Hz)")
        ax_vowel.set_ylabel("F1 (Hz)")
        ax_vowel.set_title("F1 against F2, voiced frames", loc="left")
        ax_vowel.grid(True, alpha=0.3)
        if pauses.size:
            ax_pause.hist(pauses, bins=np.arange(0, max(2.0, pauses.max()) + 0.1, 0.1), color="#1f4e79")
        ax_pause.set_xlabel(f"pause length (s), pauses of {self.min_pause_s:g} s or more")
        ax_pause.set_ylabel("count")
        ax_pause.set_title(f"{pauses.size} pauses", loc="left")
        return FigureOut("distributions", fig, "Distributions: F0 over voiced frames, F1 against "
                         "F2 (the vowel space), and the lengths of pauses.")


def formant_ceiling(max_formant_hz: float, content_limit_hz: float) -> tuple[float, float]:
    """Praat's formant ceiling (Hz) and number of formants for a recording whose content stops
    at ``content_limit_hz``.

    Burg's method looks for its formants below the ceiling; in an 8 kHz call nothing lies above
    4 kHz, so the five formants sought below 5 kHz crowd into the band and F3 falls by a tenth.
    The ceiling is lowered to the content limit with the density of formants kept (one per
    1000 Hz for a 5000 Hz ceiling), in Praat's half steps, at least 3.
    """
    if content_limit_hz >= max_formant_hz:
        return max_formant_hz, 5.0
    count = max(3.0, round(10.0 * content_limit_hz / max_formant_hz) / 2)
    return float(content_limit_hz), count


def _period_measures(tracks: _Tracks) -> dict[str, float | None]:
    """Jitter and shimmer in per cent: each piece's value weighted by its number of periods."""
    periods = np.asarray(tracks.periods, dtype=float)
    out: dict[str, float | None] = {}
    for label, values, kinds in (("jitter", tracks.jitter, ("local", "rap", "ppq5")),
                                 ("shimmer", tracks.shimmer, ("local", "apq3", "apq5", "apq11"))):
        table = np.asarray(values, dtype=float).reshape(len(periods), len(kinds))
        for column, kind in enumerate(kinds):
            valid = np.isfinite(table[:, column]) & (periods > 0)
            out[f"{label}_{kind}_pct"] = (
                float(100 * np.average(table[valid, column], weights=periods[valid])) if valid.any() else None)
    return out


def _voiced_formants(tracks: _Tracks, voiced_times: np.ndarray) -> np.ndarray:
    """F1-F3 (Hz, shape (3, n)) of the formant frames with a voiced pitch frame within 10 ms."""
    formants = tracks.joined("formants_hz", axis=1).reshape(3, -1)
    times = tracks.joined("formant_times")
    if voiced_times.size == 0 or times.size == 0:
        return np.zeros((3, 0))
    after = np.searchsorted(voiced_times, times).clip(0, voiced_times.size - 1)
    before = (after - 1).clip(0)
    gap = np.minimum(np.abs(voiced_times[after] - times), np.abs(voiced_times[before] - times))
    return formants[:, gap <= 0.01]


def _hnr_db(strength: np.ndarray) -> float | None:
    if strength.size == 0:
        return None
    r = np.clip(strength, 1e-6, 1 - 1e-6)
    return float(np.mean(10.0 * np.log10(r / (1.0 - r))))


def _pause_measures(pauses: np.ndarray, sounding_s: float, duration_s: float) -> dict[str, float | int | None]:
    return {
        "pause_count": int(pauses.size),
        "pauses_per_min": pauses.size / (duration_s / 60.0),
        "pause_median_s": float(np.median(pauses)) if pauses.size else None,
        "pause_p90_s": float(np.percentile(pauses, 90)) if pauses.size else None,
        "sounding_s": sounding_s,
    }


def _voiced_segments(voiced: np.ndarray, min_frames: int = 3) -> int:
    """Stretches of at least ``min_frames`` consecutive voiced 10-ms frames."""
    starts, stops = true_runs(voiced)
    return int(np.count_nonzero(stops - starts >= min_frames))


def ltas_bands(spec: Spectrogram, *, below_db: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Long-term average spectrum of the sounding frames in third-octave bands.

    Frames whose power lies within ``below_db`` dB of the 95th percentile frame count as
    sounding. Returns the band centres (Hz) that fit below Nyquist and each band's power in dB
    relative to the total power of those bands, so the curve does not depend on level.
    """
    level = 10 * np.log10(spec.frame_power + 1e-30)
    columns = np.flatnonzero(level >= np.percentile(level, 95) - below_db)
    per_bin = 10.0 ** (spec.mean_power_db(columns) / 10.0)
    centres = LTAS_CENTRES_HZ[LTAS_CENTRES_HZ * 2 ** (1 / 6) <= spec.freqs_hz[-1]]
    # Power per band = mean power density of its bins x its width; a low band narrower than the
    # FFT's bin spacing takes the density at its centre.
    density = np.array([
        per_bin[inside].mean() if (inside := (spec.freqs_hz >= c * 2 ** (-1 / 6)) & (spec.freqs_hz < c * 2 ** (1 / 6))).any()
        else np.interp(c, spec.freqs_hz, per_bin) for c in centres])
    bands = density * centres * (2 ** (1 / 6) - 2 ** (-1 / 6))
    return centres, 10 * np.log10(bands / max(bands.sum(), 1e-30) + 1e-30)


def _median_track(times: np.ndarray, values: np.ndarray, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``values`` (NaN-aware) in consecutive ``step_s`` windows, for the timeline."""
    if times.size == 0:
        return times, values
    bins = (times // step_s).astype(int)
    count = bins[-1] + 1
    out = np.full(count, np.nan)
    order = np.argsort(bins, kind="stable")
    edges = np.searchsorted(bins[order], np.arange(count + 1))
    for i in range(count):
        chunk = values[order[edges[i] : edges[i + 1]]]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size:
            out[i] = np.median(chunk)
    return (np.arange(count) + 0.5) * step_s, out


def _nanmedian(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else None
