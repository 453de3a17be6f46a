import numpy as np
import pytest

from workbench.analyses.noise_floor import NoiseFloor
from conftest import clip_of, flagged, lands_near
from workbench.material import plant
from fixtures import scenes
from workbench.core.clip import Clip


@pytest.mark.parametrize("rate, level_dbfs", [(16000, -50.0), (44100, -45.0)])
def test_inserted_noisier_stretch_is_found_at_both_edges(rate, level_dbfs):
    fixture = scenes.clean(seed=61, duration_s=30.0, sample_rate_hz=rate)
    samples, truths = plant.noise_floor_change(fixture.samples, rate, start_s=11.3, length_s=8.0,
                                               level_dbfs=level_dbfs)
    result = NoiseFloor().run(clip_of(scenes.Fixture(samples, rate)))
    hits = flagged(result, "noise_floor_change")
    assert len(hits) == 2, hits
    for truth in truths:
        assert lands_near(hits, truth, tolerance_s=1.0), (truth, hits)
    up, down = sorted(hits, key=lambda f: f.start_s)
    assert up.details["step_db"] > 5 and down.details["step_db"] < -5


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
@pytest.mark.parametrize("seed", [62, 63])
def test_clean_background_raises_no_flag(rate, seed):
    result = NoiseFloor().run(clip_of(scenes.clean(seed=seed, duration_s=30.0, sample_rate_hz=rate)))
    assert flagged(result, "noise_floor_change") == []
    # The room tone is -62 dBFS over the whole band; the bands measured hold most of it.
    assert -68 < result.measurements["noise_floor_dbfs_median"] < -56


def test_silence_is_skipped():
    assert NoiseFloor().run(Clip.from_array(np.zeros(48000), 16000)).status == "skipped"


@pytest.mark.parametrize("rate", [16000, 48000])
def test_noisier_stretch_under_continuous_music_is_found(rate):
    """No pauses: the background is read between the notes' harmonics."""
    from workbench.material.synth import recording

    base = recording(seed=64, duration_s=30.0, sample_rate_hz=rate, content="tonal").samples
    samples, truths = plant.noise_floor_change(base, rate, start_s=9.0, length_s=10.0, level_dbfs=-52.0)
    hits = flagged(NoiseFloor().run(clip_of(scenes.Fixture(samples, rate))), "noise_floor_change")
    assert len(hits) == 2 and all(lands_near(hits, truth, tolerance_s=1.0) for truth in truths), hits
    assert flagged(NoiseFloor().run(clip_of(scenes.Fixture(base, rate))), "noise_floor_change") == []


@pytest.mark.parametrize("bands, panels", [(2, 2), (1, 1)])
def test_per_band_panel_only_when_there_are_bands_to_tell_apart(bands, panels):
    clip = clip_of(scenes.clean(seed=65, duration_s=20.0, sample_rate_hz=16000))
    result = NoiseFloor(bands=bands, low_hz=1000.0, high_hz=4000.0).run(clip)
    assert len(result.measurements["band_edges_hz"]) == bands
    assert len(result.figures[0].figure.axes) == panels


def test_the_same_room_reads_the_same_in_the_bands_two_rates_share():
    """Band edges do not follow the sample rate: an 8 kHz clip's bands are the 48 kHz clip's
    lower bands (its top one cut below Nyquist), and their backgrounds agree."""
    low, high = (NoiseFloor().run(clip_of(scenes.clean(seed=66, duration_s=30.0, sample_rate_hz=rate)))
                 .measurements for rate in (8000, 48000))
    shared = [band for band in low["band_edges_hz"] if band in high["band_edges_hz"]]
    assert len(shared) >= 2 and low["band_edges_hz"][-1][1] <= 3600
    for band in shared:
        a = low["band_floor_dbfs_median"][low["band_edges_hz"].index(band)]
        b = high["band_floor_dbfs_median"][high["band_edges_hz"].index(band)]
        assert abs(a - b) < 2.0, (band, a, b)
