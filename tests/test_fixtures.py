import json

import numpy as np

from workbench.material import plant
from fixtures import scenes
from workbench.material.synth import Voice, recording


def test_generation_is_seeded_and_reproducible():
    a = recording(seed=5, duration_s=3.0, sample_rate_hz=8000)
    b = recording(seed=5, duration_s=3.0, sample_rate_hz=8000)
    c = recording(seed=6, duration_s=3.0, sample_rate_hz=8000)
    assert np.array_equal(a.samples, b.samples) and not np.array_equal(a.samples, c.samples)


def test_speech_sits_in_phrases_with_pauses_between():
    rec = recording(seed=5, duration_s=10.0, sample_rate_hz=16000, mains_hz=None)
    x, sr = rec.samples[:, 0], 16000
    inside = np.concatenate([x[int(a * sr):int(b * sr)] for a, b in rec.phrases_s])
    gaps = [(b1, a2) for (_, b1), (a2, _) in zip(rec.phrases_s, rec.phrases_s[1:])]
    between = np.concatenate([x[int(a * sr) + 800:int(b * sr) - 800] for a, b in gaps])
    assert len(rec.phrases_s) >= 3
    assert 20 * np.log10(np.sqrt(np.mean(inside**2))) > -26
    assert 20 * np.log10(np.sqrt(np.mean(between**2))) < -55


def test_voice_f0_shows_in_the_spectrum():
    rec = recording(seed=1, duration_s=6.0, sample_rate_hz=16000, voice=Voice(f0_hz=200.0), mains_hz=None)
    spectrum = np.abs(np.fft.rfft(rec.samples[:, 0]))
    freqs = np.fft.rfftfreq(rec.samples.shape[0], 1 / 16000)
    band = (freqs > 120) & (freqs < 300)
    assert 170 < freqs[band][np.argmax(spectrum[band])] < 240


def test_mains_hum_is_at_the_mains_frequency():
    rec = recording(seed=1, duration_s=6.0, sample_rate_hz=8000, mains_hz=60.0)
    spectrum = np.abs(np.fft.rfft(rec.samples[:, 0]))
    freqs = np.fft.rfftfreq(rec.samples.shape[0], 1 / 8000)
    low = (freqs > 40) & (freqs < 75)
    assert abs(freqs[low][np.argmax(spectrum[low])] - 60.0) < 0.5


def test_planting_does_not_touch_the_input_and_reports_truth():
    x = np.ones((1000, 2), dtype=np.float32)
    y, truth = plant.digital_silence(x, 100, start_s=2.0, length_s=1.0)
    assert x.min() == 1.0 and not y[200:300].any() and y[300:].all()
    assert (truth.kind, truth.start_s, truth.end_s) == ("digital_silence", 2.0, 3.0)


def test_written_fixture_has_its_truth_beside_it(tmp_path):
    path = scenes.level_artifacts(seed=2, duration_s=24.0, sample_rate_hz=8000).write(tmp_path / "a.wav")
    truth = json.loads((tmp_path / "a.wav.truth.json").read_text())
    assert [p["kind"] for p in truth["planted"]] == ["digital_silence", "clipping", "dc_offset_change"]
    assert path.stat().st_size > 24 * 8000 * 2
