from math import gcd

import numpy as np
import pytest
from scipy import signal

from workbench.analyses.common.resample import content_limit_hz, mono_pieces
from workbench.core.clip import Clip


def _ratio(rate_hz: int, target_hz: int) -> tuple[int, int]:
    common = gcd(target_hz, rate_hz)
    return target_hz // common, rate_hz // common


@pytest.mark.parametrize("rate, seconds, sizes_s", [(8000, 7, [2, 2, 2, 1]), (11025, 7, [2, 2, 2, 1]),
                                                    (44100, 7, [2, 2, 2, 1]), (44100, 6.5, [2, 2, 2.5]),
                                                    (16000, 4.002, [2, 2.002])])
def test_mono_pieces_join_into_the_whole_resampled_signal(rng, rate, seconds, sizes_s):
    """Pieces tile the clip at the rate asked for, below or above the clip's own; a remainder
    under half a piece joins the last one."""
    x = rng.standard_normal((int(rate * seconds) + 123 * (seconds == 7), 2)).astype(np.float32)
    clip = Clip.from_array(x, rate)
    pieces = list(mono_pieces(clip, 16000, piece_s=2.0))
    joined = np.concatenate([y for _, y in pieces])
    whole = signal.resample_poly(x.astype(np.float64).mean(axis=1), *_ratio(rate, 16000))
    assert joined.size == whole.size
    assert [round(y.size / 16000, 2) for _, y in pieces] == pytest.approx(sizes_s, abs=0.03)
    assert [round(s, 3) for s, _ in pieces[:2]] == [0.0, 2.0]
    # Away from the clip's own ends the pieces match the one-pass resampling closely.
    middle = slice(100, -100)
    assert np.max(np.abs(joined[middle] - whole[middle])) < 1e-3 * np.max(np.abs(whole))


@pytest.mark.parametrize("clip_rate, target, tone_hz", [(8000, 16000, 440.0), (48000, 16000, 440.0),
                                                         (400, 1000, 50.0), (8000, 1000, 50.0)])
def test_a_tone_keeps_its_frequency_at_any_clip_rate(clip_rate, target, tone_hz):
    """Samples are delivered at the rate asked for: a clip below it is upsampled, never passed
    through (an 8 kHz call read as 16 kHz doubled every frequency)."""
    t = np.arange(clip_rate * 6) / clip_rate
    clip = Clip.from_array(np.sin(2 * np.pi * tone_hz * t), clip_rate)
    y = np.concatenate([piece for _, piece in mono_pieces(clip, target, piece_s=2.0)])
    assert y.size == 6 * target
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    peak_hz = np.argmax(spectrum) * target / y.size
    assert abs(peak_hz - tone_hz) < 0.5


def test_content_limit_is_the_lower_nyquist_frequency():
    assert content_limit_hz(Clip.from_array(np.zeros(400), 400), 1000) == 200
    assert content_limit_hz(Clip.from_array(np.zeros(48000), 48000), 16000) == 8000


def test_pieces_not_wanted_are_skipped_and_the_others_unchanged(rng):
    clip = Clip.from_array(rng.standard_normal(44100 * 50).astype(np.float32), 44100)
    every = list(mono_pieces(clip, 16000, piece_s=10.0))
    some = list(mono_pieces(clip, 16000, piece_s=10.0, wanted=lambda lo, hi: lo <= 25.0 < hi or lo >= 40.0))
    assert [s for s, _ in some] == [20.0, 40.0]
    for start, y in some:
        np.testing.assert_array_equal(y, dict(every)[start])
