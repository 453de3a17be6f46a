"""One channel for every recording: the speech passed through a telephone band, an MP3 or an
Opus encoder before it is scored, so that genuine and synthetic recordings published in
different formats are compared after the same processing (and the robustness that evidence needs
is measured).

Every function takes and returns the mono mix at 16 kHz (the countermeasures' rate).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import av
import numpy as np
from scipy import signal

from workbench.material.media import write_with_pyav

RATE_HZ = 16000


def telephone(y: np.ndarray) -> np.ndarray:
    """A narrowband call: 300-3400 Hz, 8 kHz, G.711 mu-law (8 bits), back at 16 kHz."""
    narrow = signal.resample_poly(y, 1, 2)
    sos = signal.butter(4, [300, 3400], btype="bandpass", fs=RATE_HZ // 2, output="sos")
    narrow = np.clip(signal.sosfilt(sos, narrow), -1, 1)
    mu = 255.0
    coded = np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu)
    coded = np.round(coded * 127) / 127
    narrow = np.sign(coded) * np.expm1(np.abs(coded) * np.log1p(mu)) / mu
    return signal.resample_poly(narrow, 2, 1)


def _round_trip(y: np.ndarray, suffix: str, codec: str, kbps: int) -> np.ndarray:
    """``y`` encoded by ``codec`` at ``kbps`` and decoded again at 16 kHz (the codec's delay kept:
    the scores are of windows, not of samples in place)."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_with_pyav(Path(folder) / f"channel{suffix}", np.clip(y, -1, 1), RATE_HZ, codec=codec,
                               bit_rate=kbps * 1000)
        with av.open(str(path)) as container:
            rate = container.streams.audio[0].rate
            decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    if rate != RATE_HZ:
        decoded = signal.resample_poly(decoded, RATE_HZ, rate)
    return decoded.astype(np.float64)


def mp3_32(y: np.ndarray) -> np.ndarray:
    """MP3 at 32 kbit/s (LAME), as voice recordings are shared in low-rate MP3."""
    return _round_trip(y, ".mp3", "libmp3lame", 32)


def opus_24(y: np.ndarray) -> np.ndarray:
    """Opus at 24 kbit/s, as messengers send voice messages."""
    return _round_trip(y, ".ogg", "libopus", 24)


CHANNELS = {"telephone": telephone, "mp3_32": mp3_32, "opus_24": opus_24}
"""Channel name -> the function that passes 16-kHz mono through it."""
CHANNEL_LABELS = {"published": "as published", "telephone": "telephone band, 8 kHz mu-law",
                  "mp3_32": "MP3 32 kbit/s", "opus_24": "Opus 24 kbit/s"}
