"""``synthesis``: three learned anti-spoofing countermeasures on the same windows, and a back-end
fitted on some generator families that combines them into ``countermeasure_score``.

The models' code and weights are vendored in ``analyses/aasist``, ``analyses/aasist_asvspoof5``
and ``analyses/rawnetlite`` (MIT; provenance and SHA-256 beside them), exported to ONNX and run
with ONNX Runtime through :mod:`workbench.analyses.common.countermeasures`. The back-end
(``analyses/backend/countermeasure_backend.json``) is a logistic regression written by
``make validate`` with the list of recordings it was fitted on and their SHA-256. Nothing is
downloaded. A user may name a model of an AASIST architecture (``--param synthesis.model=PATH``):
an ONNX graph with AASIST's inputs and outputs, or, with the ``torch`` extra, a state dict loaded
with ``weights_only=True``. It is read and hashed by the workbench and scored beside the three,
never inside the back-end.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from workbench.analyses.common import countermeasures as cm
from workbench.analyses.common import onnx_models
from workbench.analyses.common.comparable import WindowScores
from workbench.analyses.common.logistic import Logistic
from workbench.analyses.common.spectral_cues import window_cues
from workbench.core.analysis import Analysis, FigureOut, InputFile, Result, Track, param
from workbench.core.bundled import bundled_file
from workbench.core.clip import Clip
from workbench.core.errors import ParameterError
from workbench.core.plotting import format_time_axis, new_figure

ARCHITECTURES = {"AASIST-L": "aasist_l", "AASIST": "aasist_asvspoof5"}
"""Architectures a user checkpoint may have, and the vendored model whose code builds it."""
CHECKPOINT_MAX_BYTES = 2 * 2**30
"""Largest checkpoint read (an XLS-R 300M countermeasure is about 1.3 GB)."""
BACKEND = ("workbench.analyses", "backend", "countermeasure_backend.json")
"""Package, vendored folder and file of the fitted back-end (:func:`workbench.core.bundled.bundled_file`)."""
WINDOW_S = cm.WINDOW_SAMPLES / cm.RATE_HZ


class Synthesis(Analysis):
    """Countermeasure scores of the speech, window by window, from three published anti-spoofing
    models and a back-end fitted on other generator families."""

    name = "synthesis"
    version = "0.3"
    heavy = True
    min_sample_rate_hz = 8000
    description = "Anti-spoofing countermeasures (AASIST-L, AASIST ASVspoof 5, RawNetLite) and their fitted back-end, window by window."
    measures = (
        "The mono mix at 16 kHz cut into 4.04-s windows; windows with sound, spread over the speech, are "
        "scored by three vendored countermeasures: " + "; ".join(f"{m.label} ({m.source}), trained on "
                                                                 f"{m.trained_on}; published: {m.published}"
                                                                 for m in cm.MODELS) + ". "
        "Each model's score is its log-odds of the synthetic class it was trained on. countermeasure_score "
        "is a logistic back-end over the three models' inner representations, fitted on older generator "
        "families only (see its measured rates): its log-odds of synthetic speech, averaged over the windows "
        "scored. With --reference, the comparison sets the median window's back-end score among the "
        "windows of the references (pooled), with its percentile and z-score."
    )
    cannot_show = (
        "A score states no chance of anything, and no threshold here separates recorded from synthesised "
        "speech. The models and the back-end were trained on published corpora and demo pages; generators, "
        "codecs, rooms and telephone bands they never met move the score as much as synthesis does, and a "
        "genuine recording processed like the synthetic ones they saw scores high. Read it against the same "
        "scores on known-genuine references of the same speaker, channel and codec, and with the measured "
        "rates below, which are lower through a channel than as published."
    )
    measurement_keys = (
        "countermeasure_backend", "countermeasure_direction", "countermeasure_score",
        "countermeasure_score_median", "countermeasure_score_range", "model_scores",
        "window_scores", "windows_scored",
    )

    comparable = (WindowScores("window_scores", "score", "Countermeasure score (median window)", "log-odds", 1.0),)

    architecture: str = param("AASIST-L", "Architecture of a user checkpoint (model).", choices=tuple(ARCHITECTURES))
    model: InputFile | None = param(
        None, "A local model of the architecture scored beside the bundled ones: an ONNX graph with its inputs "
        "and outputs, or (with the torch extra) a state dict, loaded with weights_only=True; read and hashed "
        "by the workbench.", max_bytes=CHECKPOINT_MAX_BYTES)
    max_windows: int = param(4, "At most this many 4-s windows with speech are scored, spread evenly over the "
                             "speech (about 1.6 s each for the three models on one core).", at_least=1)
    sounding_below_db: float = param(30.0, "Windows more than this far below the loudest (95th "
                                     "percentile) are not scored.", above=0)

    def check(self) -> None:
        if self.model is not None:
            self._user_scorer()  # a model that cannot load is refused now

    def prepare(self) -> None:
        for model in cm.MODELS:
            onnx_models.session(cm.graph(model).bundled.data)

    def run(self, clip: Clip) -> Result:
        starts, windows = cm.windows(clip, max_windows=self.max_windows, below_db=self.sounding_below_db)
        if not len(windows):
            return Result.skipped("no 4-s window with sound: nothing to score")
        outputs = cm.outputs(windows) | {"cues": window_cues(windows)}
        backend_file, backend = _backend()
        combined = backend.score(outputs)
        measurements = {
            "countermeasure_score": float(np.mean(combined)),
            "countermeasure_score_median": float(np.median(combined)),
            "countermeasure_score_range": [float(combined.min()), float(combined.max())],
            "countermeasure_direction": "higher = closer to the synthetic class (log-odds)",
            "countermeasure_backend": backend.describe(backend_file.sha256),
            "model_scores": {m.name: float(np.mean(outputs[f"score_{m.name}"])) for m in cm.MODELS},
            "windows_scored": int(len(windows)),
            "window_scores": [
                {"start_s": float(s), "end_s": float(s) + WINDOW_S, "score": float(v),
                 **{m.name: float(outputs[f"score_{m.name}"][i]) for m in cm.MODELS}}
                for i, (s, v) in enumerate(zip(starts, combined))],
        }
        parameters = {"models": {m.name: {"source": m.source, "sha256": cm.weights_file(m).sha256,
                                          "onnx_sha256": cm.graph(m).bundled.sha256} for m in cm.MODELS},
                      "backend_sha256": backend_file.sha256}
        centres = np.array(starts) + WINDOW_S / 2
        tracks = [Track("countermeasure score", centres, combined, spans_s=WINDOW_S)]
        tracks += [Track(f"{m.short} score", centres, outputs[f"score_{m.name}"], spans_s=WINDOW_S) for m in cm.MODELS]
        if self.model is not None:
            user = self._user_scorer()(windows)
            measurements["user_model_score"] = float(np.mean(user))
            for row, value in zip(measurements["window_scores"], user):
                row["user_model"] = float(value)
            parameters |= {"user_model_file": Path(self.model.path).name, "user_model_sha256": self.model.sha256,
                           "user_model_architecture": self.architecture}
        return Result(measurements=measurements, parameters=parameters, tracks=tracks,
                      figures=[self._figure(clip, centres, combined, outputs)])

    def _user_scorer(self):
        """A function of windows giving the user model's score of each: its ONNX graph in ONNX
        Runtime, or its state dict in torch."""
        name = ARCHITECTURES[self.architecture]
        try:
            if onnx_models.is_onnx(self.model.data):
                session = onnx_models.checked_session(self.model.data, cm.graph(cm.BY_NAME[name]))
                return lambda windows: cm.score(name, session, windows)[0]
            try:
                from workbench.analyses.common import torch_countermeasures as tcm
                network = tcm.load(name, self.model.data)
            except ImportError:
                raise ParameterError("a state dict needs torch (pip install '.[torch]'); an ONNX graph "
                                     "does not") from None
            return lambda windows: tcm.score(name, network, windows)[0]
        except ParameterError as exc:
            raise ParameterError(f"synthesis.model: {exc}") from None

    def _figure(self, clip: Clip, centres: np.ndarray, combined: np.ndarray, outputs: dict) -> FigureOut:
        fig, (top, bottom) = new_figure(nrows=2, height_in=4.4, sharex=True)
        top.plot(centres, combined, "o", color="#1f4e79", markersize=5)
        top.axhline(float(np.mean(combined)), color="#999999", linestyle="--", linewidth=0.8)
        top.set_ylabel("log-odds")
        top.set_title("Countermeasure score (fitted back-end) per 4-s window; dashed: mean", loc="left")
        for model, marker, colour in zip(cm.MODELS, "s^v", ("#b35806", "#542788", "#1b7837")):
            bottom.plot(centres, outputs[f"score_{model.name}"], marker, color=colour, markersize=4,
                        label=model.label, linestyle="none")
        bottom.set_ylabel("log-odds")
        bottom.set_title("Each model's own score (higher: closer to its synthetic class)", loc="left")
        bottom.legend(loc="upper right", framealpha=0.8)
        for ax in (top, bottom):
            ax.grid(True, alpha=0.3)
        format_time_axis(bottom, clip.duration_s)
        return FigureOut("scores", fig, "Scores of each window scored; read them against the references'.")


class Backend:
    """The fitted back-end: which model outputs it reads, in what order, and the logistic model."""

    def __init__(self, data: dict):
        self.blocks = list(data["blocks"])
        self.model = Logistic.from_dict(data["model"])
        self.fitted_on = data["fitted_on"]
        self.fitted_families = data["families"]

    def score(self, outputs: dict) -> np.ndarray:
        """Log-odds of the synthetic class per window of ``outputs`` ({score_<m>: (n,), embedding_<m>: (n, d), cues})."""
        return self.model.score(cm.features(outputs, self.blocks))

    def describe(self, sha256: str) -> dict:
        return {"kind": "logistic regression", "reads": self.blocks, "fitted_on_recordings": len(self.fitted_on),
                "fitted_on_families": self.fitted_families, "sha256": sha256}


@lru_cache(maxsize=1)
def _backend() -> tuple[InputFile, Backend]:
    """The shipped back-end, checked against its SHA256SUMS."""
    file = bundled_file(*BACKEND)
    return file, Backend(json.loads(file.data))
