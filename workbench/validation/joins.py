"""The join detector's training recipe: joins made from the tuning half only, a logistic model
over the boundary comparisons, and a threshold from the tuning half's genuine recordings.

``make validate`` runs it before measuring anything, writes ``join_detector.json`` beside the
results and measures that detector on the measuring half; the Makefile then copies it into the
package (``analyses/backend/``). ``make train-joins`` runs this step alone.

Training material, from each genuine tuning recording of :data:`MIN_RECORDING_S` or more (at most
:data:`MAX_PER_SOURCE` a source): :data:`JOINS_PER_RECORDING` joins with a recording of another
tuning source (:func:`~workbench.validation.real_material.join_between`: at a pause and mid-word in
turn, level-matched, crossfades of 0, 2, 5 and 10 ms in turn) and one stretch of another source's
room tone at +6 dB. Positives: the boundary nearest each join; negatives: boundaries more than a
side plus 0.3 s from it, and every boundary of the unedited recordings.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from workbench.analyses.common.boundary_features import clip_boundaries
from workbench.analyses.common.logistic import fit_logistic
from workbench.analyses.consistency import DETECTOR, JoinDetector
from workbench.core.atomic import atomic_write_text
from workbench.core.clip import Clip
from workbench.core.errors import WorkbenchError
from workbench.validation.real import genuine_recordings, material_of, opened, spread_by
from workbench.validation.real_material import Material, join_between, room_tone_mixed
from workbench.validation.synthetic import auc

SIDE_S = 3.0
"""Each side's window (s). Chosen on the tuning half: the model's AUC over boundaries there was
0.85 at 1.5 s, 0.89 at 2 s and 0.93 at 3 s."""
STEP_S = 0.1
"""Spacing (s) of the candidate boundaries."""
MIN_RECORDING_S = 4.0
"""Shorter recordings leave too little either side of a join in their middle."""
MAX_PER_SOURCE = 12
"""At most this many recordings of a source, spread evenly in path order."""
NONNEGATIVE = True
"""Weights held at zero or above (see :func:`~workbench.analyses.common.logistic.fit_logistic`)."""
JOINS_PER_RECORDING = 8
CROSSFADES_S = (0.0, 0.002, 0.005, 0.01)
L2 = 0.01
"""Penalty of the logistic fit (per unit of sample weight): little, the features are few."""


def tuning_materials(corpus: Path, left_out: list[dict], *,
                     progress: Callable[[str], None] | None = None) -> list[tuple[Material, str]]:
    """The tuning half's genuine recordings of :data:`MIN_RECORDING_S` or more, decoded and
    checked, each with its SHA-256."""
    recordings = [r for r in genuine_recordings(corpus) if r.half == "tuning" and r.duration_s >= MIN_RECORDING_S]
    return [(material_of(r, clip.read(0, clip.frames).astype(np.float64), clip.sample_rate_hz), r.sha256)
            for r, clip in opened(spread_by(recordings, lambda r: r.source, MAX_PER_SOURCE), left_out, progress,
                                  what="join training")]


def _features(mono: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    return clip_boundaries(Clip.from_array(mono.astype(np.float32)[:, None], rate), side_s=SIDE_S, step_s=STEP_S)


def training_edits(materials: list[Material]):
    """Each training edit: (samples, join times in s, rate)."""
    for m in materials:
        others = [o for o in materials if o.source != m.source]
        if not others:
            continue
        rng = np.random.default_rng(zlib.crc32(m.path.name.encode()))
        for k in range(JOINS_PER_RECORDING):
            made = join_between(m, others[int(rng.integers(len(others)))], rng, ("pause", "word")[k % 2],
                                CROSSFADES_S[k % len(CROSSFADES_S)])
            if made:
                yield made[0][:, 0], [t.start_s for t in made[1]], m.rate
        made = room_tone_mixed(m, others[int(rng.integers(len(others)))], rng, 6.0)
        if made:
            yield made[0][:, 0], [t.start_s for t in made[1]], m.rate


def train(corpus: Path, outdir: Path, *, progress: Callable[[str], None] | None = None) -> dict:
    """Fit the detector on ``corpus``'s tuning half and write it as ``outdir/join_detector.json``;
    return what the fit measured, with the file's path and the recordings left out.

    Raises
    ------
    WorkbenchError
        When the tuning half holds no two sources to join.
    """
    left_out: list[dict] = []
    checked = tuning_materials(corpus, left_out, progress=progress)
    materials = [m for m, _ in checked]
    if len({m.source for m in materials}) < 2:
        raise WorkbenchError(f"{corpus}: the tuning half needs recordings of {MIN_RECORDING_S:g} s or more from "
                             "two sources to make joins from; the join detector was not fitted")
    detector, summary = fit_detector(materials, progress=progress, fitted_on=tuple(
        {"path": str(m.path.relative_to(corpus)), "source": m.source, "sha256": sha256} for m, sha256 in checked))
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / DETECTOR[2]
    atomic_write_text(path, detector.to_json(training=summary))
    return summary | {"file": str(path), "left_out": left_out}


def markdown_training(summary: dict) -> list[str]:
    """The join detector's training as Markdown lines."""
    if "not_fitted" in summary:
        return ["", f"The join detector was not fitted ({summary['not_fitted']}): the shipped one was measured."]
    return ["", "### The join detector (`consistency`)", "",
            f"Fitted by `make validate` on the tuning half only: {summary['edits']} edits made from "
            f"{summary['recordings']} genuine tuning recordings of {MIN_RECORDING_S:g} s or more "
            f"({summary['tuning_genuine_minutes']:.1f} min; joins with another tuning source at pauses and mid-word, "
            "level-matched, 0-10 ms crossfades, and room tone from another source at +6 dB), "
            f"{summary['positives']} boundaries at a join against {summary['negatives']} elsewhere; a logistic "
            f"model over the boundary comparisons (sides of {SIDE_S:g} s, every {STEP_S:g} s). AUC over "
            f"boundaries on the tuning half: {summary['auc_tuning']:.2f}. Threshold: {summary['threshold']:.2f} "
            f"log-odds ({summary['threshold_rule']}). The candidates compared before this one, on the same joins, "
            "are in [joins.md](joins.md)."]


def fit_detector(materials: list[Material], *, progress: Callable[[str], None] | None = None,
                 fitted_on: tuple[dict, ...] = ()) -> tuple[JoinDetector, dict]:
    """Fit the detector on ``materials`` (the tuning half); return it, listing ``fitted_on`` (the
    recordings, as its file names them), and what the fit measured (counts, AUC over boundaries,
    the threshold's source)."""
    rows, labels, genuine = [], [], []
    for m in materials:
        at, f = _features(m.mono, m.rate)
        if at.size:
            rows.append(f)
            labels.append(np.zeros(at.size))
            genuine.append((at, f))
    edits = 0
    for samples, joins, rate in training_edits(materials):
        at, f = _features(samples, rate)
        if not at.size:
            continue
        distance = np.min(np.abs(at[:, None] - np.asarray(joins)[None]), axis=1)
        label = np.full(at.size, -1.0)
        label[distance <= 0.6 * STEP_S] = 1.0
        label[distance >= SIDE_S + 0.3] = 0.0
        rows.append(f)
        labels.append(label)
        edits += 1
        if progress and edits % 50 == 0:
            progress(f"join training: {edits} edits")
    x, y = np.concatenate(rows), np.concatenate(labels)
    keep = y >= 0
    x, y = x[keep], y[keep]
    weight = np.where(y == 1, (y == 0).sum() / max(1, (y == 1).sum()), 1.0)
    model = fit_logistic(x, y, l2=L2, sample_weight=weight, nonnegative=NONNEGATIVE)
    highest = max((float(model.score(f).max()) for _, f in genuine), default=0.0)
    detector = JoinDetector(SIDE_S, STEP_S, round(highest + 0.05, 3), model, fitted_on)
    score = model.score(x)
    summary = {"recordings": len(materials), "edits": edits, "positives": int((y == 1).sum()),
               "negatives": int((y == 0).sum()), "auc_tuning": auc(score[y == 0], score[y == 1]),
               "threshold": detector.threshold,
               "threshold_rule": "0.05 over the highest score on any unedited tuning recording",
               "tuning_genuine_minutes": sum(m.duration_s for m in materials) / 60}
    return detector, summary


if __name__ == "__main__":  # make train-joins: python -m workbench.validation.joins CORPUS OUTDIR
    import sys

    fitted = train(Path(sys.argv[1]), Path(sys.argv[2]), progress=lambda line: print(line, file=sys.stderr))
    print(f"join detector: {fitted['file']} (AUC on the tuning half {fitted['auc_tuning']:.2f}, "
          f"threshold {fitted['threshold']:.2f})")
