"""The shared magnitude spectrogram of a clip's mono mix, read a block of frames at a time.

Every analysis that looks at the spectrum shares one STFT (:func:`compute_spectrogram`). A long recording's
magnitudes do not stay in memory: from :data:`SPILL_FROM_BYTES` on they are written once to an
unlinked temporary file (frame after frame) and read back a block of frames at a time, so the
process holds a block, not the recording; the operating system's file cache keeps the file while
memory is free and gives the memory back when it is needed. Analysis workers forked after the
STFT read the same file. The per-frame and per-bin power sums that several analyses need are
taken during that one pass.
"""

from __future__ import annotations

import errno
import math
import os
import tempfile
from typing import Callable, Iterator

import numpy as np

STFT_BLOCK_FRAMES = 4096
"""Frames computed, stored and read together."""
SPECTROGRAM_WINDOW_S = 0.0464
"""Target STFT window length in seconds: 2048 samples at 44.1 kHz, scaled to other rates."""
LONG_RECORDING_S = 1800.0
"""From this duration (s) on, the shared STFT hops half a window instead of a quarter."""
SPILL_FROM_BYTES = 64 * 2**20
"""Magnitudes larger than this (about 3 minutes at 44.1 kHz) go to a temporary file."""
COLUMN_GAP_FRAMES = 64
"""Selected frames closer than this are read in one span from the file; farther ones apart."""


def stft_sizes(sample_rate_hz: int, duration_s: float = 0.0) -> tuple[int, int]:
    """Return (n_fft, hop_length) for the shared STFT at a given rate.

    The window is the power of two nearest to ``SPECTROGRAM_WINDOW_S`` (2048 at 44.1 and 48 kHz,
    512 at 11.025 kHz), the hop a quarter of it, so time and frequency resolution are similar at
    every rate. Recordings of ``LONG_RECORDING_S`` or more get a hop of half the window (23 ms at
    44.1 kHz, still far finer than any analysis window): it halves the spectrogram that every
    analysis shares.
    """
    n_fft = 2 ** max(6, round(math.log2(SPECTROGRAM_WINDOW_S * sample_rate_hz)))
    return n_fft, n_fft // (2 if duration_s >= LONG_RECORDING_S else 4)


class _InMemory:
    """Magnitudes held as one (n_bins, n_frames) float32 array."""

    def __init__(self, n_bins: int, n_frames: int):
        self._array = np.empty((n_bins, n_frames), dtype=np.float32)

    def write(self, start: int, block: np.ndarray) -> None:
        self._array[:, start : start + block.shape[1]] = block

    def frames(self, start: int, stop: int) -> np.ndarray:
        return self._array[:, start:stop]

    def columns(self, columns: np.ndarray) -> np.ndarray:
        return self._array[:, columns]


class _InFile:
    """Magnitudes in an unlinked temporary file, frame-major (a frame's bins are contiguous), read
    with ``os.pread`` so forked processes can share the descriptor without sharing an offset. The
    file disappears when the last process holding it closes it, or exits."""

    def __init__(self, n_bins: int, n_frames: int):
        self._file = tempfile.TemporaryFile(prefix="workbench-spectrogram-")
        self._n_bins = n_bins
        self._frame_bytes = n_bins * 4
        try:  # the space is taken now, so a full disk shows before the STFT, not in the middle
            os.posix_fallocate(self._file.fileno(), 0, n_frames * self._frame_bytes)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # a file system without it
                self._file.close()
                raise

    def write(self, start: int, block: np.ndarray) -> None:
        data = np.ascontiguousarray(block.T, dtype=np.float32).tobytes()
        offset = start * self._frame_bytes
        while data:
            written = os.pwrite(self._file.fileno(), data, offset)
            data, offset = data[written:], offset + written

    def frames(self, start: int, stop: int) -> np.ndarray:
        size = (stop - start) * self._frame_bytes
        buffer = bytearray(size)
        view, done = memoryview(buffer), 0
        while done < size:
            got = os.preadv(self._file.fileno(), [view[done:]], start * self._frame_bytes + done)
            if got == 0:
                raise OSError("the spectrogram's temporary file is shorter than written")
            done += got
        return np.frombuffer(buffer, dtype=np.float32).reshape(stop - start, self._n_bins).T

    def columns(self, columns: np.ndarray) -> np.ndarray:
        out = np.empty((self._n_bins, len(columns)), dtype=np.float32)
        if not len(columns):
            return out
        for run in _runs(columns):
            first, last = int(columns[run[0]]), int(columns[run[-1]])
            out[:, run] = self.frames(first, last + 1)[:, columns[run] - first]
        return out


def _runs(columns: np.ndarray) -> list[np.ndarray]:
    """Positions in ``columns`` (ascending frame numbers) to read as one span each: runs of frames
    closer than ``COLUMN_GAP_FRAMES``, cut so that no span is longer than ``STFT_BLOCK_FRAMES``
    (frames spread thinly over a long recording are not read as the whole recording at once)."""
    runs = []
    for run in np.split(np.arange(len(columns)), np.flatnonzero(np.diff(columns) > COLUMN_GAP_FRAMES) + 1):
        block = (columns[run] - columns[run[0]]) // STFT_BLOCK_FRAMES
        runs += np.split(run, np.flatnonzero(np.diff(block)) + 1)
    return runs


class Spectrogram:
    """A magnitude spectrogram of the mono mix (Hann window, centred frames), read in blocks.

    Attributes
    ----------
    freqs_hz : np.ndarray [shape=(n_bins,)]
        Centre frequency of each bin in Hz.
    times_s : np.ndarray [shape=(n_frames,)]
        Centre time of each frame in seconds.
    n_fft : int
        Window and FFT length in samples.
    hop_length : int
        Hop between frames in samples.
    sample_rate_hz : int
        Sample rate of the signal it was computed from.
    frame_power : np.ndarray [shape=(n_frames,), float64]
        Sum over bins of each frame's squared magnitude (linear; 0 for a frame of exact zeros).
    bin_power : np.ndarray [shape=(n_bins,), float64]
        Sum over frames of each bin's squared magnitude (linear).
    """

    def __init__(self, store, freqs_hz: np.ndarray, times_s: np.ndarray, n_fft: int, hop_length: int,
                 sample_rate_hz: int, frame_power: np.ndarray, bin_power: np.ndarray):
        self._store = store
        self.freqs_hz = freqs_hz
        self.times_s = times_s
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.sample_rate_hz = sample_rate_hz
        self.frame_power = frame_power
        self.bin_power = bin_power
        self._pooled: dict[int, np.ndarray] = {}

    @property
    def n_bins(self) -> int:
        return self.freqs_hz.size

    @property
    def n_frames(self) -> int:
        return self.times_s.size

    def frames(self, start: int, stop: int) -> np.ndarray:
        """Magnitudes of frames ``[start, stop)`` (clipped to the spectrogram), shape
        (n_bins, frames), float32. Read-only: it may be a view of the shared array."""
        start, stop = max(0, start), min(self.n_frames, stop)
        return self._store.frames(start, max(start, stop))

    def blocks(self, size: int = STFT_BLOCK_FRAMES) -> Iterator[tuple[int, np.ndarray]]:
        """Walk the spectrogram ``size`` frames at a time: (first frame, magnitudes)."""
        for start in range(0, self.n_frames, size):
            yield start, self.frames(start, start + size)

    def columns(self, columns: np.ndarray) -> np.ndarray:
        """Magnitudes of the selected frames (ascending indices), shape (n_bins, len(columns))."""
        return self._store.columns(np.asarray(columns, dtype=np.intp))

    def db_columns(self, columns: np.ndarray) -> np.ndarray:
        """Magnitude in dB relative to a full-scale sine (Hann window: peak magnitude n_fft / 4)
        of the selected frames only: a long recording's whole dB array is never built."""
        ref = np.float32(self.n_fft / 4)
        return 20.0 * np.log10(np.maximum(self.columns(columns), np.float32(1e-10)) / ref)

    def mean_power_db(self, columns: np.ndarray) -> np.ndarray:
        """Mean power per bin over the selected frames, in dB re full-scale sine, summed a block
        of frames at a time."""
        total = np.zeros(self.n_bins)
        for first in range(0, len(columns), STFT_BLOCK_FRAMES):
            part = self.columns(columns[first : first + STFT_BLOCK_FRAMES])
            total += np.einsum("ij,ij->i", part, part, dtype=np.float64)
        mean = total / max(1, len(columns)) / (self.n_fft / 4) ** 2
        return 10 * np.log10(mean + 1e-30)

    def pooled_max(self, width: int) -> np.ndarray:
        """Magnitudes max-pooled over time into at most ``width`` columns (for a figure; dB is
        monotonic, so the dB of the pooled magnitudes is the pooled dB). Cached per width."""
        if width not in self._pooled:
            if self.n_frames <= width:
                self._pooled[width] = np.array(self.frames(0, self.n_frames))
            else:
                edges = np.linspace(0, self.n_frames, width + 1).astype(int)
                pooled = np.empty((self.n_bins, width), dtype=np.float32)
                # Whole columns per read: the cells whose frames lie in the next block's reach.
                first = 0
                while first < width:
                    last = int(np.searchsorted(edges, edges[first] + STFT_BLOCK_FRAMES, side="right")) - 1
                    last = min(width, max(first + 1, last))
                    block = self.frames(int(edges[first]), int(edges[last]))
                    pooled[:, first:last] = np.maximum.reduceat(block, edges[first:last] - edges[first], axis=1)
                    first = last
                self._pooled[width] = pooled
        return self._pooled[width]

    def parameters(self) -> dict[str, object]:
        """Describe how the spectrogram was computed, for a Result's parameters."""
        return {
            "stft_n_fft": self.n_fft,
            "stft_hop_length": self.hop_length,
            "stft_window": "hann",
            "stft_input": "mono mix (mean of channels)",
        }


def _store(n_bins: int, n_frames: int):
    """Where the magnitudes go: a file above ``SPILL_FROM_BYTES``, unless the temporary folder
    cannot hold it (full, read-only, missing), in which case memory, as for a short clip."""
    if n_bins * n_frames * 4 > SPILL_FROM_BYTES:
        try:
            return _InFile(n_bins, n_frames)
        except OSError:
            pass
    return _InMemory(n_bins, n_frames)


def compute_spectrogram(mono_range: Callable[[int, int], np.ndarray], frames: int, sample_rate_hz: int) -> Spectrogram:
    """The magnitude STFT (see :func:`stft_sizes`) of the mono mix that ``mono_range(start,
    stop)`` delivers for ``frames`` frames at ``sample_rate_hz`` Hz.

    Centred frames (librosa's ``center=True`` with zero padding), computed a block of frames at
    a time from the source, so neither the samples nor the complex STFT of a long recording is
    ever held whole.
    """
    import librosa

    n_fft, hop = stft_sizes(sample_rate_hz, frames / sample_rate_hz)
    size = max(frames, n_fft)
    half = n_fft // 2
    n_frames = 1 + size // hop
    n_bins = n_fft // 2 + 1
    store = _store(n_bins, n_frames)
    frame_power = np.empty(n_frames)
    bin_power = np.zeros(n_bins)
    for first in range(0, n_frames, STFT_BLOCK_FRAMES):
        last = min(n_frames, first + STFT_BLOCK_FRAMES)
        lo, hi = first * hop - half, (last - 1) * hop + n_fft - half
        piece = np.pad(mono_range(max(0, lo), min(size, hi)), (max(0, -lo), 0))
        piece = np.pad(piece, (0, hi - lo - piece.size))
        block = np.abs(librosa.stft(piece, n_fft=n_fft, hop_length=hop, window="hann", center=False))
        frame_power[first:last] = np.einsum("ij,ij->j", block, block, dtype=np.float64)
        bin_power += np.einsum("ij,ij->i", block, block, dtype=np.float64)
        store.write(first, block)
    freqs = librosa.fft_frequencies(sr=sample_rate_hz, n_fft=n_fft)
    times = librosa.frames_to_time(np.arange(n_frames), sr=sample_rate_hz, hop_length=hop)
    return Spectrogram(store, freqs, times, n_fft, hop, sample_rate_hz, frame_power, bin_power)
