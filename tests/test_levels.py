import numpy as np
import pytest

from workbench.analyses.levels import Levels
from conftest import clip_of, flagged, lands_near
from workbench.material import plant
from fixtures import scenes
from workbench.core.clip import Clip
from workbench.core.errors import ParameterError

RATES = [16000, 44100]


@pytest.mark.parametrize("rate", RATES)
def test_planted_level_artifacts_are_found_where_they_were_planted(rate):
    fixture = scenes.level_artifacts(seed=5, sample_rate_hz=rate)
    result = Levels().run(clip_of(fixture))
    assert result.status == "ok"
    for planted in fixture.truth:
        hits = flagged(result, planted.kind)
        assert lands_near(hits, planted), (planted, hits)
    # Each kind flagged exactly once: nothing extra around the planted places.
    for kind in ("digital_silence", "clipping", "dc_offset_change"):
        assert len(flagged(result, kind)) == 1, [f for f in result.findings if f.flagged]


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("channels", [1, 2])
def test_clean_recording_raises_no_flag(rate, channels):
    result = Levels().run(clip_of(scenes.clean(seed=6, sample_rate_hz=rate, channels=channels)))
    assert [f for f in result.findings if f.flagged] == []
    assert result.measurements["clipped_samples"] == 0
    assert result.measurements["digital_silence_runs"] == 0


def test_dc_step_location_and_size():
    fixture = scenes.clean(seed=8, duration_s=16.0, sample_rate_hz=16000)
    samples, planted = plant.dc_step(fixture.samples, 16000, at_s=9.0, offset=0.01)
    result = Levels().run(clip_of(scenes.Fixture(samples, 16000)))
    (step,) = flagged(result, "dc_offset_change")
    assert abs(step.start_s - planted.start_s) <= 0.5
    assert step.details["step"] == pytest.approx(0.01, rel=0.2)


def test_silence_at_the_edges_is_reported_but_not_flagged():
    fixture = scenes.clean(seed=9, duration_s=8.0, sample_rate_hz=16000)
    samples = fixture.samples.copy()
    samples[:1600] = 0.0  # 100 ms of leading digital zero, as left by trimming
    result = Levels().run(clip_of(scenes.Fixture(samples, 16000)))
    edge = [f for f in result.findings if f.kind == "digital_silence"]
    assert len(edge) == 1 and not edge[0].flagged and edge[0].start_s == 0.0


def test_near_zero_silence_counts_but_quiet_room_tone_does_not():
    fixture = scenes.clean(seed=10, duration_s=8.0, sample_rate_hz=16000)
    samples = fixture.samples.copy()
    samples[48000:52000] = 1e-5  # -100 dBFS: below one 16-bit step
    result = Levels().run(clip_of(scenes.Fixture(samples, 16000)))
    (hit,) = flagged(result, "digital_silence")
    assert hit.start_s == pytest.approx(3.0, abs=0.01)
    assert hit.details["exact_zero"] is False


def test_bad_parameters_raise_parameter_error():
    with pytest.raises(ParameterError):
        Levels(min_silence_s=0)
    with pytest.raises(ParameterError):
        Levels(clip_tolerance=0.5)


def test_parameters_are_recorded_from_the_signature():
    params = Levels(min_silence_s=0.05).parameters()
    assert params["min_silence_s"] == 0.05
    assert "dc_window_s" in params


def test_nonfinite_samples_are_counted_and_neutralised():
    samples = np.zeros((16000, 1), dtype=np.float32)
    samples[100:110] = np.nan
    result = Levels().run(clip_of(scenes.Fixture(samples, 16000)))
    assert result.measurements["nonfinite_samples"] == 10


def test_exact_zero_reached_from_near_silence_is_listed_not_flagged(rng):
    """A noise gate: the tone fades to a few LSB, then exact zero, then resumes. Real telephone
    prompts are full of these (220 runs in 34 minutes of genuine prompts, none with sound on
    both sides); a dropout inside sound is flagged."""
    sr = 8000
    t = np.arange(sr * 6) / sr
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 10 ** (-50 / 20) * rng.standard_normal(t.size)
    fade = np.linspace(1, 0, int(0.05 * sr)) ** 4
    gate = slice(int(2.0 * sr), int(2.3 * sr))
    x[gate.start - fade.size : gate.start] *= fade * 1e-3
    x[gate] = 0.0
    x[int(4.0 * sr) : int(4.1 * sr)] = 0.0  # a dropout in the middle of the tone
    result = Levels().run(Clip.from_array(x, sr))
    silences = [f for f in result.findings if f.kind == "digital_silence"]
    assert [f.flagged for f in silences] == [False, True]
    assert 1.95 <= silences[0].start_s <= 2.0 and abs(silences[1].start_s - 4.0) < 0.001
    assert "noise gate" in silences[0].summary and "sound on both sides" in silences[1].summary
