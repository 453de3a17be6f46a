import numpy as np
import pytest

from scipy import signal

from workbench.analyses.discontinuity import Discontinuity, spike_scores, step_errors
from conftest import clip_of, flagged
from workbench.material import plant
from workbench.material.scene import inside_phrase, recording_phrases
from fixtures import scenes


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
    at_s = inside_phrase(recording_phrases(fixture), 8.0)
    samples, truth = splice_with_jump(fixture, at_s)
    result = Discontinuity().run(clip_of(scenes.Fixture(samples, rate)))
    (hit,) = flagged(result, "discontinuity")
    assert abs(hit.start_s - truth.start_s) < 0.002
    assert hit.details["sample"] in range(int(at_s * rate) - 2, int(at_s * rate) + 3)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_clean_speech_has_no_break(rate):
    result = Discontinuity().run(clip_of(scenes.clean(seed=52, duration_s=30.0, sample_rate_hz=rate)))
    assert flagged(result, "discontinuity") == []


def test_a_step_in_a_pause_is_found_and_ringing_pulses_and_a_click_are_not():
    sr = 16000
    t = np.arange(sr * 4) / sr
    pulses = np.zeros_like(t)
    pulses[: sr * 2 : 160] = 1.0  # 100 Hz excitation for two seconds, each ringing like a formant
    r, theta = np.exp(-np.pi * 100 / sr), 2 * np.pi * 700 / sr
    voiced = signal.lfilter([0.1], [1, -2 * r * np.cos(theta), r * r], pulses)
    noise = np.random.default_rng(0).normal(0, 1e-3, t.size)
    x = voiced + noise
    x[int(2.5 * sr)] += 0.3  # a one-sample click: up and straight down again, not a step
    x[int(3.2 * sr):] += 0.1  # a step that stays
    result = Discontinuity().run(clip_of(scenes.Fixture(x[:, None].astype(np.float32), sr)))
    assert [round(h.start_s, 3) for h in flagged(result, "discontinuity")] == [3.2]


def test_step_errors_peak_at_a_step_and_agree_with_its_size():
    x = np.random.default_rng(1).normal(0, 1e-3, 4000)
    x[2000:] += 0.05
    steps = step_errors(x, order=8, frame=320)
    score, uniqueness, size = spike_scores(steps, context=200, guard=4)
    assert np.argmax(score) == 2000 and uniqueness[2000] > 10
    assert size[2000] == pytest.approx(0.05, rel=0.2)


def test_findings_do_not_depend_on_where_the_pieces_fall(monkeypatch):
    """The predictor's frames follow the clip, not the piece: 7-s pieces give the 30-s findings."""
    import workbench.analyses.discontinuity as module

    rate = 16000
    fixture = scenes.clean(seed=53, duration_s=24.0, sample_rate_hz=rate)
    samples, truth = splice_with_jump(fixture, inside_phrase(recording_phrases(fixture), 14.2))
    clip = clip_of(scenes.Fixture(samples, rate))
    whole = Discontinuity().run(clip)
    monkeypatch.setattr(module, "SCAN_PIECE_S", 7.0)
    pieces = Discontinuity().run(clip)
    assert [(f.details["sample"], round(f.details["score"], 6)) for f in pieces.findings] == \
        [(f.details["sample"], round(f.details["score"], 6)) for f in whole.findings]
    assert any(f.flagged and abs(f.start_s - truth.start_s) < 0.002 for f in whole.findings)
