"""The three vendored anti-spoofing countermeasures, run on the same 16-kHz windows.

Each model's code and weights are vendored inside the package with licence, provenance and
SHA-256 (``analyses/aasist``, ``analyses/aasist_asvspoof5``, ``analyses/rawnetlite``) and read
through :func:`workbench.core.bundled.bundled_file`, so the code that runs is the code whose hash was
checked. What runs is each model's ONNX graph, exported from those weights by
``make export-models`` (:mod:`workbench.analyses.common.onnx_models`); the torch originals, for a user's
``.pth`` checkpoint and for checking the export, are in :mod:`workbench.analyses.common.torch_countermeasures`.
Every model gives, per window, a score (higher = closer to the synthetic class it was
trained on) and its embedding before the last layer, which the fitted back-end reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.analyses.common import onnx_models
from workbench.analyses.common.windows import sounding_windows
from workbench.core.bundled import bundled_file
from workbench.core.clip import Clip

RATE_HZ = 16000
WINDOW_SAMPLES = 64600
"""The windows every model scores: 64,600 samples at 16 kHz (about 4.04 s), AASIST's input."""
RAWNETLITE_SAMPLES = 48000
"""RawNetLite's input (3 s at 16 kHz): the middle of each window."""


@dataclass(frozen=True)
class Countermeasure:
    """One vendored model: where its files are and what it was trained on.

    Attributes
    ----------
    name : str
        Key in reports (``score_<name>``).
    label : str
        How a reader knows it.
    short : str
        Its name on a figure's axis.
    folder : str
        Vendored folder in the ``analyses`` package.
    code : tuple of str
        Vendored folder and path of the model definition (AASIST's one file serves both AASIST
        models: the ASVspoof 5 folder's copy is byte-identical).
    weights : str
        The published state dict, relative to ``folder`` (what the ONNX graph was exported from).
    onnx : str
        The exported ONNX graph that runs, relative to ``folder``.
    config : str or None
        AASIST's JSON configuration (``model_config``); None for RawNetLite.
    source : str
        Repository and commit of the vendored files.
    trained_on : str
        Training data, as the source states it.
    published : str
        The source's own error rates.
    """

    name: str
    label: str
    short: str
    folder: str
    code: tuple[str, str]
    weights: str
    onnx: str
    config: str | None
    source: str
    trained_on: str
    published: str


MODELS = (
    Countermeasure("aasist_l", "AASIST-L (ASVspoof 2019 LA)", "AASIST-L", "aasist", ("aasist", "models/AASIST.py"),
                   "models/weights/AASIST-L.pth", "models/weights/AASIST-L.onnx", "config/AASIST-L.conf",
                   "clovaai/aasist@a04c9863f63d44471dde8a6abcb3b082b07cd1d1",
                   "ASVspoof 2019 LA train: 2019 TTS and voice-conversion systems, studio speech (VCTK)",
                   "EER 0.99 % on ASVspoof 2019 LA eval; about 16 % on ASVspoof 2021 DF and 44 % on "
                   "In-the-Wild by independent re-scoring"),
    Countermeasure("aasist_asvspoof5", "AASIST (ASVspoof 5)", "AASIST ASVspoof 5", "aasist_asvspoof5",
                   ("aasist", "models/AASIST.py"), "best.pth", "best.onnx",
                   "AASIST_ASVspoof5.conf",
                   "asvspoof-challenge/asvspoof5@fe23d3053a0889b305d98c9e4cadf418c213d972",
                   "ASVspoof 5 train: crowd-sourced MLS speakers, recent TTS and voice-conversion "
                   "systems, some through codecs",
                   "EER 15.2 % on the ASVspoof 5 validation set"),
    Countermeasure("rawnetlite", "RawNetLite (FakeOrReal, ASVspoof 2021, CodecFake)", "RawNetLite", "rawnetlite",
                   ("rawnetlite", "RawNetLite.py"), "augmented_triple_cross_domain_focal_rawnet_lite.pt",
                   "rawnetlite.onnx", None,
                   "adipiz99/RawNetLite@fcb0fe8d0f40146d110e322c00a0723ba27d5520",
                   "FakeOrReal, ASVspoof 2021 and CodecFake, with waveform augmentation",
                   "EER 0.25 % in domain (FakeOrReal); 16.4 % out of domain (ASVspoof 2021 + CodecFake)"),
)
BY_NAME = {model.name: model for model in MODELS}


def weights_file(model: Countermeasure):
    """The vendored weights of ``model`` as a checked :class:`workbench.core.params.InputFile`."""
    return bundled_file("workbench.analyses", model.folder, model.weights)


def graph(model: Countermeasure) -> onnx_models.Graph:
    """The exported ONNX graph of ``model`` (:mod:`workbench.analyses.common.onnx_models`)."""
    if model.name == "rawnetlite":
        return onnx_models.Graph(model.folder, model.onnx, ((1, RAWNETLITE_SAMPLES),), ((1,), (64,)))
    return onnx_models.Graph(model.folder, model.onnx, ((WINDOW_SAMPLES,),), ((None,), (2,)))


def score(name: str, session, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score and embedding of each window (rows of ``windows``, 16 kHz, ``WINDOW_SAMPLES`` long)
    by the ONNX Runtime ``session`` of model ``name`` (or of a user graph of its architecture).

    Returns
    -------
    scores : np.ndarray [shape=(n,)]
        AASIST: spoof minus bona fide logit. RawNetLite: the log-odds of its fake probability.
        Higher is closer to the synthetic class in both.
    embeddings : np.ndarray [shape=(n, d)]
        The input of the last layer (AASIST: d = 160; RawNetLite: d = 64).
    """
    windows = np.asarray(windows, dtype=np.float32)
    # One window at a time: four at once held 1.4 GB for AASIST and ran no faster.
    if name == "rawnetlite":
        probability, hidden = onnx_models.run(session, rawnetlite_input(windows), batch=1)
        return log_odds(probability[:, 0]), hidden
    hidden, logits = onnx_models.run(session, windows, batch=1)
    return (logits[:, 0] - logits[:, 1]).astype(float), hidden


def rawnetlite_input(windows: np.ndarray) -> np.ndarray:
    """RawNetLite's input [shape=(n, 1, RAWNETLITE_SAMPLES)]: the middle 3 s of each window,
    divided by its peak, as the model's repository prepares input."""
    first = (windows.shape[1] - RAWNETLITE_SAMPLES) // 2
    x = windows[:, first : first + RAWNETLITE_SAMPLES]
    return (x / np.maximum(np.max(np.abs(x), axis=1, keepdims=True), 1e-9))[:, None, :].astype(np.float32)


def log_odds(probability: np.ndarray) -> np.ndarray:
    """RawNetLite's fake probability as log-odds, clipped to [1e-7, 1 - 1e-7] first."""
    p = np.clip(np.asarray(probability, dtype=float), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def windows(clip: Clip, *, max_windows: int, below_db: float) -> tuple[list[float], np.ndarray]:
    """Start times (s) and samples [shape=(n, WINDOW_SAMPLES)] of up to ``max_windows`` windows
    with sound, spread evenly (:func:`workbench.analyses.common.windows.sounding_windows`); a last window
    longer than half the input is repeated to full length, as AASIST's repository does."""
    starts, found = sounding_windows(clip, RATE_HZ, WINDOW_SAMPLES, max_windows=max_windows, below_db=below_db,
                                     shortest_samples=WINDOW_SAMPLES // 2 + 1, pad=True)
    return starts, np.array(found, dtype=np.float32).reshape(len(found), WINDOW_SAMPLES)


def outputs(windows: np.ndarray) -> dict[str, np.ndarray]:
    """``score_<name>`` [shape=(n,)] and ``embedding_<name>`` [shape=(n, d)] of every model of
    :data:`MODELS` on ``windows`` (its bundled weights)."""
    out = {}
    for model in MODELS:
        out[f"score_{model.name}"], out[f"embedding_{model.name}"] = score(
            model.name, onnx_models.session(graph(model).bundled.data), windows)
    return out


def features(outputs: dict[str, np.ndarray], blocks: list[str] | tuple[str, ...]) -> np.ndarray:
    """Per window, the ``blocks`` of ``outputs`` side by side [shape=(n, d)]: what a back-end reads."""
    n = len(outputs[blocks[0]])
    return np.hstack([np.asarray(outputs[b], float).reshape(n, -1) for b in blocks])
