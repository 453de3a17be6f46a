import numpy as np
import pyloudnorm
import pytest

from fixtures import scenes
from workbench.analyses.common.loudness import integrated_loudness


def blocks_of(x, size):
    return (x[i : i + size] for i in range(0, len(x), size))


@pytest.mark.parametrize("rate, channels", [(16000, 1), (44100, 2), (48000, 5)])
def test_blockwise_loudness_matches_pyloudnorm(rate, channels):
    x = scenes.clean(seed=91, duration_s=12.0, sample_rate_hz=rate, channels=channels).samples.astype(np.float64)
    expected = pyloudnorm.Meter(rate).integrated_loudness(x)
    for size in (rate * 60, 12345):  # one block, and blocks that do not align with the 100 ms steps
        assert integrated_loudness(blocks_of(x, size), rate) == pytest.approx(expected, abs=0.05)


def test_undefined_cases():
    assert integrated_loudness(blocks_of(np.zeros((16000, 1)), 4000), 16000) is None  # silent
    assert integrated_loudness(blocks_of(np.ones((3000, 1)) * 0.1, 4000), 16000) is None  # < 400 ms
    assert integrated_loudness(blocks_of(np.ones((16000, 6)) * 0.1, 4000), 16000) is None  # 6 channels


def test_the_callers_audio_is_not_filtered_in_place():
    x = scenes.clean(seed=92, duration_s=3.0, sample_rate_hz=16000).samples.astype(np.float64)
    before = x.copy()
    integrated_loudness(blocks_of(x, 4000), 16000)
    np.testing.assert_array_equal(x, before)
