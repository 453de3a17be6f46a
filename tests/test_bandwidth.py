import numpy as np
import pytest
from scipy import signal

from workbench.analyses.bandwidth import Bandwidth, apparent_original_rate
from conftest import clip_of, flagged, lands_near
from workbench.material import plant
from fixtures import scenes
from workbench.core.clip import Clip
from workbench.evidence import open_evidence
from workbench.material.media import write_with_pyav


@pytest.mark.parametrize("rate", [16000, 44100])
def test_narrow_band_insert_is_found_at_both_edges(rate):
    fixture = scenes.clean(seed=41, duration_s=20.0, sample_rate_hz=rate)
    samples, truths = plant.band_limit(fixture.samples, rate, start_s=6.2, length_s=5.0, cutoff_hz=rate / 4)
    result = Bandwidth().run(clip_of(scenes.Fixture(samples, rate)))
    hits = flagged(result, "bandwidth_change")
    assert len(hits) == 2
    for truth in truths:
        assert lands_near(hits, truth, tolerance_s=1.0), (truth, hits)
    assert hits[0].details["after_hz"] == pytest.approx(rate / 4, rel=0.1)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_clean_recording_fills_its_band_and_raises_no_flag(rate):
    result = Bandwidth().run(clip_of(scenes.clean(seed=42, sample_rate_hz=rate)))
    assert flagged(result, "bandwidth_change") == []
    m = result.measurements
    assert m["effective_bandwidth_hz"] == rate / 2
    assert m["lossy_history"] is False and m["apparent_original_rate_hz"] is None


def test_mp3_carries_a_lossy_signature_whatever_the_container(tmp_path):
    fixture = scenes.clean(seed=43, duration_s=12.0, sample_rate_hz=44100)
    path = write_with_pyav(tmp_path / "call.mp3", fixture.samples[:, 0], 44100, codec="libmp3lame",
                           bit_rate=64000)
    result = Bandwidth().run(open_evidence(path))
    m = result.measurements
    assert m["lossy_history"] is True
    assert 11000 < m["lossy_cutoff_hz"] < 20500
    assert flagged(result, "bandwidth_change") == []


def test_upsampled_audio_shows_its_original_rate():
    low = scenes.clean(seed=44, duration_s=12.0, sample_rate_hz=16000).samples
    steep = signal.ellip(12, 0.1, 100, 7600, "lowpass", fs=16000, output="sos")
    up = signal.resample_poly(signal.sosfiltfilt(steep, low, axis=0), 441, 160, axis=0)
    result = Bandwidth().run(Clip.from_array(up.astype(np.float32), 44100))
    assert result.measurements["apparent_original_rate_hz"] == 16000
    assert result.measurements["lossy_history"] is False
    assert [f.kind for f in result.findings] == ["upsampled"]


@pytest.mark.parametrize("cutoff, rate, expected", [(7600, 44100, 16000), (3900, 48000, 8000),
                                                    (None, 44100, None), (13000, 44100, None)])
def test_apparent_original_rate(cutoff, rate, expected):
    assert apparent_original_rate(cutoff, rate) == expected


def test_silence_is_skipped():
    result = Bandwidth().run(Clip.from_array(np.zeros(16000), 16000))
    assert result.status == "skipped"
