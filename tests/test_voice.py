import numpy as np
import pytest
from scipy import signal

import analyses.voice as voice_module
from analyses.voice import PIECE_S, Voice, ltas_bands
from conftest import clip_of
from fixtures import scenes
from workbench.clip import Clip
from workbench.errors import ParameterError
from workbench.resample import mono_pieces


@pytest.fixture(scope="module")
def speaker_results():
    return {name: Voice().run(clip_of(scenes.speaker(name, seed=31, duration_s=20.0)))
            for name in scenes.SPEAKERS}


@pytest.mark.parametrize("name", sorted(scenes.SPEAKERS))
def test_f0_median_lands_on_the_generators_f0(speaker_results, name):
    result = speaker_results[name]
    assert result.status == "ok", result.message
    expected = scenes.SPEAKERS[name].f0_hz
    assert abs(result.measurements["f0_median_hz"] - expected) / expected < 0.1
    assert 0.3 < result.measurements["voiced_fraction"] < 0.9


def test_two_speakers_differ_in_f0_and_formants(speaker_results):
    a, b = speaker_results["a"].measurements, speaker_results["b"].measurements
    assert 12 * np.log2(b["f0_median_hz"] / a["f0_median_hz"]) > 6
    # Speaker b's vocal tract is 15 % shorter: every formant moves up.
    for k in (1, 2, 3):
        assert b[f"f{k}_median_hz"] > a[f"f{k}_median_hz"] * 1.05, k


def test_measures_are_in_their_plausible_ranges(speaker_results):
    m = speaker_results["a"].measurements
    assert 0 < m["jitter_local_pct"] < 5 and 0 < m["shimmer_local_pct"] < 20
    assert 5 < m["hnr_db"] < 40
    assert m["pause_count"] >= 5 and 0.25 <= m["pause_median_s"] < 1.5
    assert 0.5 < m["voiced_segments_per_s"] < 5
    assert abs(sum(m["f0_histogram"]) - 1) < 1e-9
    assert len(m["ltas_band_hz"]) == len(m["ltas_db"])


def test_pieces_give_the_same_voice_as_one_pass(monkeypatch):
    clip = clip_of(scenes.speaker("a", seed=32, duration_s=24.0))
    whole = Voice().run(clip).measurements
    monkeypatch.setattr(voice_module, "PIECE_S", 7.0)
    pieced = Voice().run(clip).measurements
    assert abs(pieced["f0_median_hz"] - whole["f0_median_hz"]) < 1.0
    assert abs(pieced["jitter_local_pct"] - whole["jitter_local_pct"]) < 0.15
    assert abs(pieced["voiced_s"] - whole["voiced_s"]) < 0.5


def test_no_voice_is_skipped_with_the_reason(rng):
    noise = rng.standard_normal(16000 * 5) * 0.05
    result = Voice().run(Clip.from_array(noise, 16000))
    assert result.status == "skipped" and "voiced" in result.message


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError):
        Voice(pitch_floor_hz=300, pitch_ceiling_hz=200)


def test_ltas_of_a_lowpassed_signal_falls_above_the_cutoff(rng):
    noise = rng.standard_normal(16000 * 10)
    low = signal.sosfilt(signal.butter(8, 1000, fs=16000, output="sos"), noise)
    centres, ltas = ltas_bands(Clip.from_array(low, 16000).spectrogram)
    assert ltas[centres < 800].min() > ltas[centres > 2500].max() + 20


@pytest.mark.parametrize("rate, seconds, sizes_s", [(8000, 7, [2, 2, 2, 1]), (44100, 7, [2, 2, 2, 1]),
                                                    (44100, 6.5, [2, 2, 2.5]), (16000, 4.002, [2, 2.002])])
def test_mono_pieces_join_into_the_whole_resampled_signal(rng, rate, seconds, sizes_s):
    """Pieces tile the clip; a remainder under half a piece joins the last one."""
    x = rng.standard_normal((int(rate * seconds) + 123 * (seconds == 7), 2)).astype(np.float32)
    clip = Clip.from_array(x, rate)
    pieces = list(mono_pieces(clip, 16000, piece_s=2.0))
    joined = np.concatenate([y for _, y in pieces])
    whole = signal.resample_poly(x.astype(np.float64).mean(axis=1), *_ratio(rate))
    assert joined.size == whole.size
    assert [round(y.size / min(rate, 16000), 2) for _, y in pieces] == pytest.approx(sizes_s, abs=0.03)
    assert [round(s, 3) for s, _ in pieces[:2]] == [0.0, 2.0]
    # Away from the clip's own ends the pieces match the one-pass resampling closely.
    middle = slice(100, -100)
    assert np.max(np.abs(joined[middle] - whole[middle])) < 1e-3 * np.max(np.abs(whole))


def _ratio(rate):
    from math import gcd

    if rate <= 16000:
        return 1, 1
    g = gcd(16000, rate)
    return 16000 // g, rate // g


def test_a_clip_just_over_a_piece_long_is_measured():
    """One minute and 45 ms (an AAC file's priming and padding on a one-minute recording): the
    45 ms used to be a piece of its own, too short for Praat, and the voice analysis failed."""
    fixture = scenes.speaker("a", seed=76, duration_s=PIECE_S + 0.045)
    result = Voice().run(clip_of(fixture))
    assert result.status == "ok"
    assert abs(result.measurements["f0_median_hz"] - scenes.SPEAKERS["a"].f0_hz) < 15
