"""``watermark``: the Perth neural watermark (resemble-perth), read window by window.

Resemble AI's Perth implicit watermark is added by its Chatterbox text-to-speech models to
everything they generate. Its detector's weights ship inside the MIT-licensed resemble-perth
wheel (the optional ``watermark`` extra); the workbench locates that file without importing the
package, checks its SHA-256 against the version it was measured with, and runs the decoder
adapted in ``analyses/perth`` (torch only; the package's own loader needs torchaudio). A user
may name another PerthNet checkpoint (``--param watermark.model=PATH``): read and hashed by the
workbench, loaded with ``weights_only=True``.
"""

from __future__ import annotations

import importlib.util
import io
from functools import lru_cache
from pathlib import Path

import numpy as np

from workbench.analysis import Analysis, FigureOut, InputFile, Result, Track, param
from workbench.bundled import installed_file
from analyses.common.windows import sounding_windows
from reports.model import Finding
from reports.plotting import format_time_axis, new_figure
from workbench.clip import Clip
from workbench.errors import ParameterError

DETECTOR = "PerthNet implicit (resemble-perth 1.0.1)"
WEIGHTS = ("perth", "perth_net/pretrained/implicit/perth_net_250000.pth.tar",
           "a15bce457ebc53ce5e6c9c3f11df78cf7ee2bf9cdab0a798902135b4c4027670")
"""Package, path inside it and SHA-256 of the detector weights the workbench was measured with."""
WINDOW_S = 10.0
SHORTEST_S = 1.0
"""A clip, or the last window of one, shorter than this is not read: on the tuning half of the
corpus, sub-second spoken digits read as marked at 0.5 in 80 of 1,109 genuine recordings, windows
of 1 s or more in none of 165."""
MARKED_AT = 0.8
"""A window is read as marked at this confidence or above. Chosen on the tuning half of the corpus:
genuine windows of 1 s or more reached at most 0.48, marked copies (WAV and MP3) at least 0.97.
Perth's own reader rounds at 0.5, which marked 1 in 84 genuine recordings of the measuring half."""
CHECKPOINT_MAX_BYTES = 256 * 2**20


class Watermark(Analysis):
    """Confidence of the Perth watermark decoder, window by window."""

    name = "watermark"
    version = "1.0"
    min_sample_rate_hz = 8000
    description = "The Perth neural watermark (Chatterbox text-to-speech), window by window."
    measures = (
        f"The mono mix at 32 kHz cut into {WINDOW_S:.0f}-s windows; the sounding ones are read by the "
        "Perth implicit watermark decoder (resemble-perth 1.0.1, Resemble AI, MIT), which looks for its "
        "mark in the magnitude spectrogram below 2 kHz. Each window gets the decoder's confidence "
        f"(0-1); at {MARKED_AT} or above the window is a 'watermark' place with that confidence as its "
        "strength (the threshold was chosen on half of our third-party recordings; Perth's own reader "
        "says 'marked' from 0.5, which false-alarms more). Windows shorter than 1 s are not read: on "
        "sub-second clips the decoder false-alarms. The Perth implicit mark carries no message: only "
        "its presence is read."
    )
    cannot_show = (
        "A mark present says the audio passed through a Perth watermarker (Resemble AI's products "
        "and the open Chatterbox models add it); it says nothing of what was said or by whom, and "
        "anyone can add the mark to any recording. A mark absent says nothing: most generators add "
        "none, and cropping, filtering, strong compression or re-recording can remove it. Other "
        "watermarks (AudioSeal, WavMark, SilentCipher) are not read."
    )

    model: InputFile | None = param(
        None, "A local PerthNet checkpoint instead of the resemble-perth weights; read and hashed by "
        "the workbench, loaded with weights_only=True. The measured error rates are those of the "
        "resemble-perth weights.", max_bytes=CHECKPOINT_MAX_BYTES)
    max_windows: int = param(30, f"At most this many {WINDOW_S:.0f}-s windows with sound are read, "
                             "spread evenly over the sound (about 0.1 s each on one core).", at_least=1)
    sounding_below_db: float = param(30.0, "Windows more than this far below the loudest (95th "
                                     "percentile) are not read.", above=0)

    def check(self) -> None:
        if self.model is not None and importlib.util.find_spec("torch") is not None:
            _load(self.model.data)  # a checkpoint that cannot load is refused now

    def prepare(self) -> None:
        weights = self._weights()
        if weights is not None and importlib.util.find_spec("torch") is not None:
            _load(weights.data)

    def _weights(self) -> InputFile | None:
        """The weights used: the user's checkpoint, or the resemble-perth wheel's (None when it is
        not installed)."""
        return self.model or installed_file(*WEIGHTS)

    def run(self, clip: Clip) -> Result:
        if importlib.util.find_spec("torch") is None:
            return Result.skipped("torch is not installed (pip install '.[watermark]'): no watermark read")
        weights = self._weights()
        if weights is None:
            return Result.skipped("resemble-perth is not installed (pip install '.[watermark]'): "
                                  "no watermark read")
        from analyses.perth import net

        network = _load(weights.data)
        starts, windows = sounding_windows(clip, net.SAMPLE_RATE_HZ, int(WINDOW_S * net.SAMPLE_RATE_HZ),
                                           max_windows=self.max_windows, below_db=self.sounding_below_db,
                                           shortest_samples=int(SHORTEST_S * net.SAMPLE_RATE_HZ))
        if not windows:
            return Result.skipped(f"no stretch of {SHORTEST_S} s or more with sound: nothing to read")
        confidences = _confidences(network, windows)
        ends = [s + w.size / net.SAMPLE_RATE_HZ for s, w in zip(starts, windows)]
        marked = confidences >= MARKED_AT
        measurements = {
            "watermark_detector": DETECTOR if self.model is None else "PerthNet, user checkpoint",
            "watermark_message": "none (the Perth implicit mark carries no message, only its presence)",
            "watermark_confidence": float(np.median(confidences)),
            "watermark_confidence_range": [float(confidences.min()), float(confidences.max())],
            "windows_read": int(confidences.size),
            "windows_marked": int(marked.sum()),
            "window_confidences": [{"start_s": float(s), "end_s": float(e), "confidence": float(c)}
                                   for s, e, c in zip(starts, ends, confidences)],
        }
        parameters = {"model_sha256": weights.sha256, "model_file": Path(weights.path).name,
                      "model_source": "user checkpoint" if self.model else "resemble-perth 1.0.1 wheel (PyPI)"}
        findings = [Finding("watermark", s, e, c, True,
                            f"The Perth watermark decoder reads this window as marked (confidence {c:.2f}).",
                            {"confidence": float(c)})
                    for s, e, c, m in zip(starts, ends, confidences, marked) if m]
        centres = (np.array(starts) + np.array(ends)) / 2
        track = Track("Perth watermark confidence", centres, confidences, spans_s=WINDOW_S)
        return Result(measurements=measurements, parameters=parameters, findings=findings, tracks=[track],
                      figures=[_figure(clip, centres, confidences)])


def _figure(clip: Clip, centres: np.ndarray, confidences: np.ndarray) -> FigureOut:
    fig, (ax,) = new_figure(height_in=2.4)
    ax.plot(centres, confidences, "o", color="#1f4e79", markersize=4)
    ax.axhline(MARKED_AT, color="#b03030", linestyle="--", linewidth=0.8)
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("decoder confidence")
    ax.set_title(f"Perth watermark decoder, per {WINDOW_S:.0f}-s window; dashed: 'marked' from {MARKED_AT}",
                 loc="left")
    ax.grid(True, alpha=0.3)
    format_time_axis(ax, clip.duration_s)
    return FigureOut("confidence", fig, "Perth watermark decoder confidence of each window read.")


@lru_cache(maxsize=2)
def _load(data: bytes):
    """The PerthNet of the checkpoint in ``data`` (the published ``{"model": state dict}`` or a
    bare state dict), loaded with ``weights_only``.

    Raises
    ------
    ParameterError
        When ``data`` is not a PerthNet checkpoint that loads with ``weights_only``.
    """
    import torch

    from analyses.perth import net

    torch.set_num_threads(1)  # the pipeline runs analyses side by side on the cores
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        state = state.get("model", state)
        network = net.PerthNet()
        # The published file also holds the STFT window of the package's audio processor.
        network.load_state_dict({k: v for k, v in state.items() if not k.startswith("ap.")})
    except Exception as exc:  # a hostile or foreign file: torch raises many kinds
        raise ParameterError("watermark.model: the file is not a PerthNet checkpoint that loads with "
                             f"weights_only=True ({type(exc).__name__})") from None
    network.eval()
    return network


def _confidences(network, windows: list[np.ndarray]) -> np.ndarray:
    """The decoder's confidence (0-1) for each 32 kHz window."""
    import torch

    from analyses.perth import net

    with torch.no_grad():
        return np.array([net.confidence(network, torch.from_numpy(w)) for w in windows])
