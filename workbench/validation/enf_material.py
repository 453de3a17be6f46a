"""Real mains hum for the ENF tables: the ENF-WHU references' phase, grid logs as published, the
hum mixed into genuine speech, and cuts.

Each reference of ``enf_whu_refs/`` is a recording of the 50 Hz mains at 400 Hz. Its fundamental's
phase (band-passed, analytic signal) is the grid's own: from it come

- **the grid log** a transmission operator publishes: one row a second, each the mean frequency over
  the second centred on the row's time, with measurement noise (:data:`LOG_NOISE_HZ`), as seconds or
  as ISO-8601 clock times;
- **the hum** of a room recording: the fundamental and its harmonics up to the fourth, each at a
  level of a profile that room and telephone recordings show (:data:`HUM_PROFILES`), driven by that
  phase at the recording's own sample times, so its frequency wanders as the grid's did.

The hum is mixed into genuine speech (:func:`speech_bed`) 10 to 40 dB under the speech's loud level;
the true offset into the reference is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from scipy import signal

from workbench.validation.real import Recording, manifest_rows, open_checked
from workbench.validation.real_material import loud_level, resampled

NOMINAL_HZ = 50.0
"""The references' grid (Wuhan)."""
EDGE_S = 2.0
"""Left out at each end of a reference, where the band-pass filter settles."""
LOG_NOISE_HZ = 0.001
"""Standard deviation (Hz) of the noise added to each row of a log (a grid meter's resolution)."""
HUM_PROFILES = {
    "fundamental": (1.0, 0.3, 0.2, 0.1),
    "odd harmonics": (0.5, 0.1, 1.0, 0.2),
    "200 Hz only": (0.0, 0.0, 0.05, 1.0),
    "telephone (150 and 200 Hz)": (0.0, 0.0, 1.0, 0.7),
}
"""Relative amplitudes of the 50, 100, 150 and 200 Hz components. A room recording near mains
gear shows the fundamental or the odd harmonics; one far from it sometimes only 200 Hz; a telephone
channel cuts below about 120 Hz, so only 150 and 200 Hz survive."""
TELEPHONE_PROFILE = "telephone (150 and 200 Hz)"
HUM_BELOW_SPEECH_DB = (10.0, 40.0)
"""The hum's RMS is this far (dB, drawn uniformly) under the speech's loud level."""
LOG_START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
"""Clock time of the reference's time 0 in a log written with ISO-8601 times (any date would do)."""
FIRST_ROW_S = 1
"""Time (s) of a log's first row: the first whole second with half a second of phase before it."""


@dataclass(frozen=True)
class MainsReference:
    """One mains reference: its name, SHA-256 and the unwrapped phase of its fundamental (cycles,
    one value per sample at ``rate_hz``, starting ``EDGE_S`` into the file)."""

    name: str
    sha256: str
    rate_hz: int
    phase_cycles: np.ndarray
    half: str

    @property
    def duration_s(self) -> float:
        return (self.phase_cycles.size - 1) / self.rate_hz

    def phase_at(self, t_s: np.ndarray) -> np.ndarray:
        """The fundamental's phase (cycles) at times ``t_s`` (s from the usable start)."""
        return np.interp(t_s * self.rate_hz, np.arange(self.phase_cycles.size), self.phase_cycles)

    def trace(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid's frequency once a second: row times (s, whole seconds from ``FIRST_ROW_S``) and the mean
        frequency (Hz) over the second centred on each."""
        times = np.arange(FIRST_ROW_S, int(self.duration_s - 0.5) + 1, dtype=float)
        return times, self.phase_at(times + 0.5) - self.phase_at(times - 0.5)

    def log_csv(self, rng: np.random.Generator, *, clock: bool = False) -> bytes:
        """The grid log as published (see :meth:`trace`), each row with ``LOG_NOISE_HZ`` of noise:
        ``time,frequency`` in seconds, or in ISO-8601 clock times from ``LOG_START``."""
        times, freqs = self.trace()
        freqs = freqs + rng.normal(0.0, LOG_NOISE_HZ, freqs.size)
        stamp = ((lambda t: (LOG_START + timedelta(seconds=float(t))).isoformat()) if clock
                 else (lambda t: f"{t:.0f}"))
        rows = ["time,frequency_hz"] + [f"{stamp(t)},{f:.4f}" for t, f in zip(times, freqs)]
        return ("\n".join(rows) + "\n").encode()

    @staticmethod
    def log_time(reference_s: float, *, clock: bool) -> float:
        """Where time ``reference_s`` of the reference falls in its log as the workbench reads it:
        a log of seconds keeps the reference's times; a log of clock times counts from its first
        row."""
        return reference_s - FIRST_ROW_S if clock else reference_s

    def hum(self, start_s: float, frames: int, rate_hz: int, amplitudes: tuple[float, ...],
            rng: np.random.Generator) -> np.ndarray:
        """``frames`` samples at ``rate_hz`` of hum from ``start_s`` (s) into the reference: the
        harmonics' ``amplitudes`` (their RMS, full scale), each with a random starting phase."""
        phase = self.phase_at(start_s + np.arange(frames) / rate_hz)
        out = np.zeros(frames)
        for k, amplitude in enumerate(amplitudes, start=1):
            if amplitude > 0 and k * NOMINAL_HZ < 0.45 * rate_hz:
                out += amplitude * np.sqrt(2) * np.cos(2 * np.pi * k * phase + rng.uniform(0, 2 * np.pi))
        return out


def mains_phase(x: np.ndarray, rate_hz: int) -> np.ndarray:
    """Unwrapped phase (cycles) of the 50 Hz fundamental of a mains recording ``x`` at ``rate_hz``,
    ``EDGE_S`` left out at each end."""
    sos = signal.butter(4, [NOMINAL_HZ - 1.5, NOMINAL_HZ + 1.5], "bandpass", fs=rate_hz, output="sos")
    analytic = signal.hilbert(signal.sosfiltfilt(sos, x))
    edge = int(EDGE_S * rate_hz)
    return np.unwrap(np.angle(analytic[edge:-edge])) / (2 * np.pi)


def mains_references(corpus: Path) -> list[MainsReference]:
    """Every reference listed in ``corpus``'s ``enf_whu_refs/MANIFEST.csv``, decoded and
    hash-checked (:func:`~workbench.validation.real.open_checked`), in name order (none when the
    folder is absent). A file whose hash differs is an error.

    The references alternate between halves in name order, from "tuning", so both halves span
    the data set's numbering."""
    references = []
    rows = sorted(((path, row) for path, row, source in manifest_rows(corpus)
                   if source.startswith("enf_whu_refs") and row.get("label") == "enf_reference"),
                  key=lambda item: item[0].name)
    for i, (path, row) in enumerate(rows):
        clip = open_checked(path, row["sha256"])
        mono = clip.read(0, clip.frames).astype(np.float64).mean(axis=1)
        references.append(MainsReference(path.stem, clip.info.sha256, clip.sample_rate_hz,
                                         mains_phase(mono, clip.sample_rate_hz), ("tuning", "measuring")[i % 2]))
    return references


def speech_bed(recordings: list[tuple[Recording, np.ndarray, int]], seconds: float, rate_hz: int,
               rng: np.random.Generator) -> np.ndarray:
    """``seconds`` of genuine speech at ``rate_hz``: recordings (``(recording, mono, rate)``) taken
    in turn from a random one onward, each resampled and its loud level set to -20 dBFS, joined end
    to end. The joins do not matter here: the hum mixed in afterwards runs through them."""
    need = int(seconds * rate_hz)
    parts, have = [], 0
    i = int(rng.integers(len(recordings)))
    while have < need:
        _, mono, rate = recordings[i % len(recordings)]
        part = resampled(mono, rate, rate_hz)
        level = loud_level(part, rate_hz)
        if level > 0:
            parts.append(part * (0.1 / level))
            have += part.size
        i += 1
    return np.concatenate(parts)[:need]


def with_hum(bed: np.ndarray, rate_hz: int, reference: MainsReference, start_s: float, profile: str,
             below_db: float, rng: np.random.Generator) -> np.ndarray:
    """``bed`` with the reference's hum from ``start_s`` mixed in, in ``profile``'s proportions,
    its RMS ``below_db`` under the bed's loud level."""
    amplitudes = np.array(HUM_PROFILES[profile])
    amplitudes = amplitudes / np.sqrt(np.sum(amplitudes ** 2))
    scale = loud_level(bed, rate_hz) * 10 ** (-below_db / 20)
    return bed + reference.hum(start_s, bed.size, rate_hz, tuple(scale * amplitudes), rng)
