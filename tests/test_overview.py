import numpy as np
import pytest

from workbench.analyses.overview import Overview
from workbench.core.clip import Clip


def test_levels_of_a_known_sine():
    sr = 16000
    t = np.arange(sr * 3) / sr
    sine = 0.5 * np.sin(2 * np.pi * 440 * t)  # peak -6.02 dBFS, RMS -9.03 dBFS
    result = Overview().run(Clip.from_array(sine, sr))
    m = result.measurements
    assert m["peak_dbfs"] == pytest.approx(-6.02, abs=0.05)
    assert m["rms_dbfs"] == pytest.approx(-9.03, abs=0.05)
    assert m["crest_factor_db"] == pytest.approx(3.01, abs=0.05)
    # BS.1770: a 0 dBFS-peak 1 kHz sine reads about -3 LUFS; at 440 Hz, -6 dB peak, near -9.
    assert m["integrated_loudness_lufs"] == pytest.approx(-9.0, abs=1.0)
    assert [f.name for f in result.figures] == ["waveform", "spectrogram-log", "ltas"]
    assert result.parameters["stft_n_fft"] == 1024


def test_loudness_is_none_for_a_clip_too_short_to_measure():
    result = Overview().run(Clip.from_array(np.full(1600, 0.1), 16000))
    assert result.measurements["integrated_loudness_lufs"] is None


def test_silence_has_a_floor_not_minus_infinity():
    result = Overview().run(Clip.from_array(np.zeros(16000), 16000))
    assert result.measurements["peak_dbfs"] == -200.0
    assert result.measurements["crest_factor_db"] is None
