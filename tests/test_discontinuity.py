import numpy as np
import pytest

from analyses.discontinuity import Discontinuity, spike_scores
from conftest import clip_of, flagged
from fixtures import plant, scenes


def splice_with_jump(fixture, at_s):
    """Butt-splice at ``at_s``, choosing the removed length (0.05-0.5 s) that gives the largest jump."""
    sr = fixture.sample_rate_hz
    start = int(at_s * sr)
    lengths = np.arange(int(0.05 * sr), int(0.5 * sr))
    jumps = np.abs(fixture.samples[start + lengths, 0] - fixture.samples[start - 1, 0])
    return plant.butt_splice(fixture.samples, sr, at_s=at_s, remove_s=lengths[np.argmax(jumps)] / sr)


@pytest.mark.parametrize("rate", [16000, 44100])
def test_butt_splice_is_found_at_its_sample(rate):
    fixture = scenes.clean(seed=51, duration_s=16.0, sample_rate_hz=rate)
    at_s = scenes._inside_phrase(scenes.recording_phrases(fixture), 8.0)
    samples, truth = splice_with_jump(fixture, at_s)
    result = Discontinuity().run(clip_of(scenes.Fixture(samples, rate)))
    (hit,) = flagged(result, "discontinuity")
    assert abs(hit.start_s - truth.start_s) < 0.002
    assert hit.details["sample"] in range(int(at_s * rate) - 2, int(at_s * rate) + 3)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_clean_speech_has_no_break(rate):
    result = Discontinuity().run(clip_of(scenes.clean(seed=52, duration_s=30.0, sample_rate_hz=rate)))
    assert flagged(result, "discontinuity") == []


def test_a_click_in_a_pause_is_found_and_periodic_pulses_are_not():
    sr = 16000
    t = np.arange(sr * 4) / sr
    pulses = np.zeros_like(t)
    pulses[::160] = 0.5  # 100 Hz impulse train for the first two seconds: spikes, but not alone
    pulses[sr * 2:] = 0
    noise = np.random.default_rng(0).normal(0, 1e-3, t.size)
    signal = pulses + noise
    signal[int(3.2 * sr)] += 0.2
    result = Discontinuity().run(clip_of(scenes.Fixture(signal[:, None].astype(np.float32), sr)))
    hits = flagged(result, "discontinuity")
    assert [round(h.start_s, 3) for h in hits] == [3.2]


def test_spike_scores_of_a_step():
    x = np.zeros(2000)
    x[1000:] = 1.0
    score, uniqueness, spike = spike_scores(x + np.random.default_rng(1).normal(0, 1e-3, 2000), context=100, guard=2)
    assert np.argmax(score) in (1000, 1001) and uniqueness[np.argmax(score)] > 10
