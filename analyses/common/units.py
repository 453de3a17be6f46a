"""Unit conversions used across analyses."""

from __future__ import annotations

import numpy as np

FLOOR_DB = -200.0


def to_db(amplitude: float | np.ndarray) -> float | np.ndarray:
    """Amplitude (full scale 1.0) to dBFS; zero maps to ``FLOOR_DB`` rather than -inf."""
    value = 20.0 * np.log10(np.maximum(np.abs(amplitude), 10 ** (FLOOR_DB / 20)))
    return float(value) if np.ndim(value) == 0 else value
