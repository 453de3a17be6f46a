"""The Perth decoder's input: the normalised dB magnitude spectrogram of a 32 kHz signal, as
resemble-perth computes it. The ``watermark`` analysis computes it with librosa for the ONNX graph;
the torch network (:mod:`.net`) computes the same with ``torch.stft``."""

from __future__ import annotations

import math

import librosa
import numpy as np

RATE_HZ = 32000
N_FFT = 2048
HOP = 320
MAG_MIN = 1e-9
HEADROOM_DB = 15.0


def magnitude(signal: np.ndarray) -> np.ndarray:
    """The decoder's input [shape=(1025, frames)]: the normalised dB magnitude of a 32 kHz signal,
    as Perth computes it (centred 2048-point periodic-Hann STFT every 10 ms, reflect padding)."""
    spectrum = librosa.stft(np.asarray(signal, dtype=np.float32), n_fft=N_FFT, hop_length=HOP, win_length=N_FFT,
                            window="hann", center=True, pad_mode="reflect")
    min_db = 20 * math.log10(MAG_MIN)
    db = 20 * np.log10(np.maximum(np.abs(spectrum), MAG_MIN))
    return ((db - min_db) / (-min_db + HEADROOM_DB)).astype(np.float32)
