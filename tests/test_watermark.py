import hashlib
from importlib import resources

import numpy as np
import pytest
from scipy import signal

from workbench.analyses.watermark import DECODER, MARKED_AT, WEIGHTS, WINDOW_S, Watermark
from conftest import clip_of, flagged
from fixtures import scenes
from workbench.core.bundled import BundledFileError, installed_file
from workbench.core.clip import Clip
from workbench.core.errors import ParameterError

torch = pytest.importorskip("torch")  # the mark is put in by the torch encoder (the export extra)
pytest.importorskip("perth", reason="the export extra is not installed")

from workbench.validation.perth_mark import embed_perth  # noqa: E402 (needs torch)


@pytest.fixture(scope="module")
def speech():
    return scenes.speaker("a", seed=43, duration_s=30.0)


@pytest.fixture(scope="module")
def marked_middle(speech):
    """The speech with the mark embedded in its second 10-s window only (10-20 s)."""
    sr = speech.sample_rate_hz
    x = speech.samples[:, 0].copy()
    x[10 * sr : 20 * sr] = embed_perth(x[10 * sr : 20 * sr], sr)
    return x, sr


def test_a_clean_recording_is_read_unmarked_and_the_detector_recorded(speech):
    result = Watermark().run(clip_of(speech))
    m = result.measurements
    assert result.status == "ok", result.message
    assert m["windows_read"] == 3 and m["windows_marked"] == 0 and m["watermark_confidence"] < MARKED_AT
    assert result.findings == []
    assert result.parameters["model_sha256"] == WEIGHTS[2]
    assert "resemble-perth 1.0.1" in m["watermark_detector"]


def test_the_mark_is_found_in_the_window_it_was_put_in(marked_middle):
    x, sr = marked_middle
    result = Watermark().run(Clip.from_array(x, sr))
    places = flagged(result, "watermark")
    assert [(p.start_s, p.end_s) for p in places] == [(WINDOW_S, 2 * WINDOW_S)]
    assert places[0].strength >= 0.9
    confidences = [w["confidence"] for w in result.measurements["window_confidences"]]
    assert confidences[0] < MARKED_AT and confidences[2] < MARKED_AT


def test_the_mark_survives_the_telephone_band(marked_middle):
    x, sr = marked_middle
    at_8k = signal.resample_poly(x, 1, sr // 8000)
    result = Watermark().run(Clip.from_array(at_8k, 8000))
    assert [p.start_s for p in flagged(result, "watermark")] == [WINDOW_S]


def test_the_summary_names_the_marked_windows_and_the_absent_manifest(tmp_path, marked_middle):
    import soundfile as sf
    from click.testing import CliRunner

    from workbench.cli import cli

    x, sr = marked_middle
    sf.write(tmp_path / "marked.wav", x, sr, subtype="PCM_16")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["analyze", str(tmp_path / "marked.wav"), "-o", str(out), "--only",
                                      "watermark,c2pa", "--format", "html"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert "Perth watermark: 1 of 3 windows read as marked" in html
    assert "C2PA content credentials: manifest absent" in html


def test_silence_and_a_too_short_clip_are_skipped(speech):
    assert Watermark().run(Clip.from_array(np.zeros(16000 * 12), 16000)).status == "skipped"
    assert Watermark().run(Clip.from_array(speech.samples[: speech.sample_rate_hz // 2, 0], 16000)).status == "skipped"


def test_a_user_checkpoint_is_hashed_and_a_pickled_object_is_refused(tmp_path, marked_middle):
    mine = tmp_path / "perth.pth"
    mine.write_bytes(installed_file(*WEIGHTS).data)
    x, sr = marked_middle
    result = Watermark(model=str(mine)).run(Clip.from_array(x, sr))
    assert result.parameters["model_sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    assert result.parameters["model_source"] == "user checkpoint"
    assert result.measurements["windows_marked"] == 1
    hostile = tmp_path / "hostile.pth"
    torch.save({"payload": Watermark}, hostile)  # a class: only a full unpickler would build it
    with pytest.raises(ParameterError, match="weights_only"):
        Watermark(model=str(hostile)).check()


def test_a_user_graph_reads_as_the_bundled_one_and_a_graph_of_other_shapes_is_refused(tmp_path, marked_middle):
    mine = tmp_path / "decoder.onnx"
    mine.write_bytes(DECODER.bundled.data)
    x, sr = marked_middle
    ours = Watermark(model=str(mine)).run(Clip.from_array(x, sr))
    bundled = Watermark().run(Clip.from_array(x, sr))
    assert ours.measurements["window_confidences"] == bundled.measurements["window_confidences"]
    assert ours.parameters["model_sha256"] == DECODER.bundled.sha256
    other = tmp_path / "encoder.onnx"
    other.write_bytes(resources.files("workbench.analyses").joinpath("resemblyzer", "encoder.onnx").read_bytes())
    with pytest.raises(ParameterError, match="watermark.model: the ONNX graph's inputs have shapes"):
        Watermark(model=str(other)).check()


def test_weights_of_another_version_are_refused():
    installed_file.cache_clear()
    with pytest.raises(BundledFileError, match="measured with"):
        installed_file(WEIGHTS[0], WEIGHTS[1], "0" * 64)
    assert installed_file("no_such_package_here", "x", "0" * 64) is None


def test_the_validation_rows_count_marked_recordings_per_half_with_exact_intervals():
    from workbench.validation.real import left_out_lines
    from workbench.validation.watermark import cite_watermark, markdown_watermark, watermark_rows

    read = [{"label": "genuine", "half": "measuring", "windows": 2, "marked": int(i == 0)} for i in range(10)]
    read += [{"label": "genuine", "half": "tuning", "windows": 1, "marked": 0}] * 5
    planted = [{"form": "wav", "half": "measuring", "windows": 1, "marked": 1}] * 4
    results = {"rows": watermark_rows(read, planted), "left_out": []}
    row = cite_watermark(results)
    assert row["false_alarm"]["yes"] == 1 and row["false_alarm"]["files"] == 10
    assert row["false_alarm"]["windows"] == 20 and row["false_alarm"]["windows_marked"] == 1
    assert 0.0 < row["false_alarm"]["yes_95"][0] < 0.1 < 0.4 < row["false_alarm"]["yes_95"][1] < 0.5
    assert row["detected"]["wav"]["yes"] == 4 and row["detected"]["wav"]["yes_95"][1] == 1.0
    assert "| all | genuine | 1 of 15 (6.7%" in markdown_watermark(results)
    many = [{"path": f"d/{i}.wav", "reason": "too short"} for i in range(7)] + [{"path": "x.wav", "reason": "bad"}]
    assert left_out_lines(many) == ["", "Left out: 7 recordings (too short), e.g. 0.wav, 1.wav, 2.wav; x.wav (bad)."]
