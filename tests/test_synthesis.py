import hashlib
import json
from importlib import resources

import numpy as np
import pytest

from workbench.analyses.common import countermeasures as cm
from workbench.analyses.common import onnx_models
from workbench.analyses.synthesis import BACKEND, WINDOW_S, Synthesis, _backend
from conftest import clip_of
from fixtures import scenes
from workbench.core.clip import Clip
from workbench.core.errors import ParameterError


@pytest.mark.parametrize("folder", sorted({m.folder for m in cm.MODELS}))
def test_vendored_files_match_their_recorded_sha256_and_keep_their_licence(folder):
    root = resources.files("workbench.analyses").joinpath(folder)
    listed = [line.split() for line in root.joinpath("SHA256SUMS").read_text().splitlines()]
    for digest, name in listed:
        assert hashlib.sha256(root.joinpath(name).read_bytes()).hexdigest() == digest, name
    vendored = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert vendored - {name for _, name in listed} <= {"LICENSE", "NOTICE", "PROVENANCE.md", "SHA256SUMS"}
    assert "MIT" in root.joinpath("LICENSE").read_text()
    commit = next(m.source for m in cm.MODELS if m.folder == folder).split("@")[1]
    assert commit in root.joinpath("PROVENANCE.md").read_text()


def test_the_shipped_backend_names_what_it_was_fitted_on_and_its_models():
    data = json.loads(resources.files(BACKEND[0]).joinpath(BACKEND[1], BACKEND[2]).read_bytes())
    assert data["models"] == {m.name: cm.weights_file(m).sha256 for m in cm.MODELS}
    assert {r["label"] for r in data["fitted_on"]} == {"genuine", "synthetic"}
    assert all(len(r["sha256"]) == 64 for r in data["fitted_on"])
    fitted_families = {r["family"] for r in data["fitted_on"] if r["label"] == "synthetic"}
    assert fitted_families == set(data["families"])


@pytest.fixture(scope="module")
def speech_result():
    return Synthesis().run(clip_of(scenes.speaker("a", seed=41, duration_s=30.0)))


def test_windows_with_speech_are_scored_by_every_model_and_the_backend(speech_result):
    m = speech_result.measurements
    assert speech_result.status == "ok", speech_result.message
    assert m["windows_scored"] == 4  # max_windows of the seven whole windows, spread
    assert set(m["model_scores"]) == {model.name for model in cm.MODELS}
    assert all(np.isfinite(v) for v in m["model_scores"].values())
    for row in m["window_scores"]:
        assert row["end_s"] - row["start_s"] == pytest.approx(WINDOW_S)
        assert {model.name for model in cm.MODELS} <= set(row)
    assert m["countermeasure_score"] == pytest.approx(np.mean([r["score"] for r in m["window_scores"]]))
    for model in cm.MODELS:
        assert speech_result.parameters["models"][model.name]["sha256"] == cm.weights_file(model).sha256
    file, backend = _backend()
    assert m["countermeasure_backend"]["sha256"] == file.sha256 == speech_result.parameters["backend_sha256"]
    assert m["countermeasure_backend"]["fitted_on_recordings"] == len(backend.fitted_on)
    assert speech_result.tracks[0].label == "countermeasure score"
    assert len(speech_result.tracks) == 1 + len(cm.MODELS)
    assert speech_result.findings == []  # a score, never a flag or a verdict


def test_the_backend_score_is_its_logistic_model_on_the_windows_outputs(speech_result):
    """Recompute the back-end by hand from the models' own outputs on the same windows."""
    _, backend = _backend()
    clip = clip_of(scenes.speaker("a", seed=41, duration_s=30.0))
    from workbench.analyses.common.windows import sounding_windows

    starts, windows = sounding_windows(clip, cm.RATE_HZ, cm.WINDOW_SAMPLES, max_windows=4, below_db=30.0,
                                       shortest_samples=cm.WINDOW_SAMPLES // 2 + 1, pad=True)
    outputs = {}
    for model in cm.MODELS:
        outputs[f"score_{model.name}"], outputs[f"embedding_{model.name}"] = cm.score(
            model.name, onnx_models.session(cm.graph(model).bundled.data), np.stack(windows))
    from workbench.analyses.common.spectral_cues import window_cues

    outputs["cues"] = window_cues(np.stack(windows))
    x = np.hstack([np.asarray(outputs[b]).reshape(len(windows), -1) for b in backend.blocks])
    by_hand = (x - backend.model.mean) / backend.model.scale @ backend.model.weights + backend.model.intercept
    assert [r["score"] for r in speech_result.measurements["window_scores"]] == pytest.approx(by_hand, abs=1e-4)


def test_at_most_max_windows_are_scored_spread_over_the_speech():
    result = Synthesis(max_windows=3).run(clip_of(scenes.speaker("a", seed=41, duration_s=30.0)))
    times = result.tracks[0].times_s
    assert result.measurements["windows_scored"] == 3 and times[0] < 5 and times[-1] > 20


def test_silent_windows_are_not_scored(rng):
    x = np.concatenate([rng.standard_normal(16000 * 8) * 0.1, np.zeros(16000 * 9)])
    result = Synthesis().run(Clip.from_array(x, 16000))
    assert result.measurements["windows_scored"] == 2
    assert Synthesis().run(Clip.from_array(np.zeros(16000 * 9), 16000)).status == "skipped"


def test_a_user_graph_is_hashed_and_scored_beside_and_other_files_are_refused(tmp_path, speech_result):
    mine = tmp_path / "mine.onnx"
    mine.write_bytes(cm.graph(cm.BY_NAME["aasist_l"]).bundled.data)
    clip = clip_of(scenes.speaker("a", seed=41, duration_s=30.0))
    result = Synthesis(model=str(mine)).run(clip)
    assert result.parameters["user_model_sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    # the same graph as the bundled AASIST-L: the same scores, and the back-end untouched by it
    assert result.measurements["user_model_score"] == pytest.approx(
        speech_result.measurements["model_scores"]["aasist_l"], abs=1e-6)
    assert result.measurements["countermeasure_score"] == speech_result.measurements["countermeasure_score"]
    other = tmp_path / "rawnetlite.onnx"
    other.write_bytes(cm.graph(cm.BY_NAME["rawnetlite"]).bundled.data)
    with pytest.raises(ParameterError, match="synthesis.model: the ONNX graph's inputs have shapes"):
        Synthesis(model=str(other)).check()
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x0a\x03abc")
    with pytest.raises(ParameterError, match="synthesis.model: the file is not an ONNX graph"):
        Synthesis(model=str(junk)).check()


def test_a_user_state_dict_runs_in_torch_and_a_pickled_object_is_refused(tmp_path, speech_result):
    torch = pytest.importorskip("torch")
    bundled = resources.files("workbench.analyses").joinpath("aasist", "models", "weights", "AASIST-L.pth")
    state = torch.load(str(bundled), map_location="cpu", weights_only=True)
    mine = tmp_path / "mine.pth"
    torch.save(state, mine)
    clip = clip_of(scenes.speaker("a", seed=41, duration_s=30.0))
    result = Synthesis(model=str(mine)).run(clip)
    assert result.parameters["user_model_sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    assert result.measurements["user_model_score"] == pytest.approx(
        speech_result.measurements["model_scores"]["aasist_l"], abs=1e-3)
    hostile = tmp_path / "hostile.pth"
    torch.save({"payload": Synthesis}, hostile)  # a class: only a full unpickler would build it
    with pytest.raises(ParameterError, match="weights_only"):
        Synthesis(model=str(hostile)).run(clip)


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError):
        Synthesis(architecture="RawNet9")
    with pytest.raises(ParameterError):
        Synthesis(max_windows=0)
