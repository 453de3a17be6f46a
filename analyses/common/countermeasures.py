"""The three vendored anti-spoofing countermeasures, run on the same 16-kHz windows.

Each model's code and weights are vendored inside the package with licence, provenance and
SHA-256 (``analyses/aasist``, ``analyses/aasist_asvspoof5``, ``analyses/rawnetlite``) and read
through :func:`workbench.bundled.bundled_file`, so the code that runs is the code whose hash was
checked. Every model gives, per window, a score (higher = closer to the synthetic class it was
trained on) and its embedding before the last layer, which the fitted back-end reads.
"""

from __future__ import annotations

import io
import json
import types
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from analyses.common.windows import sounding_windows
from workbench.bundled import bundled_file
from workbench.clip import Clip
from workbench.errors import ParameterError

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
        The state dict, relative to ``folder``.
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
    config: str | None
    source: str
    trained_on: str
    published: str


MODELS = (
    Countermeasure("aasist_l", "AASIST-L (ASVspoof 2019 LA)", "AASIST-L", "aasist", ("aasist", "models/AASIST.py"),
                   "models/weights/AASIST-L.pth", "config/AASIST-L.conf",
                   "clovaai/aasist@a04c9863f63d44471dde8a6abcb3b082b07cd1d1",
                   "ASVspoof 2019 LA train: 2019 TTS and voice-conversion systems, studio speech (VCTK)",
                   "EER 0.99 % on ASVspoof 2019 LA eval; about 16 % on ASVspoof 2021 DF and 44 % on "
                   "In-the-Wild by independent re-scoring"),
    Countermeasure("aasist_asvspoof5", "AASIST (ASVspoof 5)", "AASIST ASVspoof 5", "aasist_asvspoof5",
                   ("aasist", "models/AASIST.py"), "best.pth",
                   "AASIST_ASVspoof5.conf",
                   "asvspoof-challenge/asvspoof5@fe23d3053a0889b305d98c9e4cadf418c213d972",
                   "ASVspoof 5 train: crowd-sourced MLS speakers, recent TTS and voice-conversion "
                   "systems, some through codecs",
                   "EER 15.2 % on the ASVspoof 5 validation set"),
    Countermeasure("rawnetlite", "RawNetLite (FakeOrReal, ASVspoof 2021, CodecFake)", "RawNetLite", "rawnetlite",
                   ("rawnetlite", "RawNetLite.py"), "augmented_triple_cross_domain_focal_rawnet_lite.pt", None,
                   "adipiz99/RawNetLite@fcb0fe8d0f40146d110e322c00a0723ba27d5520",
                   "FakeOrReal, ASVspoof 2021 and CodecFake, with waveform augmentation",
                   "EER 0.25 % in domain (FakeOrReal); 16.4 % out of domain (ASVspoof 2021 + CodecFake)"),
)
BY_NAME = {model.name: model for model in MODELS}


def weights_file(model: Countermeasure):
    """The vendored weights of ``model`` as a checked :class:`workbench.params.InputFile`."""
    return bundled_file("analyses", model.folder, model.weights)


@lru_cache(maxsize=6)
def load(name: str, data: bytes):
    """The network of model ``name`` built from its vendored code, with the state dict ``data``.

    Raises
    ------
    ParameterError
        When ``data`` is not a state dict of that architecture that loads with ``weights_only``.
    """
    import torch

    torch.set_num_threads(1)  # the pipeline runs analyses side by side on the cores
    model = BY_NAME[name]
    code = bundled_file("analyses", *model.code)
    module = types.ModuleType(f"{name}_model")
    # The code that runs is the code whose hash was checked, not whatever an import finds.
    exec(compile(code.data, code.path, "exec"), module.__dict__)  # noqa: S102 (vendored, hash-checked)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if model.config is None:
            network = module.RawNetLite()
        else:
            network = module.Model(json.loads(bundled_file("analyses", model.folder, model.config).data)["model_config"])
        network.load_state_dict(state)
    except Exception as exc:  # a hostile or foreign file: torch raises many kinds
        raise ParameterError(f"the file is not a {model.label} state dict that loads with weights_only=True "
                             f"({type(exc).__name__})") from None
    network.eval()
    return network


def score(name: str, network, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score and embedding of each window (rows of ``windows``, 16 kHz, ``WINDOW_SAMPLES`` long).

    Returns
    -------
    scores : np.ndarray [shape=(n,)]
        AASIST: spoof minus bona fide logit. RawNetLite: the log-odds of its fake probability.
        Higher is closer to the synthetic class in both.
    embeddings : np.ndarray [shape=(n, d)]
        The input of the last layer (AASIST: d = 160; RawNetLite: d = 64).
    """
    import torch

    scores, embeddings = [], []
    with torch.no_grad():
        for window in np.asarray(windows, dtype=np.float32):
            if name == "rawnetlite":
                value, hidden = _rawnetlite(network, torch, window)
            else:
                hidden, logits = network(torch.from_numpy(window[None, :]))
                value = float(logits[0, 0] - logits[0, 1])
                hidden = hidden[0].numpy()
            scores.append(value)
            embeddings.append(hidden)
    return np.array(scores), np.array(embeddings, dtype=np.float32)


def windows(clip: Clip, *, max_windows: int, below_db: float) -> tuple[list[float], np.ndarray]:
    """Start times (s) and samples [shape=(n, WINDOW_SAMPLES)] of up to ``max_windows`` windows
    with sound, spread evenly (:func:`analyses.common.windows.sounding_windows`); a last window
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
            model.name, load(model.name, weights_file(model).data), windows)
    return out


def features(outputs: dict[str, np.ndarray], blocks: list[str] | tuple[str, ...]) -> np.ndarray:
    """Per window, the ``blocks`` of ``outputs`` side by side [shape=(n, d)]: what a back-end reads."""
    n = len(outputs[blocks[0]])
    return np.hstack([np.asarray(outputs[b], float).reshape(n, -1) for b in blocks])


def _rawnetlite(network, torch, window: np.ndarray) -> tuple[float, np.ndarray]:
    """RawNetLite on the middle 3 s of ``window``, divided by its peak as the model's repository
    prepares input: log-odds of fake, and the fc1 output."""
    first = (window.size - RAWNETLITE_SAMPLES) // 2
    x = window[first : first + RAWNETLITE_SAMPLES]
    x = x / max(float(np.max(np.abs(x))), 1e-9)
    captured = {}
    hook = network.fc1.register_forward_hook(lambda _m, _i, out: captured.update(h=out))
    try:
        p = float(network(torch.from_numpy(x[None, None, :].astype(np.float32)))[0, 0])
    finally:
        hook.remove()
    p = min(max(p, 1e-7), 1 - 1e-7)
    return float(np.log(p / (1 - p))), captured["h"][0].numpy()
