"""The exported ONNX graphs against their torch originals, and how untrusted graphs are loaded.

The equivalence tests need the ``export`` extra (``make test`` installs it). They run on real
recordings of the corpus when it is there (``WORKBENCH_CORPUS``, default ``../shared/corpus``
beside the checkout: genuine and synthetic speech of synthetic2) and always on generated speech.
"""

import csv
import json
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from workbench.analyses.common import countermeasures as cm
from workbench.analyses.common import onnx_models
from workbench.analyses.speaker import ENCODER, ENCODER_RATE_HZ, ENCODER_WEIGHTS, mel_spectrogram, partial_slices
from workbench.analyses.watermark import DECODER, WEIGHTS, Decoder
from conftest import clip_of
from fixtures import scenes
from workbench.core.bundled import installed_file
from workbench.core.errors import ParameterError

TOLERANCE = 1e-3
"""Largest difference allowed between a graph's output and its torch original's: scores in
log-odds, confidences (0-1) and embedding entries. Measured here: under 1e-5 for every model."""
CORPUS = Path(os.environ.get("WORKBENCH_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
GRAPHS = [cm.graph(m) for m in cm.MODELS] + [DECODER, ENCODER]


def _real_clips(count: int = 4) -> list:
    """Up to ``count`` recordings of synthetic2 (half genuine, half synthetic, 5 s or more)."""
    manifest = CORPUS / "synthetic2" / "MANIFEST.csv"
    if not manifest.exists():
        return []
    from workbench.validation.real import open_checked

    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    chosen = []
    for label in ("genuine", "synthetic"):
        long_enough = [r for r in rows if r["label"] == label and float(r["duration_s"]) >= 5]
        chosen += long_enough[:: max(1, len(long_enough) // (count // 2))][: count // 2]
    return [open_checked(CORPUS / "synthetic2" / r["dest_path"], r["sha256"]) for r in chosen]


@pytest.fixture(scope="module")
def clips():
    return [clip_of(scenes.speaker("a", seed=41, duration_s=20.0))] + _real_clips()


@pytest.mark.parametrize("graph", GRAPHS, ids=lambda g: g.file)
def test_each_graph_records_what_it_was_exported_from(graph):
    record = json.loads(resources.files("workbench.analyses").joinpath(graph.folder, f"{graph.file}.json").read_text())
    assert record["graph"] == graph.file and record["graph_sha256"] == graph.bundled.sha256
    assert len(record["source_sha256"]) == 64 and record["source_licence"] in ("MIT", "Apache-2.0")
    licence = resources.files("workbench.analyses").joinpath(graph.folder, "LICENSE").read_text()
    assert ("MIT" if record["source_licence"] == "MIT" else "Apache License") in licence
    assert record["source_sha256"] in resources.files("workbench.analyses").joinpath(graph.folder, "PROVENANCE.md").read_text()


@pytest.mark.parametrize("model", cm.MODELS, ids=lambda m: m.name)
def test_countermeasure_graphs_agree_with_their_torch_originals(model, clips):
    pytest.importorskip("torch")
    from workbench.analyses.common import torch_countermeasures as tcm

    record = json.loads(resources.files("workbench.analyses").joinpath(model.folder, f"{model.onnx}.json").read_text())
    assert record["source_sha256"] == cm.weights_file(model).sha256
    windows = np.concatenate([cm.windows(c, max_windows=3, below_db=30.0)[1] for c in clips])
    graph = cm.score(model.name, onnx_models.session(cm.graph(model).bundled.data), windows)
    original = tcm.score(model.name, tcm.load(model.name, cm.weights_file(model).data), windows)
    assert len(windows) >= 3
    for ours, theirs in zip(graph, original):
        assert np.max(np.abs(ours - theirs)) < TOLERANCE


def test_the_perth_decoder_graph_agrees_with_the_torch_decoder_marked_or_not(clips):
    pytest.importorskip("torch")
    pytest.importorskip("perth", reason="the export extra is not installed")
    from workbench.analyses.perth import net
    from workbench.validation.perth_mark import embed_perth

    weights = installed_file(*WEIGHTS)
    assert json.loads(resources.files("workbench.analyses").joinpath("perth", "perth_decoder.onnx.json").read_text())[
        "source_sha256"] == weights.sha256
    network = net.load_checkpoint(weights.data)
    graph = Decoder(onnx_models.session(DECODER.bundled.data))
    from workbench.analyses.common.windows import sounding_windows

    windows = []
    for clip in clips:
        windows += sounding_windows(clip, net.SAMPLE_RATE_HZ, 10 * net.SAMPLE_RATE_HZ, max_windows=2,
                                    below_db=30.0, shortest_samples=net.SAMPLE_RATE_HZ)[1]
    windows.append(embed_perth(windows[0], net.SAMPLE_RATE_HZ).astype(np.float32))
    windows.append(windows[0][: int(1.7 * net.SAMPLE_RATE_HZ)])  # a short last window: other frame count
    ours = np.array([graph.confidence(w) for w in windows])
    theirs = np.array([net.confidence(network, w) for w in windows])
    assert np.max(np.abs(ours - theirs)) < TOLERANCE
    assert ours[-2] > 0.9  # the marked copy reads as marked through the graph too


def test_the_speaker_encoder_graph_agrees_with_resemblyzer(clips):
    pytest.importorskip("torch")
    resemblyzer = pytest.importorskip("resemblyzer", reason="the export extra is not installed")
    from resemblyzer import audio
    from workbench.analyses.common.resample import mono_pieces

    encoder = resemblyzer.VoiceEncoder(device="cpu", verbose=False)
    assert installed_file(*ENCODER_WEIGHTS).sha256 == ENCODER_WEIGHTS[2]
    for n in (16000, 25600, 25601, 40000, 160000, 160001):
        assert partial_slices(n, 2.0) == encoder.compute_partial_slices(n, 2.0, 0.75)
    session = onnx_models.session(ENCODER.bundled.data)
    for clip in clips:
        _, y = next(iter(mono_pieces(clip, ENCODER_RATE_HZ, piece_s=60.0)))
        y = y[: 5 * ENCODER_RATE_HZ].astype(np.float32)
        assert np.allclose(mel_spectrogram(y), audio.wav_to_mel_spectrogram(y))
        mels = np.array([mel_spectrogram(y)[s] for s in partial_slices(y.size, 2.0)[1][:4]])
        import torch

        with torch.no_grad():
            theirs = encoder(torch.from_numpy(mels)).numpy()
        assert np.max(np.abs(onnx_models.run(session, mels)[0] - theirs)) < TOLERANCE


def test_a_file_that_is_not_a_graph_is_refused_in_one_line():
    with pytest.raises(ParameterError, match="not an ONNX graph") as caught:
        onnx_models.session(b"\x0a\x05hello, not a graph")
    assert "\n" not in str(caught.value)


def test_a_graph_of_other_shapes_is_refused():
    rawnetlite = cm.graph(cm.BY_NAME["rawnetlite"]).bundled.data
    with pytest.raises(ParameterError, match="shapes"):
        onnx_models.checked_session(rawnetlite, cm.graph(cm.BY_NAME["aasist_l"]))
    assert onnx_models.checked_session(rawnetlite, cm.graph(cm.BY_NAME["rawnetlite"])) is not None


def test_a_graph_may_not_read_a_file_beside_it(tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    (tmp_path / "secret.bin").write_bytes(np.ones(4, np.float32).tobytes())
    monkeypatch.chdir(tmp_path)
    weights = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    weights.ClearField("raw_data")
    weights.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "secret.bin"), ("offset", "0"), ("length", "16")):
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [weights])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]).SerializeToString()
    with pytest.raises(ParameterError, match="not an ONNX graph"):
        onnx_models.session(data)


def test_torch_checkpoints_and_graphs_are_told_apart():
    assert not onnx_models.is_onnx(cm.weights_file(cm.BY_NAME["aasist_l"]).data)
    assert onnx_models.is_onnx(cm.graph(cm.BY_NAME["aasist_l"]).bundled.data)
