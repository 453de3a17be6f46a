"""The labelled recordings of the corpus (genuine and synthetic speech), their generator
families and halves, and what the countermeasures (and the spectral cues of
:mod:`workbench.analyses.common.spectral_cues`) make of them, as published and through one channel.

Halves for the synthetic-speech measurements are split by **generator family**: anything fitted
(the back-end of :mod:`workbench.analyses.synthesis`) sees only :data:`TUNING_FAMILIES`, and is measured on
the others, which it never saw. Genuine recordings have no family; they are split by the source
they were published in (:data:`TUNING_GENUINE_SOURCES`, and for the older folders the real-set
split of :mod:`workbench.validation.real`), so no genuine recording is on both sides. The tuning
families are the older vocoders and TTS (WaveNet, WaveGlow, MelGAN, HiFi-GAN, Parallel WaveGAN,
Tacotron 2, Glow-TTS, ...); the measuring families are the newer end-to-end, diffusion and
zero-shot ones (VITS, YourTTS, Tortoise, Grad-TTS, DiffWave, WaveGrad, UnivNet, FastSpeech 2,
NSF, ...): fitted on the past, measured on what came later, as a case will be.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from workbench.analyses.common import countermeasures as cm
from workbench.analyses.common.spectral_cues import window_cues
from workbench.core.clip import Clip
from workbench.core.errors import WorkbenchError
from workbench.validation.channels import CHANNELS
from workbench.validation.real import evenly_spread, half_of, manifest_rows

LABELS = ("genuine", "synthetic")
TUNING_FAMILIES = frozenset({
    "Tacotron 2", "Glow-TTS", "MelGAN", "WaveNet", "HiFi-GAN", "WaveGlow", "Parallel WaveGAN", "WaveFlow",
    "ClariNet", "Full-band MelGAN", "FastSpeech",
})
"""Generator families the back-end is fitted on (290 synthetic recordings of synthetic2)."""
TUNING_GENUINE_SOURCES = frozenset({
    "synthetic2/hifigan_demo", "synthetic2/melgan_demo", "synthetic2/pwg_demo", "synthetic2/wavenet_vocoder_r9y9",
    "synthetic2/rtvc_samples", "synthetic2/resemblyzer", "synthetic2/glowtts_demo",
})
"""Sources of synthetic2 whose genuine recordings are on the tuning side (90 of its 180)."""
OLD_FAMILIES = {"resemblyzer": "unknown clone (YouTube)", "tortoise_tts": "Tortoise",
                "nii_nn_scripts": "vocoder not stated (NII)"}
"""Generator family of the synthetic recordings of the first corpus folders, which name none."""
HIFIGAN_FOLDERS = {"HGAN_V1": "HiFi-GAN", "WG": "WaveGlow", "MG": "MelGAN"}
MAX_PER_SOURCE = 6
"""Of each source outside synthetic2 and each label, at most this many recordings, spread evenly
in path order (1,200 spoken digits would otherwise outweigh the rest)."""
WINDOWS = {"published": 2, "telephone": 1, "mp3_32": 1, "opus_24": 1}
"""Windows scored per recording: two as published (as the models' yardstick was measured), one
through each channel."""


@dataclass(frozen=True)
class Labelled:
    """One labelled recording of the corpus."""

    path: Path
    sha256: str
    source: str
    label: str
    family: str
    speaker: str
    pair_group: str

    @property
    def half(self) -> str:
        if self.label == "synthetic":
            return "tuning" if self.family in TUNING_FAMILIES else "measuring"
        if self.source.startswith("synthetic2/"):
            return "tuning" if self.source in TUNING_GENUINE_SOURCES else "measuring"
        return half_of(self.source)


def _family(source: str, row: dict) -> str:
    if row.get("label") != "synthetic":
        return ""
    if row.get("family_group"):
        return row["family_group"]
    if source == "hifigan_demo":
        return next(f for folder, f in HIFIGAN_FOLDERS.items() if f"/{folder}/" in row["path"])
    return OLD_FAMILIES.get(source, source)


def labelled_recordings(corpus: Path) -> list[Labelled]:
    """Every genuine and synthetic recording of the manifests under ``corpus`` (outside
    synthetic2, at most :data:`MAX_PER_SOURCE` of each source and label), in path order."""
    rows = []
    for path, row, source in manifest_rows(corpus):
        if row.get("label") not in LABELS:
            continue
        speaker = row.get("speaker_or_dataset") or row.get("speaker_or_notes", "").split(";")[0]
        rows.append(Labelled(path, row["sha256"], source, row["label"], _family(source, row), speaker.strip(),
                             row.get("pair_group", "")))
    chosen = []
    for key in sorted({(r.source, r.label) for r in rows}):
        group = sorted((r for r in rows if (r.source, r.label) == key), key=lambda r: str(r.path))
        chosen += group if key[0].startswith("synthetic2/") else evenly_spread(group, MAX_PER_SOURCE)
    return chosen


def views(clip: Clip) -> dict[str, tuple[list[float], np.ndarray]]:
    """The windows each view scores: as published and through each channel of
    :data:`workbench.validation.channels.CHANNELS` (start times in s, and samples at 16 kHz)."""
    starts, windows = cm.windows(clip, max_windows=WINDOWS["published"], below_db=30.0)
    out = {"published": (starts, windows)}
    if not len(windows):
        return out
    middle = [len(windows) // 2]
    for name, channel in CHANNELS.items():
        out[name] = ([starts[i] for i in middle], np.array([channel(windows[i]).astype(np.float32)[: cm.WINDOW_SAMPLES]
                                                            for i in middle]))
    return out


def cache_key(recording: Labelled) -> str:
    """A file name for what was measured on ``recording``: its hash and the models' weights."""
    models = hashlib.sha256("".join(cm.weights_file(m).sha256 for m in cm.MODELS).encode()).hexdigest()[:12]
    return f"{recording.sha256[:24]}-{models}.npz"


def measure(recording: Labelled, clip: Clip | None, cache: Path | None) -> dict[str, dict[str, np.ndarray]]:
    """Scores, embeddings and spectral cues of ``recording`` in every view ({view: {key: array}}),
    read from ``cache`` when it holds them (what it lacks is measured from ``clip`` and added)."""
    stored = cache / cache_key(recording) if cache else None
    flat = None
    if stored is not None and stored.exists():
        with np.load(stored) as data:
            flat = dict(data)
    has_windows = flat is None or any(key.startswith("published/") for key in flat)
    if flat is None or (has_windows and "published/cues" not in flat):
        fresh, flat = flat is None, flat or {}
        for view, (_, windows) in views(clip).items():
            if len(windows):
                if fresh:
                    flat |= {f"{view}/{key}": value for key, value in cm.outputs(windows).items()}
                flat[f"{view}/cues"] = window_cues(windows)
        if stored is not None:
            stored.parent.mkdir(parents=True, exist_ok=True)
            np.savez(stored, **flat)
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, value in flat.items():
        view, name = key.split("/", 1)
        out.setdefault(view, {})[name] = value
    return out


def measure_all(corpus: Path, open_checked: Callable[[Path, str], Clip], cache: Path | None, *,
                progress: Callable[[str], None] | None = None) -> tuple[list[dict], list[dict]]:
    """:func:`measure` on every labelled recording.

    Returns
    -------
    measured : list of dict
        Per recording: the :class:`Labelled` fields, its half, and ``views`` ({view: {key: array}}).
    left_out : list of dict
        Path and reason of each recording that could not be opened or had no window with sound.
    """
    measured, left_out = [], []
    for recording in labelled_recordings(corpus):
        if progress:
            progress(f"countermeasures {recording.path.name}")
        try:
            outputs = measure(recording, open_checked(recording.path, recording.sha256), cache)
        except WorkbenchError as exc:
            left_out.append({"path": str(recording.path), "reason": str(exc)})
            continue
        if "published" not in outputs:
            left_out.append({"path": str(recording.path), "reason": "no 4-s window with sound"})
            continue
        measured.append({"path": str(recording.path), "sha256": recording.sha256, "source": recording.source, "label": recording.label,
                         "family": recording.family, "speaker": recording.speaker, "pair_group": recording.pair_group,
                         "half": recording.half, "views": outputs})
    return measured, left_out
