"""The bundled demo "disputed clip": generated speech with known artifacts planted at known places."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.material import plant
from workbench.material.scene import Fixture, inside_phrase
from workbench.material.synth import recording

DEMO_TAGS = {
    "title": "Interview <recording> \"2026\" & notes",
    "software": "Lavf60.16.100",
    "date": "2026-03-14",
    "comment": "Forwarded copy; origin unknown",
}


def demo(*, seed: int = 7) -> Fixture:
    """The bundled "disputed clip": 30 s stereo at 44.1 kHz with level and channel artifacts."""
    rec = recording(seed=seed, duration_s=30.0, sample_rate_hz=44100, channels=2)
    sr, x = 44100, rec.samples
    x, silence = plant.digital_silence(x, sr, start_s=inside_phrase(rec.phrases_s, 6.0), length_s=0.3)
    x, clipped = plant.clipping(x, sr, start_s=inside_phrase(rec.phrases_s, 12.0), length_s=0.7)
    x, inverted = plant.polarity_inversion(x, sr, start_s=18.0, length_s=3.0)
    x, step = plant.dc_step(x, sr, at_s=24.0, offset=0.015)
    return Fixture(
        x, sr, [silence, clipped, inverted, step],
        "demo disputed clip: digital silence, clipping, a polarity-inverted stretch and a DC step",
    )


def write_demo(folder: Path) -> tuple[Path, dict]:
    """The demo clip as ``folder/demo-disputed.wav`` (written once, kept after) and its truth."""
    evidence = folder / "demo-disputed.wav"
    folder.mkdir(parents=True, exist_ok=True)
    if not evidence.exists():
        demo().write(evidence, tags=DEMO_TAGS)
    return evidence, json.loads(Path(f"{evidence}.truth.json").read_text(encoding="utf-8"))
