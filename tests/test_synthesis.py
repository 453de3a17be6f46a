import hashlib
from importlib import resources

import numpy as np
import pytest

from analyses.synthesis import SOURCE_COMMIT, VENDOR, WINDOW_SAMPLES, Synthesis
from conftest import clip_of
from fixtures import scenes
from workbench.clip import Clip
from workbench.errors import ParameterError

torch = pytest.importorskip("torch")


def test_vendored_files_match_their_recorded_sha256_and_keep_their_licence():
    folder = resources.files(VENDOR[0]).joinpath(VENDOR[1])
    listed = [line.split() for line in folder.joinpath("SHA256SUMS").read_text().splitlines()]
    for digest, name in listed:
        assert hashlib.sha256(folder.joinpath(name).read_bytes()).hexdigest() == digest, name
    vendored = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert vendored - {name for _, name in listed} == {"LICENSE", "NOTICE", "PROVENANCE.md", "SHA256SUMS"}
    assert "MIT" in folder.joinpath("LICENSE").read_text()
    assert SOURCE_COMMIT in folder.joinpath("PROVENANCE.md").read_text()


@pytest.fixture(scope="module")
def speech_result():
    return Synthesis().run(clip_of(scenes.speaker("a", seed=41, duration_s=30.0)))


def test_windows_with_speech_are_scored_and_the_model_is_recorded(speech_result):
    m = speech_result.measurements
    assert speech_result.status == "ok", speech_result.message
    assert m["windows_scored"] == 7  # 30 s: seven whole 4.04-s windows, all sounding
    assert np.isfinite(m["countermeasure_score"]) and m["countermeasure_model"] == "AASIST-L"
    weights = resources.files(VENDOR[0]).joinpath(VENDOR[1], "models", "weights", "AASIST-L.pth")
    assert speech_result.parameters["model_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    track = speech_result.tracks[0]
    assert track.times_s[0] == pytest.approx(WINDOW_SAMPLES / 16000 / 2)
    assert speech_result.findings == []  # a score, never a flag or a verdict


def test_at_most_max_windows_are_scored_spread_over_the_speech():
    result = Synthesis(max_windows=3).run(clip_of(scenes.speaker("a", seed=41, duration_s=30.0)))
    times = result.tracks[0].times_s
    assert result.measurements["windows_scored"] == 3 and times[0] < 5 and times[-1] > 20


def test_silent_windows_are_not_scored(rng):
    x = np.concatenate([rng.standard_normal(16000 * 8) * 0.1, np.zeros(16000 * 9)])
    result = Synthesis().run(Clip.from_array(x, 16000))
    assert result.measurements["windows_scored"] == 2
    assert Synthesis().run(Clip.from_array(np.zeros(16000 * 9), 16000)).status == "skipped"


def test_a_user_checkpoint_is_hashed_and_a_pickled_object_is_refused(tmp_path, speech_result):
    bundled = resources.files(VENDOR[0]).joinpath(VENDOR[1], "models", "weights", "AASIST-L.pth")
    state = torch.load(str(bundled), map_location="cpu", weights_only=True)
    mine = tmp_path / "mine.pth"
    torch.save(state, mine)
    clip = clip_of(scenes.speaker("a", seed=41, duration_s=30.0))
    result = Synthesis(model=str(mine)).run(clip)
    assert result.parameters["model_sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    assert result.parameters["model_source"] == "user checkpoint"
    assert result.measurements["countermeasure_score"] == pytest.approx(
        speech_result.measurements["countermeasure_score"], abs=1e-4)
    hostile = tmp_path / "hostile.pth"
    torch.save({"payload": Synthesis}, hostile)  # a class: only a full unpickler would build it
    with pytest.raises(ParameterError, match="weights_only"):
        Synthesis(model=str(hostile)).run(clip)


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError):
        Synthesis(architecture="RawNet9")
    with pytest.raises(ParameterError):
        Synthesis(max_windows=0)
