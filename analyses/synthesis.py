"""``synthesis``: a learned anti-spoofing countermeasure (AASIST), scored window by window.

The model code and weights are vendored in ``analyses/aasist`` (clovaai/aasist, MIT; provenance
and SHA-256 beside them). Nothing is downloaded; torch is the optional ``speaker`` extra's, and
without it the analysis is skipped with the reason. A user may name another checkpoint of the
same architecture (``--param synthesis.model=PATH``): the workbench reads and hashes it, its SHA-256
is recorded, and it is loaded with ``weights_only=True`` (a checkpoint is untrusted input). The
bundled model code, configuration and weights are read by :mod:`workbench.bundled`, checked
against the vendored SHA256SUMS; this module opens no file.
"""

from __future__ import annotations

import importlib.util
import io
import json
import types
from functools import lru_cache
from pathlib import Path

import numpy as np

from workbench.analysis import Analysis, FigureOut, InputFile, Result, Track, param
from workbench.bundled import bundled_file
from analyses.common.comparable import WindowScores
from workbench.clip import Clip
from workbench.errors import ParameterError
from reports.plotting import format_time_axis, new_figure
from analyses.common.windows import sounding_windows

VENDOR = ("analyses", "aasist")
"""Package and folder of the vendored model (:func:`workbench.bundled.bundled_file`)."""
SOURCE_COMMIT = "a04c9863f63d44471dde8a6abcb3b082b07cd1d1"
"""The clovaai/aasist commit the vendored files come from (analyses/aasist/PROVENANCE.md)."""
ANALYSIS_RATE_HZ = 16000
WINDOW_SAMPLES = 64600
"""The model's input: 64,600 samples at 16 kHz (about 4.04 s)."""
ARCHITECTURES = ("AASIST-L", "AASIST")
CHECKPOINT_MAX_BYTES = 2 * 2**30
"""Largest checkpoint read (an XLS-R 300M countermeasure is about 1.3 GB)."""


class Synthesis(Analysis):
    """Countermeasure scores of the speech, window by window, from a published anti-spoofing model."""

    name = "synthesis"
    version = "0.2"
    heavy = True
    min_sample_rate_hz = 8000
    description = "Anti-spoofing countermeasure (AASIST) scores of the speech, window by window."
    measures = (
        "The mono mix at 16 kHz cut into 4.04-s windows (AASIST's input); windows with sound are "
        "scored by the vendored AASIST-L model (clovaai/aasist, trained on ASVspoof 2019 LA). The "
        "score is the model's spoof logit minus its bona fide logit: higher means closer to the "
        "synthetic class the model was trained on. countermeasure_score is the mean over the "
        "windows scored, as the model's repository scores a trial. With --reference, the comparison "
        "sets the median window's score among the windows of the references (pooled), with its "
        "percentile and the number of this clip's windows above every reference window."
    )
    cannot_show = (
        "A score states no chance of anything, and no threshold here separates recorded from "
        "synthesised speech. The model was trained on one corpus's TTS and voice-conversion systems of 2019: "
        "published error rates out of that domain are 16-44 % EER, and codecs, rooms and "
        "telephone bands move the score as much as synthesis does. Read it only against the same "
        "model's scores on known-genuine references of the same speaker, channel and codec."
    )

    comparable = (WindowScores("window_scores", "score", "Countermeasure score (median window)",
                               "logit", 1.0),)

    architecture: str = param("AASIST-L", "The model configuration; the bundled weights of that name "
                              "are used unless model is set.", choices=ARCHITECTURES)
    model: InputFile | None = param(
        None, "A local checkpoint (a state dict of the same architecture) instead of the bundled "
        "weights; read and hashed by the workbench, loaded with weights_only=True.",
        max_bytes=CHECKPOINT_MAX_BYTES)
    max_windows: int = param(24, "At most this many 4-s windows with speech are scored, spread evenly "
                             "over the speech (about 0.4 s each on a 2-core CPU with AASIST-L).",
                             at_least=1)
    sounding_below_db: float = param(30.0, "Windows more than this far below the loudest (95th "
                                     "percentile) are not scored.", above=0)

    def check(self) -> None:
        if self.model is not None and importlib.util.find_spec("torch") is not None:
            _load(self.architecture, self.model.data)  # a checkpoint that cannot load is refused now

    def prepare(self) -> None:
        if importlib.util.find_spec("torch") is not None:
            _load(self.architecture, self._weights()[1].data)

    def run(self, clip: Clip) -> Result:
        if importlib.util.find_spec("torch") is None:
            return Result.skipped("torch is not installed (pip install '.[speaker]'): no countermeasure score")
        name, weights = self._weights()
        network = _load(self.architecture, weights.data)
        starts, windows = self._windows(clip)
        if not windows:
            return Result.skipped("no 4-s window with sound: nothing to score")
        scores = _score(network, np.stack(windows))
        centres = np.array(starts) + WINDOW_SAMPLES / ANALYSIS_RATE_HZ / 2
        measurements = {
            "countermeasure_score": float(np.mean(scores)),
            "countermeasure_score_median": float(np.median(scores)),
            "countermeasure_score_range": [float(scores.min()), float(scores.max())],
            "countermeasure_model": self.architecture,
            "countermeasure_direction": "higher = closer to the synthetic class (spoof minus bona fide logit)",
            "windows_scored": int(scores.size),
            "window_scores": [{"start_s": float(s), "end_s": float(s) + WINDOW_SAMPLES / ANALYSIS_RATE_HZ,
                               "score": float(v)} for s, v in zip(starts, scores)],
        }
        parameters = {"model_sha256": weights.sha256, "model_file": name,
                      "model_source": "user checkpoint" if self.model else f"clovaai/aasist@{SOURCE_COMMIT}"}
        track = Track("countermeasure score", centres, scores, spans_s=WINDOW_SAMPLES / ANALYSIS_RATE_HZ)
        return Result(measurements=measurements, parameters=parameters, tracks=[track],
                      figures=[self._figure(clip, centres, scores)])

    def _weights(self) -> tuple[str, InputFile]:
        """File name and contents of the weights used: the bundled ones or the user's checkpoint."""
        if self.model is None:
            name = f"{self.architecture}.pth"
            return name, bundled_file(*VENDOR, f"models/weights/{name}")
        return Path(self.model.path).name, self.model

    def _windows(self, clip: Clip) -> tuple[list[float], list[np.ndarray]]:
        """Start times (s) and samples of up to ``max_windows`` sounding windows, evenly spread; a
        last window longer than half the input is repeated to full length, as the model's own
        repository does with a short input."""
        return sounding_windows(clip, ANALYSIS_RATE_HZ, WINDOW_SAMPLES, max_windows=self.max_windows,
                                below_db=self.sounding_below_db, shortest_samples=WINDOW_SAMPLES // 2 + 1, pad=True)

    def _figure(self, clip: Clip, centres: np.ndarray, scores: np.ndarray) -> FigureOut:
        fig, (ax,) = new_figure(height_in=2.6)
        ax.plot(centres, scores, "o", color="#1f4e79", markersize=4)
        ax.axhline(float(np.mean(scores)), color="#999999", linestyle="--", linewidth=0.8)
        ax.set_ylabel("spoof - bona fide logit")
        ax.set_title(f"{self.architecture} countermeasure score per 4-s window (higher: closer to the "
                     "model's synthetic class); dashed: mean", loc="left")
        ax.grid(True, alpha=0.3)
        format_time_axis(ax, clip.duration_s)
        return FigureOut("scores", fig, "Countermeasure score of each window scored; read it against the references'.")


@lru_cache(maxsize=4)
def _load(architecture: str, data: bytes):
    """The network built from the vendored code and configuration of ``architecture``, with the
    state dict in ``data`` loaded.

    Raises
    ------
    ParameterError
        When ``data`` is not a state dict of ``architecture`` that loads with ``weights_only``.
    """
    import torch

    torch.set_num_threads(1)  # the pipeline runs analyses side by side on the cores
    code = bundled_file(*VENDOR, "models/AASIST.py")
    module = types.ModuleType("aasist_model")
    # The code that runs is the code whose hash was checked, not whatever an import finds.
    exec(compile(code.data, code.path, "exec"), module.__dict__)  # noqa: S102 (vendored, hash-checked)
    config = json.loads(bundled_file(*VENDOR, f"config/{architecture}.conf").data)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        network = module.Model(config["model_config"])
        network.load_state_dict(state)
    except Exception as exc:  # a hostile or foreign file: torch raises many kinds
        raise ParameterError(f"synthesis.model: the file is not a {architecture} state dict "
                             f"that loads with weights_only=True ({type(exc).__name__})") from None
    network.eval()
    return network


def _score(network, windows: np.ndarray) -> np.ndarray:
    """Spoof minus bona fide logit of each window (rows of ``windows``), one window at a time."""
    import torch

    scores = []
    with torch.no_grad():
        for window in windows:
            _, logits = network(torch.from_numpy(window[None, :]))
            scores.append(float(logits[0, 0] - logits[0, 1]))
    return np.array(scores)
