"""``enf``: mains hum (electric network frequency): presence, trace, phase and its breaks."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from scipy import signal
from scipy.fft import next_fast_len

from workbench.analyses.common.comparable import Category, Numeric
from workbench.analyses.common.resample import content_limit_hz, mono_range, resampled_frames
from workbench.analyses.common.steps import strongest_apart
from workbench.core.analysis import Analysis, FigureOut, Finding, FindingKind, InputFile, Result, Track, param
from workbench.core.clip import Clip, Span, spans
from workbench.core.errors import ParameterError
from workbench.core.plotting import SMALL_PT, format_time_axis, mmss, new_figure, plot_gappy, shade_findings

ANALYSIS_RATE_HZ = 1000
PIECE_S = 160
"""The 1 kHz mix is walked in pieces of this length (s); a clip up to 1.5 times as long is one
piece. The longest read, a last piece of 1.5 times this with its margins, stays under 5 minutes."""
FILTER_MARGIN_S = 30
"""Context (s) read each side of a piece for the band-pass filters and the analytic signal to
settle: the narrowest band (+-0.25 Hz) decays by e^-40 in that time."""
WELCH_SEGMENT_S = 8
TRACE_BATCH_FRAMES = 64
TRACE_HOP_FACTOR = 5
"""The frequency trace steps this many phase hops (the phase test needs the finer step)."""
NOMINALS_HZ = (50.0, 60.0)
GRID_LOG_MAX_BYTES = 256 * 2**20
"""Largest grid log read (a year of 1-s rows is about 1 GB; a month fits)."""


class Enf(Analysis):
    """Mains hum and its frequency over time (electric network frequency, ENF).

    Presence: for 50 and 60 Hz and their harmonics, the Welch power in +-``peak_halfwidth_hz``
    around the harmonic against the median power 1.5-6 Hz either side (``enf_snr_db``). Trace:
    the hum is band-passed (+-1 Hz) around each harmonic with enough SNR; in frames of
    ``frame_s`` the spectral peak is found with a zero-padded FFT and quadratic interpolation,
    and the harmonics' frequencies (divided by their order) are averaged with SNR weights. Phase:
    the strongest harmonic's analytic phase (band-passed +-``phase_halfwidth_hz`` around it) minus
    a steady rotation at the trace's mean frequency; a cut or an
    insertion leaves a step in it. Lines fitted to the phase before and after each instant
    (``guard_s`` left out around it) are compared; a jump above ``min_phase_jump_rad`` is an
    ``enf_discontinuity``. Grid log: the trace slides over the log; the best offset, its
    significance and ``reference_match`` (:data:`MATCH_RULE`).
    """

    name = "enf"
    version = "1.6"
    description = "Mains hum (50/60 Hz) presence, frequency trace, phase breaks, grid-log matching."
    measures = (
        "Whether mains hum at 50 or 60 Hz (or harmonics) is present and how far it stands above "
        "its surroundings; its frequency over time (the electric network frequency, ENF) and its "
        "phase; places where the phase jumps (a cut or an insertion); with a grid-frequency log, "
        "the time offset at which the trace matches the log best."
    )
    cannot_show = (
        "Many recordings carry no hum (battery devices far from mains, noise suppression, lossy "
        "coding at low rates): then nothing can be said either way. A phase jump can also come "
        "from the recorder restarting, a dropout, or hum picked up from two sources. Matching "
        "a grid log needs minutes of clean hum; short clips match many offsets equally well. A "
        "recorder whose sample clock runs fast or slow shifts every frequency by the same share (100 ppm "
        "is 5 mHz at 50 Hz): the offset is still found, but the match rule's 5 mHz may then fail at the "
        "right place."
    )

    kinds = (FindingKind("enf_discontinuity", "phase jump / pi radians"),)
    measurement_keys = (
        "analysis_rate_hz", "enf_mean_hz", "enf_nominal_hz", "enf_snr_db", "enf_std_hz",
        "harmonic_limit_hz", "harmonic_snr_db", "harmonics_used", "phase_jumps",
        "reference_best_wrong_correlation", "reference_correlation", "reference_match",
        "reference_match_rule", "reference_note", "reference_offset_s", "reference_rms_hz",
        "reference_sha256", "reference_start_clock", "reference_wrong_offsets",
        "reference_z_vs_wrong_offsets", "summary", "trace_resolution",
    )

    comparable = (
        Numeric("enf_snr_db", "Mains hum SNR", "dB", 6.0),
        Category("enf_nominal_hz", "Mains hum (Hz)"),
    )

    min_snr_db: float = param(10.0, "Hum weaker than this above its neighbourhood counts as absent.")
    peak_halfwidth_hz: float = param(0.3, "Half-width of the band taken as the hum peak in the presence "
                                     "test.", above=0)
    harmonics: int = param(4, "Harmonics examined (1 is the fundamental).", at_least=1)
    frame_s: float = param(16.0, "Frame length of the frequency trace (a clip shorter than twice this "
                           "is traced in frames of half its length, at least 2 s). Chosen by measurement on "
                           "real grid variation (docs/validation.md, ENF): 16-s frames placed 91 % of 2-minute "
                           "excerpts with hum, 8-s frames 79 %.", above=0)
    hop_s: float = param(0.1, "Step of the phase test; the frequency trace steps TRACE_HOP_FACTOR "
                         "times as far.", above=0)
    fit_s: float = param(5.0, "Length of phase fitted on each side of an instant.", above=0)
    guard_s: float = param(1.2, "Phase left out on each side of an instant (the band-pass filter's "
                           "settling).", at_least=0)
    min_phase_jump_rad: float = param(0.8, "Smallest phase jump flagged, in the followed harmonic's own "
                                      "phase (a cut moves it by a random share of that harmonic's cycle).",
                                      above=0, below=float(np.pi), bound_text="in (0, pi)")
    noise_factor: float = param(12.0, "A jump must also be this many times the phase noise there: the "
                                "larger of the RMS deviation from the two fitted lines and the hum "
                                "amplitude's relative deviation.", above=0)
    reference: InputFile | None = param(
        None, "A grid-frequency log (CSV: time in seconds or ISO-8601 timestamps, frequency in Hz) to "
        "match the trace against, read and hashed by the workbench. The match states its "
        "correlation, how many standard deviations it stands above the correlations at wrong "
        "offsets, and the clock time of the clip's start when the log has timestamps; a log shorter "
        "than the clip, or a constant one, gives no offset and says why.", max_bytes=GRID_LOG_MAX_BYTES)
    phase_halfwidth_hz: float = param(
        0.25, "Half-width of the band-pass around the harmonic whose phase is followed, centred on the "
        "harmonic of the trace's mean frequency (narrower: less noise, slower settling, so guard_s "
        "must grow with it).", above=0, below=5)

    def check(self) -> None:
        self._grid = parse_grid_log(self.reference.data, self.reference.path) if self.reference else None

    def run(self, clip: Clip) -> Result:
        frames = resampled_frames(clip, ANALYSIS_RATE_HZ)
        if frames < 4 * ANALYSIS_RATE_HZ:
            return Result.skipped("shorter than 4 s: too short to measure mains hum")
        # An upsampled clip (a 400 Hz mains reference) has nothing above its own Nyquist
        # frequency; the resampler's transition band takes the top tenth below it.
        limit_hz = 0.9 * content_limit_hz(clip, ANALYSIS_RATE_HZ)
        if limit_hz < max(NOMINALS_HZ) + 6:
            return Result.skipped(f"sample rate {clip.sample_rate_hz:g} Hz: mains hum at 50 or 60 Hz "
                                  "lies above the highest frequency the recording can carry")
        spectrum = _welch(clip, frames)
        snrs = {nominal: self._harmonic_snrs(spectrum, nominal, limit_hz) for nominal in NOMINALS_HZ}
        best_nominal = max(NOMINALS_HZ, key=lambda n: max(snrs[n].values(), default=-np.inf))
        best_snr = max(snrs[best_nominal].values(), default=-np.inf)
        present = best_snr >= self.min_snr_db
        measurements = {
            "enf_nominal_hz": best_nominal if present else None,
            "enf_snr_db": float(best_snr),
            "harmonic_snr_db": {f"{n:g}": {str(k): float(v) for k, v in s.items()} for n, s in snrs.items()},
            "analysis_rate_hz": ANALYSIS_RATE_HZ,
            "harmonic_limit_hz": limit_hz,
        }
        if not present:
            measurements["summary"] = (f"no mains hum found: best {best_snr:.1f} dB above its "
                                       f"surroundings (threshold {self.min_snr_db:g} dB)")
            if self._grid is not None:
                measurements.update(GridMatch(self._grid, reason="no mains hum in the clip: nothing to match "
                                              "against the log").measurements())
            return Result(measurements=measurements, figures=[self._presence_figure(spectrum, None)])
        used = {k: v for k, v in snrs[best_nominal].items() if v >= self.min_snr_db}
        times, trace = self._trace(clip, frames, best_nominal, used)
        strongest = max(used, key=used.get)
        valid = np.isfinite(trace)
        mean_hz = float(np.mean(trace[valid])) if valid.any() else None
        phase_times, phase, amplitude = self._phase(clip, frames, best_nominal if mean_hz is None else mean_hz,
                                                    strongest)
        findings = self._phase_jumps(phase_times, phase, amplitude, strongest, best_nominal)
        measurements.update({
            "harmonics_used": sorted(used),
            "enf_mean_hz": mean_hz,
            "enf_std_hz": float(np.std(trace[valid])) if valid.any() else None,
            "trace_resolution": (f"{self._frame_s(frames):g} s frames every {self.hop_s * TRACE_HOP_FACTOR:g} s; "
                                 f"zero-padded FFT bin {ANALYSIS_RATE_HZ / _nfft(self._frame_s(frames)):.4f} Hz with quadratic "
                                 "interpolation"),
            "phase_jumps": len(findings),
        })
        figures = [self._presence_figure(spectrum, best_nominal), self._trace_figure(
            clip, times, trace, phase_times, phase, best_nominal, strongest, findings)]
        if self._grid is not None:
            match = match_grid(times, trace, self._grid)
            measurements.update(match.measurements())
            if match.offset_s is not None:
                figures.append(self._grid_figure(times, trace, match))
        return Result(measurements=measurements, findings=findings, figures=figures,
                      tracks=[Track(f"ENF (Hz, {best_nominal:g} nominal)", times, trace)])

    # -- presence --------------------------------------------------------------------------
    def _harmonic_snrs(self, spectrum: tuple[np.ndarray, np.ndarray], nominal: float,
                       limit_hz: float) -> dict[int, float]:
        """SNR (dB) of each harmonic of ``nominal`` below ``limit_hz`` (Hz) in a Welch
        (frequencies, power) spectrum."""
        freqs, psd = spectrum
        snrs = {}
        for k in range(1, self.harmonics + 1):
            centre = k * nominal
            if centre + 6 > limit_hz:
                break
            peak = psd[np.abs(freqs - centre) <= self.peak_halfwidth_hz].max(initial=0.0)
            around = psd[(np.abs(freqs - centre) >= 1.5) & (np.abs(freqs - centre) <= 6)]
            snrs[k] = float(10 * np.log10((peak + 1e-30) / (np.median(around) + 1e-30)))
        return snrs

    # -- trace -----------------------------------------------------------------------------
    def _frame_s(self, frames: int) -> float:
        """The trace's frame (s) for a clip of ``frames`` samples at the analysis rate: ``frame_s``,
        or half the clip when it is shorter than two frames (at least 2 s)."""
        return min(self.frame_s, max(2.0, frames / ANALYSIS_RATE_HZ / 2))

    def _trace(self, clip: Clip, frames: int, nominal: float,
               used: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        """Frame centres (s) and the SNR-weighted mean of the ``used`` harmonics' peak
        frequencies (Hz, divided by their order), frame by frame."""
        frame_s = self._frame_s(frames)
        frame = int(frame_s * ANALYSIS_RATE_HZ)
        hop = max(1, int(self.hop_s * TRACE_HOP_FACTOR * ANALYSIS_RATE_HZ))
        n_fft = _nfft(frame_s)
        starts = np.arange(0, frames - frame + 1, hop)
        freqs = np.fft.rfftfreq(n_fft, 1 / ANALYSIS_RATE_HZ)
        window = np.hanning(frame)
        weights = np.array([10 ** (snr / 10) for snr in used.values()])
        pieces = []
        for span, y in _pieces(clip, frames, after=frame):
            mine = starts[(starts >= span.start) & (starts < span.stop)] - span.lo
            if not mine.size:
                continue
            estimates = []
            for k in used:
                band = _bandpass(y, k * nominal)
                inside = np.flatnonzero(np.abs(freqs - k * nominal) <= 1.0)
                around = inside[[0, -1]] + [-1, 1]  # the bins the interpolation may touch
                # A batch of frames at a time: each zero-padded FFT row is 256 kB.
                spectrum = np.concatenate([np.abs(np.fft.rfft(
                    np.stack([band[s : s + frame] * window for s in mine[i : i + TRACE_BATCH_FRAMES]]),
                    n=n_fft, axis=1)[:, around[0] : around[1] + 1]) for i in range(0, mine.size, TRACE_BATCH_FRAMES)])
                peak = np.argmax(spectrum[:, 1:-1], axis=1) + 1
                a, b, c = (np.log(spectrum[np.arange(peak.size), peak + d] + 1e-30) for d in (-1, 0, 1))
                offset = 0.5 * (a - c) / np.where(a - 2 * b + c == 0, -1e-12, a - 2 * b + c)
                estimates.append((freqs[around[0] + peak] + offset * (freqs[1] - freqs[0])) / k)
            pieces.append(np.average(np.array(estimates), axis=0, weights=weights))
        trace = np.concatenate(pieces) if pieces else np.zeros(0)
        return (starts + frame / 2) / ANALYSIS_RATE_HZ, trace

    # -- phase -----------------------------------------------------------------------------
    def _phase(self, clip: Clip, frames: int, mains_hz: float,
               harmonic: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Phase of the harmonic relative to a steady rotation at ``mains_hz`` (the trace's mean),
        per hop, in radians at the fundamental (the harmonic's phase divided by its order), and
        the hum's amplitude."""
        hop = max(1, int(self.hop_s * ANALYSIS_RATE_HZ))
        n = frames // hop
        blocks = np.empty(n, dtype=complex)
        # Pieces whose cores are whole hops: each hop is averaged inside one piece.
        for span, y in _pieces(clip, frames, core=hop * max(1, PIECE_S * ANALYSIS_RATE_HZ // hop)):
            stop = min(span.stop, n * hop)  # the last part-hop is left out
            # Zero-padded to a length the FFT factors well: a piece's own length can have a large
            # prime factor, which costs seconds.
            analytic = signal.hilbert(_bandpass(y, harmonic * mains_hz, halfwidth_hz=self.phase_halfwidth_hz),
                                      N=next_fast_len(y.size))[span.start - span.lo : stop - span.lo]
            t = np.arange(span.start, stop) / ANALYSIS_RATE_HZ
            rotated = analytic * np.exp(-2j * np.pi * harmonic * mains_hz * t)
            blocks[span.start // hop : stop // hop] = rotated.reshape(-1, hop).mean(axis=1)
        phase = np.unwrap(np.angle(blocks)) / harmonic
        return (np.arange(n) + 0.5) * hop / ANALYSIS_RATE_HZ, phase, np.abs(blocks)

    def _phase_jumps(self, times, phase, amplitude, harmonic, nominal) -> list[Finding]:
        fit = max(3, int(self.fit_s / self.hop_s))
        guard = int(self.guard_s / self.hop_s)
        jumps, noise = phase_steps(times, phase, amplitude, harmonic, fit=fit, guard=guard)
        # A jump must stand out from the phase's own wobble on both sides, not only exceed the floor.
        candidates = np.flatnonzero((np.abs(jumps) >= self.min_phase_jump_rad)
                                    & (np.abs(jumps) >= self.noise_factor * noise))
        findings = []
        for i in candidates:
            # Keep local maxima of |jump| only.
            lo, hi = max(0, i - guard - 1), min(times.size, i + guard + 2)
            if np.abs(jumps[i]) < np.abs(jumps[lo:hi]).max():
                continue
            findings.append(Finding(
                kind="enf_discontinuity", start_s=float(times[i]), end_s=float(times[i]),
                strength=min(1.0, abs(jumps[i]) / np.pi), flagged=True,
                summary=(f"The phase of the mains hum's harmonic {harmonic} ({harmonic * nominal:g} Hz) "
                         f"jumps by {np.degrees(jumps[i]):+.0f} degrees near {mmss(times[i])} "
                         "(a cut, an insertion or a restart leaves such a jump)."),
                details={"phase_jump_rad": float(jumps[i]), "harmonic": harmonic,
                         "noise_rad": float(noise[i])},
            ))
        # One jump raises the statistic wherever the fits straddle it (fit_s + guard_s either side).
        return strongest_apart(findings, min_gap_s=self.fit_s + self.guard_s)

    # -- figures ---------------------------------------------------------------------------
    def _presence_figure(self, spectrum: tuple[np.ndarray, np.ndarray], nominal) -> FigureOut:
        freqs, psd = spectrum
        fig, (ax,) = new_figure(height_in=2.8, sharex=False)
        keep = (freqs >= 20) & (freqs <= 260)
        ax.plot(freqs[keep], 10 * np.log10(psd[keep] + 1e-30), color="#1f4e79", linewidth=0.8)
        for n, style in ((50.0, ":"), (60.0, "--")):
            for k in range(1, 6):
                if k * n <= 260:
                    ax.axvline(k * n, color="#d62728" if n == nominal else "#999999", linestyle=style,
                               linewidth=0.8)
        ax.set_xlim(20, 260)
        ax.set_xlabel("frequency (Hz); dotted: 50 Hz harmonics, dashed: 60 Hz harmonics (red: found)")
        ax.set_ylabel("power (dB)")
        segment_s = 1.0 / (freqs[1] - freqs[0])  # a shorter clip is one shorter segment
        ax.set_title(f"Low-frequency spectrum (Welch, {segment_s:.3g} s segments)", loc="left")
        ax.grid(True, alpha=0.3)
        return FigureOut("presence", fig, "Spectrum from 20 to 260 Hz, where mains hum and its harmonics appear.")

    def _trace_figure(self, clip, times, trace, phase_times, phase, nominal, harmonic, findings) -> FigureOut:
        fig, (ax_f, ax_p) = new_figure(height_in=4.6, nrows=2)
        plot_gappy(ax_f, times, trace, color="#1f4e79", linewidth=1.0)
        ax_f.axhline(nominal, color="black", linewidth=0.6)
        ax_f.set_ylabel("frequency (Hz)")
        ax_f.set_title(f"ENF trace ({nominal:g} Hz nominal; harmonics weighted by SNR)", loc="left")
        ax_f.grid(True, alpha=0.3)
        detrended = phase - np.polyval(np.polyfit(phase_times, phase, 1), phase_times)
        ax_p.plot(phase_times, np.degrees(detrended), color="#1f4e79", linewidth=0.8)
        shade_findings(ax_p, findings, min_width_s=clip.duration_s / 300)
        ax_p.set_ylabel("phase (degrees)")
        ax_p.set_title(f"Hum phase, harmonic {harmonic}, linear trend removed; red: flagged jumps", loc="left")
        ax_p.grid(True, alpha=0.3)
        format_time_axis(ax_p, clip.duration_s)
        ax_f.set_xlabel("")
        return FigureOut("trace", fig, "Mains frequency over time and the hum's phase.")

    def _grid_figure(self, times, trace, match: "GridMatch") -> FigureOut:
        fig, (ax,) = new_figure(height_in=2.8, sharex=False)
        ax.plot(match.grid.times_s - match.offset_s, match.grid.freqs_hz, color="#999999", linewidth=1.0,
                label="grid log")
        plot_gappy(ax, times, trace, color="#1f4e79", linewidth=1.2, label="recording")
        ax.set_xlim(times[0], times[-1])
        ax.set_xlabel("seconds from the start of the clip")
        ax.set_ylabel("frequency (Hz)")
        significance = "" if match.runner_up is None else f"; best wrong offset r = {match.runner_up:.2f}"
        verdict = {True: "meets the match rule", False: "does not meet the match rule",
                   None: "too short to judge"}[match.matches]
        ax.set_title(f"Best match with the grid log: clip starts at log time {match.offset_s:.1f} s "
                     f"(r = {match.correlation:.2f}, RMS {match.rms_hz * 1000:.1f} mHz{significance}): {verdict}",
                     loc="left")
        ax.legend(loc="upper right", fontsize=SMALL_PT)
        ax.grid(True, alpha=0.3)
        return FigureOut("grid-match", fig, "The ENF trace over the grid log at the best offset.")


def phase_steps(times: np.ndarray, phase: np.ndarray, amplitude: np.ndarray, harmonic: int, *,
                fit: int, guard: int) -> tuple[np.ndarray, np.ndarray]:
    """At each hop, the step of the harmonic's phase between lines fitted to the ``fit`` hops
    before and after it (``guard`` hops left out each side), and the phase noise there.

    Parameters
    ----------
    times : np.ndarray [shape=(n,)]
        Hop centres (s).
    phase : np.ndarray [shape=(n,)]
        The hum's phase at the fundamental (rad): the harmonic's phase divided by ``harmonic``.
    amplitude : np.ndarray [shape=(n,)]
        The harmonic's amplitude per hop.

    Returns
    -------
    jumps : np.ndarray [shape=(n,)]
        The step of the harmonic's own phase (rad, in [-pi, pi): a cut moves it by a share of a
        cycle of the harmonic, which is all that can be known); 0 where the fits do not fit.
    noise : np.ndarray [shape=(n,)]
        The larger of the residuals' RMS about the two lines (harmonic's rad) and the amplitude's
        relative deviation there (noise in the hum's band moves its phase, in radians, about as
        much as it moves its amplitude, relatively; slow wobble escapes the line fits but not the
        amplitude); inf where the fits do not fit.
    """
    jumps = np.zeros(times.size)
    noise = np.full(times.size, np.inf)
    own = phase * harmonic
    for i in range(fit + guard, times.size - fit - guard):
        left = slice(i - guard - fit, i - guard)
        right = slice(i + guard, i + guard + fit)
        fit_before = np.polyfit(times[left], own[left], 1)
        fit_after = np.polyfit(times[right], own[right], 1)
        step = np.polyval(fit_after, times[i]) - np.polyval(fit_before, times[i])
        jumps[i] = (step + np.pi) % (2 * np.pi) - np.pi
        residuals = np.concatenate([own[left] - np.polyval(fit_before, times[left]),
                                    own[right] - np.polyval(fit_after, times[right])])
        around = np.concatenate([amplitude[left], amplitude[right]])
        noise[i] = max(np.std(residuals), np.std(around) / (np.mean(around) + 1e-30))
    return jumps, noise


def _pieces(clip: Clip, frames: int, *, core: int | None = None,
            after: int = 0) -> Iterator[tuple[Span, np.ndarray]]:
    """Walk the first ``frames`` samples of the 1 kHz mix in pieces of ``core`` samples
    (``PIECE_S`` unless given), each read with ``FILTER_MARGIN_S`` of context before and that plus
    ``after`` samples beyond it."""
    margin = FILTER_MARGIN_S * ANALYSIS_RATE_HZ
    core = core or PIECE_S * ANALYSIS_RATE_HZ
    for span in spans(frames, core, before=margin, after=margin + after, join_tail=True):
        yield span, mono_range(clip, ANALYSIS_RATE_HZ, span.lo, span.hi)


def _welch(clip: Clip, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch spectrum (frequencies in Hz, power density) of the 1 kHz mix with
    ``WELCH_SEGMENT_S`` segments at half overlap, the same as one ``signal.welch`` over the whole
    mix: each piece holds whole segments, starting in its core."""
    segment = min(frames, WELCH_SEGMENT_S * ANALYSIS_RATE_HZ)
    step = segment - segment // 2
    total, count = 0.0, 0
    for span in spans(frames, step * max(1, PIECE_S * ANALYSIS_RATE_HZ // step), after=segment - step,
                      join_tail=True):
        y = mono_range(clip, ANALYSIS_RATE_HZ, span.lo, span.hi)
        if y.size < segment:
            continue
        freqs, psd = signal.welch(y, fs=ANALYSIS_RATE_HZ, nperseg=segment)
        n = (y.size - segment) // step + 1
        total, count = total + psd * n, count + n
    return freqs, total / count


def _nfft(frame_s: float) -> int:
    return int(2 ** np.ceil(np.log2(frame_s * ANALYSIS_RATE_HZ * 16)))


def _bandpass(x: np.ndarray, centre_hz: float, halfwidth_hz: float = 1.0) -> np.ndarray:
    sos = signal.butter(2, [centre_hz - halfwidth_hz, centre_hz + halfwidth_hz], "bandpass",
                        fs=ANALYSIS_RATE_HZ, output="sos")
    return signal.sosfiltfilt(sos, x)


@dataclass(frozen=True)
class GridLog:
    """A grid-frequency log: seconds from its first row, frequency (Hz), and the clock time of
    the first row when the log gives timestamps."""

    times_s: np.ndarray
    freqs_hz: np.ndarray
    origin: datetime | None = None
    sha256: str = ""
    """SHA-256 of the bytes the log was read from (a user-named file is untrusted input)."""


def parse_grid_log(data: bytes, path: str) -> GridLog:
    """Parse a grid-frequency log read from ``path``: CSV rows of (time, frequency in Hz), time
    either in seconds or as ISO-8601 timestamps (a transmission operator's 1-second ``dtm,f``
    export); a header line is allowed. Raises ParameterError with the reason when it cannot be
    used."""
    text = data.decode("utf-8", errors="replace").replace("\x00", "")
    rows = [row[:2] for row in csv.reader(io.StringIO(text, newline="")) if len(row) >= 2]
    if not rows:
        raise ParameterError(f"enf.reference: {path} needs two columns: time (s or ISO-8601), frequency (Hz)")
    times, freqs, origin = [], [], None
    for first, second in rows:
        try:
            frequency = float(second)
        except ValueError:
            continue  # a header, or a damaged row
        stamp = _time_of(first.strip())
        if stamp is None or not np.isfinite(frequency):
            continue
        if isinstance(stamp, datetime):
            origin = origin or stamp
            stamp = (stamp - origin).total_seconds()
        times.append(stamp)
        freqs.append(frequency)
    if len(times) < 10:
        raise ParameterError(f"enf.reference: {path} has fewer than 10 usable rows")
    times_s, freqs_hz = np.array(times), np.array(freqs)
    order = np.argsort(times_s, kind="stable")
    return GridLog(times_s[order], freqs_hz[order], origin, hashlib.sha256(data).hexdigest())


def _time_of(text: str) -> float | datetime | None:
    """Seconds as a float, or an ISO-8601 timestamp (naive ones taken as UTC); None otherwise."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


MIN_WRONG_OFFSETS = 20
"""Fewer offsets away from the best one and the match's significance is not stated."""
MATCH_MIN_CORRELATION = 0.8
MATCH_MAX_RMS_HZ = 0.005
MATCH_MIN_SPAN_S = 60.0
"""The rule of ``reference_match``, chosen on the tuning half of the real mains references
(docs/validation.md, ENF): the trace at the best offset correlates with the log at 0.8 or more
*and* lies within 5 mHz of it (RMS, the absolute frequency: a grid at another time runs at another
level, which correlation alone does not see), over at least 60 s of trace. On 2-minute excerpts
there, 93 % of correct placements passed it and 1.3 % of wrong logs did; on 30-s excerpts 10 % of
wrong logs passed, so a shorter trace is not judged."""
MATCH_RULE = (f"correlation >= {MATCH_MIN_CORRELATION:g} and RMS difference <= {MATCH_MAX_RMS_HZ * 1000:g} mHz "
              f"at the best offset, over at least {MATCH_MIN_SPAN_S:g} s of trace")


@dataclass
class GridMatch:
    """The best alignment of an ENF trace with a grid log, or why there is none.

    ``z`` is the best correlation against those at every offset more than ``exclusion_s`` away
    from it (mean and SD), ``runner_up`` the highest of those: how exceptional the best match is
    among the wrong ones. A slowly wandering grid correlates with itself over minutes, so wrong
    offsets can come close; a best match far above the runner-up is the strong case.
    """

    grid: GridLog
    offset_s: float | None = None
    correlation: float | None = None
    rms_hz: float | None = None
    z: float | None = None
    runner_up: float | None = None
    wrong_offsets: int = 0
    reason: str = ""
    span_s: float = 0.0
    """Seconds of the clip the trace covers."""

    @property
    def matches(self) -> bool | None:
        """Whether the best offset stands out as the clip's place in the log (:data:`MATCH_RULE`);
        None when it cannot be judged: no offset, or under ``MATCH_MIN_SPAN_S`` of trace."""
        if self.offset_s is None or self.span_s < MATCH_MIN_SPAN_S:
            return None
        return bool(self.correlation >= MATCH_MIN_CORRELATION and self.rms_hz <= MATCH_MAX_RMS_HZ)

    def measurements(self) -> dict[str, object]:
        clock = (None if self.offset_s is None or self.grid.origin is None
                 else (self.grid.origin + timedelta(seconds=self.offset_s)).isoformat())
        return {"reference_sha256": self.grid.sha256, "reference_offset_s": self.offset_s, "reference_start_clock": clock,
                "reference_correlation": self.correlation, "reference_rms_hz": self.rms_hz,
                "reference_z_vs_wrong_offsets": self.z, "reference_best_wrong_correlation": self.runner_up,
                "reference_wrong_offsets": self.wrong_offsets,
                "reference_match": self.matches, "reference_match_rule": MATCH_RULE,
                "reference_note": self.reason or self._judgement()}

    def _judgement(self) -> str:
        if self.matches is None:
            return (f"only {self.span_s:.0f} s of trace: under {MATCH_MIN_SPAN_S:g} s a wrong log matches as "
                    "well too often for the best offset to be called a match")
        return "the best offset meets the rule" if self.matches else "the best offset does not meet the rule"


def match_grid(times, trace, grid: GridLog, *, step_s: float = 1.0, exclusion_s: float = 10.0) -> GridMatch:
    """Slide the trace over the grid log; the offset (log time at clip start, s) with the highest
    Pearson correlation, its significance against the other offsets, or the reason for none."""
    valid = np.isfinite(trace)
    t, f = times[valid], trace[valid]
    if t.size < 10:
        return GridMatch(grid, reason="the ENF trace has fewer than 10 measured frames")
    log_span, clip_span = grid.times_s[-1] - grid.times_s[0], t[-1] - t[0]
    if clip_span > log_span:
        return GridMatch(grid, reason=(f"the log covers {log_span:.0f} s, less than the clip's "
                                       f"{clip_span:.0f} s of trace: it cannot hold the whole clip"))
    offsets = np.arange(grid.times_s[0] - t[0], grid.times_s[-1] - t[-1] + step_s / 2, step_s)
    correlations = np.full(offsets.size, np.nan)
    for i, offset in enumerate(offsets):
        reference = np.interp(t + offset, grid.times_s, grid.freqs_hz)
        if np.std(reference) > 0 and np.std(f) > 0:
            correlations[i] = np.corrcoef(f, reference)[0, 1]
    if not np.isfinite(correlations).any():
        return GridMatch(grid, reason="the trace or the log does not vary: no offset can be told from another")
    best = int(np.nanargmax(correlations))
    reference = np.interp(t + offsets[best], grid.times_s, grid.freqs_hz)
    wrong = correlations[(np.abs(offsets - offsets[best]) > exclusion_s) & np.isfinite(correlations)]
    z = (float((correlations[best] - wrong.mean()) / (wrong.std() + 1e-12))
         if wrong.size >= MIN_WRONG_OFFSETS else None)
    runner_up = float(wrong.max()) if wrong.size else None
    return GridMatch(grid, float(offsets[best]), float(correlations[best]),
                     float(np.sqrt(np.mean((f - reference) ** 2))), z, runner_up, int(wrong.size),
                     "" if z is not None else f"fewer than {MIN_WRONG_OFFSETS} other offsets: significance not stated",
                     float(clip_span))
