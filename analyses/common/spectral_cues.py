"""Hand-made spectral cues of a 16-kHz window, for a light model of our own beside the learned
countermeasures: linear-frequency cepstral coefficients (LFCC, the ASVspoof baseline's feature:
vocoders leave their traces in the upper band, which a mel scale compresses) and the share and
steadiness of the energy above 4 kHz.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft

RATE_HZ = 16000
FRAME = 400
"""25 ms frames ..."""
HOP = 160
"""... every 10 ms."""
N_FFT = 512
FILTERS = 20
COEFFICIENTS = 20
NAMES = (*(f"lfcc{i}_mean" for i in range(COEFFICIENTS)), *(f"lfcc{i}_sd" for i in range(COEFFICIENTS)),
         *(f"lfcc{i}_delta_sd" for i in range(COEFFICIENTS)), "high_band_share_db_mean", "high_band_share_db_sd",
         "flatness_mean", "flatness_sd")
"""The cues of :func:`window_cues`, in order."""


def _filterbank() -> np.ndarray:
    """Triangular filters equally spaced on a linear scale from 0 to 8 kHz [shape=(FILTERS, N_FFT // 2 + 1)]."""
    bins = np.arange(N_FFT // 2 + 1)
    edges = np.linspace(0, N_FFT // 2, FILTERS + 2)
    bank = np.zeros((FILTERS, bins.size))
    for i in range(FILTERS):
        lo, mid, hi = edges[i : i + 3]
        bank[i] = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0, None)
    return bank


BANK = _filterbank()


def window_cues(windows: np.ndarray) -> np.ndarray:
    """The cues of :data:`NAMES` for each row of ``windows`` (16 kHz) [shape=(n, len(NAMES))].

    Statistics are over the frames with sound (within 40 dB of the window's loudest frame), so
    pauses of different lengths do not move them.
    """
    out = []
    for window in np.asarray(windows, float):
        frames = np.lib.stride_tricks.sliding_window_view(window, FRAME)[::HOP] * np.hanning(FRAME)
        power = np.abs(np.fft.rfft(frames, N_FFT)) ** 2 + 1e-12
        level = 10 * np.log10(power.sum(axis=1))
        sounding = level >= level.max() - 40
        power = power[sounding] if sounding.sum() >= 3 else power
        cepstra = sp_fft.dct(np.log(power @ BANK.T + 1e-12), type=2, norm="ortho", axis=1)[:, :COEFFICIENTS]
        delta = np.diff(cepstra, axis=0)
        high = 10 * np.log10(power[:, N_FFT // 4 :].sum(axis=1) / power.sum(axis=1))
        flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
        out.append(np.concatenate([cepstra.mean(0), cepstra.std(0), delta.std(0),
                                   [high.mean(), high.std(), flatness.mean(), flatness.std()]]))
    return np.array(out)
