import numpy as np
import pytest

from workbench.analyses.channels import Channels
from workbench.core.clip import Clip
from conftest import clip_of, flagged, lands_near
from workbench.material import plant
from fixtures import scenes


@pytest.mark.parametrize("rate", [16000, 48000])
def test_inverted_stretch_is_found_where_planted(rate):
    fixture = scenes.clean(seed=11, duration_s=16.0, sample_rate_hz=rate, channels=2)
    samples, planted = plant.polarity_inversion(fixture.samples, rate, start_s=7.0, length_s=3.0)
    result = Channels().run(clip_of(scenes.Fixture(samples, rate)))
    hits = flagged(result, "polarity_inversion")
    assert len(hits) == 1 and lands_near(hits, planted)
    assert abs(hits[0].start_s - 7.0) <= 0.5 and abs(hits[0].end_s - 10.0) <= 0.5


@pytest.mark.parametrize("rate", [16000, 48000])
def test_clean_stereo_raises_no_flag(rate):
    result = Channels().run(clip_of(scenes.clean(seed=12, sample_rate_hz=rate, channels=2)))
    assert [f for f in result.findings if f.flagged] == []
    assert result.measurements["channel_correlation"] > 0.5
    assert result.measurements["dual_mono"] is False


def test_whole_clip_inversion_and_dual_mono():
    mono = scenes.clean(seed=13, duration_s=6.0, sample_rate_hz=16000).samples[:, 0]
    inverted = Channels().run(clip_of(scenes.Fixture(np.stack([mono, -mono], axis=1), 16000)))
    (hit,) = flagged(inverted, "polarity_inversion")
    assert hit.start_s == 0 and hit.end_s == pytest.approx(6.0, abs=0.01)
    assert inverted.measurements["channel_correlation"] == pytest.approx(-1.0)

    dual = Channels().run(clip_of(scenes.Fixture(np.stack([mono, mono], axis=1), 16000)))
    assert dual.measurements["dual_mono"] is True
    assert [f.kind for f in dual.findings] == ["dual_mono"] and not dual.findings[0].flagged


def test_mono_is_skipped_with_a_reason():
    result = Channels().run(clip_of(scenes.clean(seed=14, duration_s=3.0, sample_rate_hz=16000)))
    assert result.status == "skipped" and "single-channel" in result.message


def test_more_than_two_channels_give_a_matrix():
    fixture = scenes.clean(seed=15, duration_s=4.0, sample_rate_hz=16000, channels=4)
    result = Channels().run(clip_of(fixture))
    matrix = np.array(result.measurements["channel_correlation_matrix"])
    assert matrix.shape == (4, 4) and np.allclose(np.diag(matrix), 1.0)


def test_a_clip_read_in_many_blocks_reads_as_one(monkeypatch):
    """The clip is read block by block; 1-s blocks give the measures and the inverted stretch
    that one block over the whole clip gives."""
    from workbench.analyses import channels

    fixture = scenes.clean(seed=12, duration_s=20.0, sample_rate_hz=16000, channels=2)
    samples, truth = plant.polarity_inversion(fixture.samples, 16000, start_s=7.3, length_s=3.0)
    clip = Clip.from_array(samples, 16000)
    monkeypatch.setattr(channels, "BLOCK_S", 100)
    whole = Channels().run(clip)
    monkeypatch.setattr(channels, "BLOCK_S", 1)
    blocks = Channels().run(clip)
    for key in ("peak_dbfs_per_channel", "rms_dbfs_per_channel", "channel_correlation"):
        np.testing.assert_allclose(blocks.measurements[key], whole.measurements[key], atol=1e-9)
    assert [(f.start_s, f.end_s) for f in blocks.findings] == [(f.start_s, f.end_s) for f in whole.findings]
    assert len(blocks.findings) == 1 and abs(blocks.findings[0].start_s - truth.start_s) < 0.6
