"""``speaker``: speaker embeddings of the whole clip and of its segments (Resemblyzer), and
segments whose voice differs from the rest of the clip.

The encoder is Resemblyzer's pretrained GE2E network (Apache-2.0), exported to ONNX from the
``pretrained.pt`` of its 0.1.4 wheel (``analyses/resemblyzer``: licence, provenance, SHA-256) and
run with ONNX Runtime. Its mel spectrogram and its partial windows are computed here as
Resemblyzer's ``audio.wav_to_mel_spectrogram`` and ``VoiceEncoder.compute_partial_slices`` do, so
the package itself is needed only to export the graph again.
"""

from __future__ import annotations

import librosa
import numpy as np

from workbench.analyses.common import onnx_models
from workbench.analyses.common.comparable import Embedding
from workbench.analyses.common.resample import mono_pieces
from workbench.analyses.common.runs import touching_groups
from workbench.core.analysis import Analysis, FigureOut, Finding, FindingKind, Result, Track, param
from workbench.core.clip import Clip
from workbench.core.plotting import format_time_axis, mmss, new_figure, shade_findings

ENCODER_RATE_HZ = 16000
MEL_BANDS = 40
MEL_WINDOW = 400
"""25 ms at 16 kHz: Resemblyzer's mel window (and FFT length)."""
MEL_HOP = 160
"""10 ms at 16 kHz."""
PARTIAL_FRAMES = 160
"""Mel frames in one encoder window (1.6 s)."""
LAST_WINDOW_COVERAGE = 0.75
"""A last encoder window is kept when at least this share of it holds audio (Resemblyzer's default)."""
ENCODER = onnx_models.Graph("resemblyzer", "encoder.onnx", ((PARTIAL_FRAMES, MEL_BANDS),), ((256,),))
ENCODER_WEIGHTS = ("resemblyzer", "pretrained.pt", "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e")
"""Package, path inside it and SHA-256 of the weights the graph was exported from."""
PIECE_S = 60.0
"""The encoder works on pieces of this length (s): the mel spectrogram of a 5-minute piece alone
took 0.25 GB."""
PARTIAL_RATE_PER_S = 2.0
"""Partial embeddings (1.6-s windows each) per second of audio: consecutive windows overlap by 1.1 s."""
ENCODER_BATCH = 64
"""Encoder windows per forward pass: 600 at once held about 0.7 GB of LSTM activations."""
SILENT_DBFS = -80.0
"""Encoder windows at or below this level (after volume normalisation) are silent whatever else."""
TARGET_DBFS = -30.0
"""Resemblyzer's own volume normalisation target."""


class Speaker(Analysis):
    """Speaker embeddings (GE2E encoder, Resemblyzer) per segment and for the whole clip."""

    name = "speaker"
    version = "1.2"
    min_sample_rate_hz = 8000  # the encoder was trained on speech with the telephone band or more
    heavy = True
    description = "Speaker embeddings per segment and whole (Resemblyzer); segments unlike the rest."
    measures = (
        "The mono mix at 16 kHz, volume-normalised as Resemblyzer does, through Resemblyzer's "
        "pretrained GE2E speaker encoder (3-layer LSTM, 256-dimensional embedding): one partial "
        "embedding per 1.6-s window, two per second; windows in silence are left out. The whole "
        "clip's embedding is the normalised mean of all partials, a segment's the mean of the "
        "partials centred in it. For each segment: the cosine similarity to the mean of all other "
        "segments. A segment whose similarity lies well below the median segment's is a "
        "speaker_change; strength is the shortfall divided by (shortfall + margin). With "
        "references, the comparison section sets these embeddings beside theirs."
    )
    cannot_show = (
        "Embedding similarity changes with the microphone, channel, codec, noise, emotion and "
        "speaking style, not only with the speaker; a low-similarity segment can be shouting, "
        "laughter, music or a second genuine speaker in a conversation. The encoder was trained "
        "on read English speech; it is not a forensic speaker-recognition system. How often it "
        "flags genuine recordings is measured (below); how often it finds a voice "
        "inserted into a real recording is not. It cannot show who is speaking or that speech "
        "is synthetic (good voice clones embed close to the real speaker)."
    )

    kinds = (
        FindingKind("speaker_change", "shortfall below the median similarity / (shortfall + 0.07)"),
    )
    measurement_keys = (
        "embedding", "partials_used", "segment_similarity_median", "segment_similarity_min",
        "segments",
    )

    comparable = (Embedding("embedding", "segments", "speaker", 0.05),)

    segment_s: float = param(4.0, "Length of the segments compared.", at_least=2)
    silent_below_db: float = param(30.0, "Encoder windows more than this far below the loud level "
                                   "(95th percentile of each 1-minute piece) are silent and left out.",
                                   above=0)
    change_margin: float = param(0.07, "A segment is flagged when its similarity to the rest of the "
                                 "clip lies below the median segment's by more than this (cosine), "
                                 "and by more than change_mads robust spreads.", above=0, below=1)
    change_mads: float = param(3.0, "See change_margin.", above=0)

    def prepare(self) -> None:
        onnx_models.session(ENCODER.bundled.data)

    def run(self, clip: Clip) -> Result:
        centres, partials, slots = _partials(clip, self.silent_below_db)
        if partials.shape[0] < 4:
            return Result.skipped("less than about 3 s of sound for the speaker encoder")
        whole = _unit(partials.mean(axis=0))
        segments = self._segments(centres, partials, slots, clip.duration_s)
        measurements = {"embedding": np.round(whole, 5), "partials_used": int(partials.shape[0])}
        findings, track = [], (np.zeros(0), np.zeros(0))
        if len(segments) >= 3:
            embeddings = np.array([s["embedding"] for s in segments])
            total = embeddings.sum(axis=0)
            similarity = np.array([_unit(e) @ _unit(total - e) for e in embeddings])
            median = float(np.median(similarity))
            spread = 1.4826 * float(np.median(np.abs(similarity - median)))
            limit = median - max(self.change_margin, self.change_mads * spread)
            for segment, value in zip(segments, similarity):
                segment["similarity_to_rest"] = float(value)
            starts = np.array([s["start_s"] for s in segments])
            ends = np.array([s["end_s"] for s in segments])
            # Adjacent segments below the limit are one place.
            for group in touching_groups(starts, ends, similarity < limit):
                worst = float(similarity[group].min())
                start, end = float(starts[group[0]]), float(ends[group[-1]])
                shortfall = median - worst
                findings.append(Finding(
                    kind="speaker_change", start_s=start, end_s=end,
                    strength=shortfall / (shortfall + self.change_margin), flagged=True,
                    summary=(f"The voice from {mmss(start)} to {mmss(end)} embeds at similarity "
                             f"{worst:.2f} to the rest of the clip{' (its lowest segment)' if len(group) > 1 else ''}; "
                             f"the median segment's is {median:.2f}."),
                    details={"similarity": worst, "median_similarity": median},
                ))
            measurements |= {"segment_similarity_median": median, "segment_similarity_min": float(similarity.min())}
            track = (np.array([(s["start_s"] + s["end_s"]) / 2 for s in segments]), similarity,
                     np.array([s["end_s"] - s["start_s"] for s in segments]))
        measurements["segments"] = [
            {**s, "embedding": np.round(s["embedding"], 4)} for s in segments]
        figures = [self._figure(clip, segments, findings)] if len(segments) >= 3 else []
        return Result(
            measurements=measurements, findings=findings, figures=figures,
            parameters={"encoder": "resemblyzer 0.1.4 GE2E (pretrained.pt), exported to ONNX",
                        "encoder_sha256": ENCODER.bundled.sha256,
                        "encoder_rate_hz": ENCODER_RATE_HZ, "partial_rate_per_s": PARTIAL_RATE_PER_S},
            tracks=[Track("speaker similarity", *track)] if track[0].size else [],
        )

    def _segments(self, centres: np.ndarray, partials: np.ndarray, slots: np.ndarray, duration_s: float) -> list[dict]:
        """Consecutive segments of ``segment_s`` that hold a full segment's encoder windows (the
        first and last of the clip, or of a piece, hold fewer: their lower similarity was an edge
        effect that flagged genuine recordings) and in which at least three quarters of them carry
        sound (a mostly silent segment embeds too noisily to compare)."""
        segments = []
        full = int(round(self.segment_s * PARTIAL_RATE_PER_S))
        needed = max(2, int(0.75 * full))
        for start in np.arange(0.0, duration_s, self.segment_s):
            inside = (centres >= start) & (centres < start + self.segment_s)
            windows = np.count_nonzero((slots >= start) & (slots < start + self.segment_s))
            if windows >= full and np.count_nonzero(inside) >= needed:
                segments.append({"start_s": float(start), "end_s": float(min(duration_s, start + self.segment_s)),
                                 "partials": int(np.count_nonzero(inside)),
                                 "embedding": _unit(partials[inside].mean(axis=0))})
        return segments

    def _figure(self, clip: Clip, segments: list[dict], findings: list[Finding]) -> FigureOut:
        fig, (ax,) = new_figure(height_in=2.6)
        for segment in segments:
            ax.hlines(segment["similarity_to_rest"], segment["start_s"], segment["end_s"],
                      color="#1f4e79", linewidth=3)
        shade_findings(ax, findings, label=False)
        ax.set_ylabel("cosine similarity\nto the rest")
        ax.set_title(f"Speaker similarity of each {self.segment_s:g}-s segment to the rest of the clip "
                     "(red: speaker_change)", loc="left")
        ax.grid(True, alpha=0.3)
        format_time_axis(ax, clip.duration_s)
        return FigureOut("similarity", fig, "Each segment's speaker-embedding similarity to the mean "
                         "of all other segments.")


def _partials(clip: Clip, silent_below_db: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre times (s) and partial embeddings (n, 256) of the encoder windows with sound, and the
    centre times of every encoder window, with sound or not.

    Resemblyzer's own steps (:func:`partial_slices`, :func:`mel_spectrogram`, the encoder) as in
    its ``embed_utterance``, except that windows in silence (below ``SILENT_DBFS``, or
    ``silent_below_db`` under the piece's 95th-percentile window) never reach the network: they
    would cost time and blur the embeddings.
    """
    encoder = onnx_models.session(ENCODER.bundled.data)
    centres, partials, slots = [], [], []
    for start_s, y in mono_pieces(clip, ENCODER_RATE_HZ, piece_s=PIECE_S):
        if y.size < 1.6 * ENCODER_RATE_HZ:
            continue
        rms = np.sqrt(np.mean(y**2))
        gain = max(1.0, 10 ** (TARGET_DBFS / 20) / rms) if rms > 0 else 1.0
        wav_slices, mel_slices = partial_slices(y.size, PARTIAL_RATE_PER_S)
        slots += [start_s + (w.start + w.stop) / 2 / ENCODER_RATE_HZ for w in wav_slices]
        wav = np.pad(y * gain, (0, max(0, wav_slices[-1].stop - y.size))).astype(np.float32)
        energy = np.concatenate(([0.0], np.cumsum(wav.astype(np.float64) ** 2)))
        levels = np.array([10 * np.log10((energy[w.stop] - energy[w.start]) / (w.stop - w.start) + 1e-20)
                           for w in wav_slices])
        sounding = (levels > SILENT_DBFS) & (levels >= np.percentile(levels, 95) - silent_below_db)
        if not sounding.any():
            continue
        mel = mel_spectrogram(wav)
        mels = np.array([mel[m] for m, keep in zip(mel_slices, sounding) if keep])
        # In batches: the LSTM keeps every time step's activations of its whole batch.
        partials.append(onnx_models.run(encoder, mels, batch=ENCODER_BATCH)[0])
        centres += [start_s + (w.start + w.stop) / 2 / ENCODER_RATE_HZ
                    for w, keep in zip(wav_slices, sounding) if keep]
    if not partials:
        return np.zeros(0), np.zeros((0, 256)), np.array(slots)
    return np.array(centres), np.concatenate(partials), np.array(slots)


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """The encoder's input [shape=(frames, MEL_BANDS)]: a power mel spectrogram (not in dB) of a
    16 kHz signal, 25-ms windows every 10 ms, as Resemblyzer's ``wav_to_mel_spectrogram``."""
    mel = librosa.feature.melspectrogram(y=wav, sr=ENCODER_RATE_HZ, n_fft=MEL_WINDOW, hop_length=MEL_HOP,
                                         n_mels=MEL_BANDS)
    return mel.astype(np.float32).T


def partial_slices(n_samples: int, rate_per_s: float) -> tuple[list[slice], list[slice]]:
    """Sample and mel-frame ranges of the encoder windows over ``n_samples`` samples at 16 kHz,
    ``rate_per_s`` windows a second, as Resemblyzer's ``compute_partial_slices``: the ranges
    may run past the end (pad the signal to the last one); a last window less than
    ``LAST_WINDOW_COVERAGE`` full is dropped unless it is the only one."""
    n_frames = int(np.ceil((n_samples + 1) / MEL_HOP))
    frame_step = int(np.round(ENCODER_RATE_HZ / rate_per_s / MEL_HOP))
    firsts = range(0, max(1, n_frames - PARTIAL_FRAMES + frame_step + 1), frame_step)
    mel_slices = [slice(i, i + PARTIAL_FRAMES) for i in firsts]
    wav_slices = [slice(i * MEL_HOP, (i + PARTIAL_FRAMES) * MEL_HOP) for i in firsts]
    coverage = (n_samples - wav_slices[-1].start) / (wav_slices[-1].stop - wav_slices[-1].start)
    if coverage < LAST_WINDOW_COVERAGE and len(mel_slices) > 1:
        return wav_slices[:-1], mel_slices[:-1]
    return wav_slices, mel_slices


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) + 1e-12)
