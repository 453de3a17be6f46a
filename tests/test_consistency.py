"""The join detector: boundary comparisons, a detector fitted on joins, and the analysis."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from workbench.analyses.common.boundary_features import NAMES, band_levels, boundary_features
from workbench.analyses.common.steps import strongest_apart
from workbench.analyses.consistency import Consistency, JoinDetector, shipped_detector
from workbench.core.model import Finding
from conftest import clip_of, flagged
from fixtures import scenes
from workbench.core.errors import ParameterError
from workbench.core.params import InputFile
from workbench.material.synth import recording
from workbench.validation.joins import fit_detector
from workbench.validation.real import background_dbfs
from workbench.validation.real_material import Material

RATE = 16000
ROOMS = {"quiet": dict(room_dbfs=-62.0), "noisy": dict(room_dbfs=-38.0), "phone": dict(room_dbfs=-50.0)}


def _room(kind, seed, duration_s=20.0):
    """A recording of ``kind``: a quiet room, a noisy one, or a telephone band (8 kHz, resampled)."""
    if kind == "phone":
        x = recording(seed=seed, duration_s=duration_s, sample_rate_hz=8000, **ROOMS[kind]).samples[:, 0]
        return signal.resample_poly(x, 2, 1)[: int(duration_s * RATE)]
    return recording(seed=seed, duration_s=duration_s, sample_rate_hz=RATE, **ROOMS[kind]).samples[:, 0]


@pytest.fixture(scope="module")
def detector_file(tmp_path_factory):
    """A detector fitted on joins between generated rooms (the recipe of make validate)."""
    materials = []
    for k, kind in enumerate(ROOMS):
        for seed in (100 + k, 200 + k, 300 + k):
            mono = _room(kind, seed)
            materials.append(Material(Path(f"{kind}{seed}.wav"), kind, "tuning", RATE, mono.astype(np.float32),
                                      background_dbfs(mono[:, None], RATE)))
    detector, summary = fit_detector(materials)
    assert summary["edits"] > 20 and summary["auc_tuning"] > 0.8
    path = tmp_path_factory.mktemp("detector") / "join_detector.json"
    path.write_text(detector.to_json(training=summary))
    return path


def test_a_join_of_two_rooms_is_found_where_it_was_made_and_a_clean_recording_is_not(detector_file):
    analysis = Consistency(model=InputFile.read(detector_file))
    at_s = 9.0
    joined = np.concatenate([_room("quiet", 7)[: int(at_s * RATE)], _room("phone", 8)[int(3.0 * RATE):]])
    (hit,) = flagged(analysis.run(clip_of(scenes.Fixture(joined[:, None], RATE))), "channel_change")
    assert abs(hit.start_s - at_s) <= 0.5
    assert hit.details["join_score"] >= hit.details["threshold"] and 0 < hit.strength <= 1
    clean = analysis.run(clip_of(scenes.Fixture(_room("quiet", 9, duration_s=20.0)[:, None], RATE)))
    assert clean.status == "ok" and flagged(clean, "channel_change") == []
    assert clean.measurements["join_score_highest"] < clean.measurements["join_score_threshold"]


def test_digital_silence_is_never_a_side_and_a_short_clip_is_skipped():
    levels = np.full((500, 12), -130.0)
    levels[250:] = -40.0
    times = np.arange(500) * 0.016
    at_s, features = boundary_features(levels, times, side_s=3.0, step_s=0.1)
    assert at_s.size and at_s.min() >= 250 * 0.016 + 1.0 - 0.02  # every boundary has a second of sound before it
    assert features.shape == (at_s.size, 2 * len(NAMES))
    short = Consistency().run(clip_of(scenes.Fixture(np.zeros((RATE, 1)) + 0.01, RATE)))
    assert short.status == "skipped"


def test_band_levels_follow_the_clip_and_peaks_keep_apart():
    clip = clip_of(scenes.clean(seed=3, duration_s=4.0, sample_rate_hz=8000))
    levels, times = band_levels(clip.spectrogram)
    assert levels.shape[0] == times.size and levels.shape[1] == 15  # third octaves from 100 Hz to 3.6 kHz
    at = np.arange(10) * 1.0
    score = np.array([0, 5, 4.9, 0, 0, 0, 3, 0, 0, 6.0])
    above = [Finding("channel_change", t, t, 0.5, True, "", {"join_score": v}) for t, v in zip(at, score) if v >= 3.0]
    kept = strongest_apart(above, min_gap_s=2.5, by=lambda f: f.details["join_score"])
    assert [f.start_s for f in kept] == [1.0, 6.0, 9.0]  # 4.9 at 2 s yields to 5 at 1 s; time order


def test_a_detector_file_that_is_not_one_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    for text in ("not json", "[1, 2]", json.dumps({"format": "something else"}),
                 json.dumps({"format": "workbench-join-detector", "features": ["x"]})):
        bad.write_text(text)
        with pytest.raises(ParameterError, match="consistency.model: .*not a workbench-join-detector file"):
            Consistency(model=InputFile.read(bad))
    _, shipped = shipped_detector()
    assert isinstance(shipped, JoinDetector) and shipped.threshold > 0 and shipped.fitted_on


def test_the_fast_percentile_is_numpys_with_nan_left_out(rng):
    from workbench.analyses.common.boundary_features import _nanpercentile

    a = rng.normal(size=(30, 40, 5))
    a[rng.random(a.shape) < 0.3] = np.nan
    a[4] = np.nan  # a window with no live frame at all
    with pytest.warns(RuntimeWarning):  # NumPy's, on the window without a live frame
        expected = np.nanpercentile(a, 5.0, axis=1), np.nanpercentile(a[:, :, 0], 50.0, axis=1)
    assert np.allclose(_nanpercentile(a, 5.0), expected[0], equal_nan=True)
    assert np.allclose(_nanpercentile(a[:, :, 0], 50.0), expected[1], equal_nan=True)
