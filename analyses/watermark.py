"""``watermark``: the Perth neural watermark (resemble-perth), read window by window.

Resemble AI's Perth implicit watermark is added by its Chatterbox text-to-speech models to
everything they generate. Its detector's weights ship inside the MIT-licensed resemble-perth 1.0.1
wheel; the decoder network, adapted in ``analyses/perth/net.py``, was exported from them to ONNX
(``analyses/perth/perth_decoder.onnx``, with the source's SHA-256) and runs in ONNX Runtime on a
magnitude spectrogram computed here as Perth computes it. A user may name another decoder
(``--param watermark.model=PATH``): an ONNX graph of the same shape, or, with the ``torch`` extra,
a PerthNet checkpoint loaded with ``weights_only=True``; either is read and hashed by the workbench.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.analyses.common import onnx_models
from workbench.analyses.common.windows import sounding_windows
from workbench.analyses.perth.spectrum import N_FFT, RATE_HZ, magnitude
from workbench.core.analysis import Analysis, FigureOut, FindingKind, InputFile, Result, Track, param
from workbench.core.clip import Clip
from workbench.core.errors import ParameterError
from workbench.core.model import Finding
from workbench.core.plotting import format_time_axis, new_figure

DETECTOR = "PerthNet implicit (resemble-perth 1.0.1)"
WEIGHTS = ("perth", "perth_net/pretrained/implicit/perth_net_250000.pth.tar",
           "a15bce457ebc53ce5e6c9c3f11df78cf7ee2bf9cdab0a798902135b4c4027670")
"""Package, path inside it and SHA-256 of the detector weights the workbench was measured with,
which the ONNX decoder was exported from."""
DECODER = onnx_models.Graph("perth", "perth_decoder.onnx", ((N_FFT // 2 + 1, None),), ((),))
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

    kinds = (FindingKind("watermark", "the Perth decoder's confidence (0-1) for the window"),)
    measurement_keys = (
        "watermark_confidence", "watermark_confidence_range", "watermark_detector",
        "watermark_message", "window_confidences", "windows_marked", "windows_read",
    )

    model: InputFile | None = param(
        None, "A local Perth decoder instead of the resemble-perth one: an ONNX graph of the same "
        "inputs and outputs, or (with the torch extra) a PerthNet checkpoint, loaded with "
        "weights_only=True; read and hashed by the workbench. The measured error rates are those of "
        "the resemble-perth weights.", max_bytes=CHECKPOINT_MAX_BYTES)
    max_windows: int = param(30, f"At most this many {WINDOW_S:.0f}-s windows with sound are read, "
                             "spread evenly over the sound (about 0.1 s each on one core).", at_least=1)
    sounding_below_db: float = param(30.0, "Windows more than this far below the loudest (95th "
                                     "percentile) are not read.", above=0)

    def check(self) -> None:
        if self.model is not None:
            self._decoder()  # a decoder that cannot load is refused now

    def prepare(self) -> None:
        self._decoder()

    def _decoder(self) -> Decoder:
        """The decoder that reads: the user's, or the exported resemble-perth one."""
        if self.model is None:
            return Decoder(onnx_models.session(DECODER.bundled.data))
        try:
            return Decoder.of(self.model.data)
        except ParameterError as exc:
            raise ParameterError(f"watermark.model: {exc}") from None

    def run(self, clip: Clip) -> Result:
        decoder = self._decoder()
        starts, windows = sounding_windows(clip, RATE_HZ, int(WINDOW_S * RATE_HZ),
                                           max_windows=self.max_windows, below_db=self.sounding_below_db,
                                           shortest_samples=int(SHORTEST_S * RATE_HZ))
        if not windows:
            return Result.skipped(f"no stretch of {SHORTEST_S} s or more with sound: nothing to read")
        confidences = np.array([decoder.confidence(w) for w in windows])
        ends = [s + w.size / RATE_HZ for s, w in zip(starts, windows)]
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
        if self.model is None:
            parameters = {"model_sha256": WEIGHTS[2], "model_file": Path(WEIGHTS[1]).name,
                          "model_source": "resemble-perth 1.0.1 wheel (PyPI), decoder exported to ONNX",
                          "onnx_sha256": DECODER.bundled.sha256}
        else:
            parameters = {"model_sha256": self.model.sha256, "model_file": Path(self.model.path).name,
                          "model_source": "user checkpoint"}
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


class Decoder:
    """A Perth decoder: an ONNX Runtime session, or a torch PerthNet (a user's ``.pth``)."""

    def __init__(self, session=None, network=None):
        self.session, self.network = session, network

    @classmethod
    def of(cls, data: bytes) -> "Decoder":
        """The decoder in a user's file: an ONNX graph of :data:`DECODER`'s shape, or a PerthNet
        checkpoint when torch is installed.

        Raises
        ------
        ParameterError
            When the file is neither, or a checkpoint and torch is not installed.
        """
        if onnx_models.is_onnx(data):
            return cls(session=onnx_models.checked_session(data, DECODER))
        try:
            from workbench.analyses.perth import net
        except ImportError:
            raise ParameterError("a PerthNet checkpoint needs torch (pip install '.[torch]'); an ONNX "
                                 "graph does not") from None
        return cls(network=net.load_checkpoint(data))

    def confidence(self, signal: np.ndarray) -> float:
        """The confidence (0-1, clipped) that a 32 kHz signal carries the mark."""
        if self.session is None:
            from workbench.analyses.perth import net

            return net.confidence(self.network, signal)
        value = onnx_models.run(self.session, magnitude(signal)[None])[0]
        return float(np.clip(value[0], 0.0, 1.0))
