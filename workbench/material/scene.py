"""A generated recording with the truth of what was planted in it, and where speech is in it.

A :class:`Fixture` (samples, rate, truth) can be written as audio with its truth beside it as
JSON: the demo clip, the generated validation set and the tests are made of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.material.plant import Planted


@dataclass
class Fixture:
    """A generated recording and the truth of every artifact planted in it."""

    samples: np.ndarray
    sample_rate_hz: int
    truth: list[Planted] = field(default_factory=list)
    description: str = ""

    def write(self, path: Path, *, subtype: str = "PCM_16", tags: dict[str, str] | None = None) -> Path:
        """Write the audio to ``path`` (format from its extension) and the truth to
        ``<path>.truth.json``; return the audio path."""
        import soundfile as sf

        path = Path(path)
        with sf.SoundFile(
            str(path), mode="w", samplerate=self.sample_rate_hz,
            channels=self.samples.shape[1], subtype=subtype,
        ) as handle:
            for key, value in (tags or {}).items():
                setattr(handle, key, value)
            handle.write(self.samples)
        truth = {
            "description": self.description,
            "sample_rate_hz": self.sample_rate_hz,
            "channels": int(self.samples.shape[1]),
            "planted": [p.to_dict() for p in self.truth],
        }
        Path(f"{path}.truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
        return path


def recording_phrases(fixture: "Fixture") -> list[tuple[float, float]]:
    """Spans of speech in a fixture, from the RMS envelope (a Fixture keeps no phrase list)."""
    sr = fixture.sample_rate_hz
    hop = sr // 20
    x = fixture.samples[:, 0]
    level = np.sqrt(np.mean(x[: x.size // hop * hop].reshape(-1, hop) ** 2, axis=1))
    loud = level > np.max(level) * 0.05
    edges = np.flatnonzero(np.diff(np.concatenate(([0], loud.astype(int), [0]))))
    return [(a * hop / sr, b * hop / sr) for a, b in zip(edges[::2], edges[1::2])]


def inside_phrase(phrases: list[tuple[float, float]], near_s: float) -> float:
    """A time inside the phrase closest to ``near_s`` (so a planted artifact sits in speech)."""
    start, end = min(phrases, key=lambda p: abs((p[0] + p[1]) / 2 - near_s))
    return round(start + 0.3 * (end - start), 3)
