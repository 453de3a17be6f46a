"""Helpers that write small media files for tests (PyAV encodes what libsndfile cannot)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_with_pyav(path: Path, samples: np.ndarray, sample_rate_hz: int, *, codec: str,
                    container_format: str | None = None, tags: dict[str, str] | None = None,
                    bit_rate: int | None = None) -> Path:
    """Encode mono float samples with PyAV (e.g. codec "aac" into .m4a, "libopus" into .webm)."""
    with av.open(str(path), mode="w", format=container_format) as container:
        for key, value in (tags or {}).items():
            container.metadata[key] = value
        stream = container.add_stream(codec, rate=sample_rate_hz)
        stream.layout = "mono"
        if bit_rate:
            stream.bit_rate = bit_rate
        frame_size = 1152 if codec == "libmp3lame" else 1024
        data = np.asarray(samples, dtype=np.float32).reshape(1, -1)
        for start in range(0, data.shape[1], frame_size):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(data[:, start : start + frame_size]), format="fltp", layout="mono"
            )
            frame.sample_rate = sample_rate_hz
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
