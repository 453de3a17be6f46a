"""Separation of genuine from synthetic speech: AUC and EER with 95 % bootstrap intervals, and the
candidate cues of synthesis measured on the labelled recordings of the corpus, per source and
pooled, per half of :data:`workbench.validation.real.TUNING_SOURCES`. The countermeasures and
their back-end are measured by :mod:`workbench.validation.countermeasure`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from scipy import stats

from workbench.core.analysis import Analysis
from workbench.core.errors import WorkbenchError
from workbench.validation.real import half_of, left_out_lines, manifest_rows, open_checked, spread_by

LABELS = ("genuine", "synthetic")
BOOTSTRAP_RESAMPLES = 2000
MAX_PER_SOURCE = 6
"""Of each source and label, at most this many recordings, spread evenly in path order: a source
of 1,200 spoken digits would otherwise outweigh the rest and take an hour to score."""


def sampled_labelled_rows(corpus: Path) -> list[dict]:
    """The genuine and synthetic rows of the manifests under ``corpus`` (at most
    ``MAX_PER_SOURCE`` of each source and label): path, source, label, SHA-256."""
    rows = [{"path": path, "label": row["label"], "sha256": row["sha256"], "source": source}
            for path, row, source in manifest_rows(corpus) if row.get("label") in LABELS]
    return spread_by(rows, lambda r: (r["source"], r["label"]), MAX_PER_SOURCE, path=lambda r: str(r["path"]))


def auc(genuine: np.ndarray, synthetic: np.ndarray) -> float:
    """Probability that a synthetic recording scores above a genuine one (ties count half), from
    the ranks of the pooled scores (Mann-Whitney)."""
    genuine, synthetic = np.asarray(genuine, float), np.asarray(synthetic, float)
    ranks = stats.rankdata(np.concatenate([genuine, synthetic]))
    m, n = synthetic.size, genuine.size
    return float((ranks[n:].sum() - m * (m + 1) / 2) / (m * n))


def eer(genuine: np.ndarray, synthetic: np.ndarray) -> float:
    """Equal error rate: over every threshold, the mean of the false-alarm and miss rates where
    the two are closest."""
    genuine, synthetic = np.asarray(genuine, float), np.asarray(synthetic, float)
    thresholds = np.concatenate([genuine, synthetic])
    far = (genuine.size - np.searchsorted(np.sort(genuine), thresholds, side="left")) / genuine.size  # genuine >= t
    frr = np.searchsorted(np.sort(synthetic), thresholds, side="left") / synthetic.size  # synthetic < t
    best = np.argmin(np.abs(far - frr))
    return float((far[best] + frr[best]) / 2)


def separation_row(name: str, genuine: list[float], synthetic: list[float], *, seed: int = 0) -> dict:
    """AUC and EER of one group with stratified bootstrap 95 % intervals (None below 2 per side)."""
    row = {"group": name, "genuine": len(genuine), "synthetic": len(synthetic), "auc": None, "auc_95": None,
           "eer": None, "eer_95": None}
    if not genuine or not synthetic:
        return row
    g, s = np.array(genuine), np.array(synthetic)
    row.update(auc=auc(g, s), eer=eer(g, s))
    if min(g.size, s.size) >= 2:
        rng = np.random.default_rng(seed)
        draws = [(auc(gg, ss), eer(gg, ss)) for gg, ss in
                 ((rng.choice(g, g.size), rng.choice(s, s.size)) for _ in range(BOOTSTRAP_RESAMPLES))]
        row["auc_95"] = [float(v) for v in np.percentile([d[0] for d in draws], [2.5, 97.5])]
        row["eer_95"] = [float(v) for v in np.percentile([d[1] for d in draws], [2.5, 97.5])]
    return row


def measure_labelled(corpus: Path, analyses: dict[str, Analysis], read: Callable[[dict], dict], what: str, *,
                     progress: Callable[[str], None] | None = None) -> tuple[list[dict], list[dict]]:
    """Open every labelled recording (hash checked against its manifest), run ``analyses`` on it
    and keep what ``read`` takes from their results ({analysis: measurements} -> {key: value}).

    Returns
    -------
    measured : list of dict
        Per recording: path, source, label, half and what ``read`` returned.
    left_out : list of dict
        Path and reason of each recording that could not be opened or measured.
    """
    measured, left_out = [], []
    for row in sampled_labelled_rows(corpus):
        if progress:
            progress(f"{what} {row['path'].name}")
        try:
            clip = open_checked(row["path"], row["sha256"])
        except WorkbenchError as exc:
            left_out.append({"path": str(row["path"]), "reason": str(exc)})
            continue
        results = {name: analysis.run(clip) for name, analysis in analyses.items()}
        failed = [result.message or name for name, result in results.items() if result.status != "ok"]
        if failed:
            left_out.append({"path": str(row["path"]), "reason": "; ".join(failed)})
            continue
        measured.append({"path": str(row["path"]), "source": row["source"], "label": row["label"],
                         "half": half_of(row["source"]),
                         **read({name: result.measurements for name, result in results.items()})})
    return measured, left_out


def separation_rows(measured: list[dict], key: str) -> list[dict]:
    """AUC and EER of ``key`` per half (tuning, measuring, all), per source and pooled, for every
    group with recordings of both labels."""
    rows = []
    for half in ("tuning", "measuring", "all"):
        mine = [r for r in measured if half == "all" or r["half"] == half]
        for name in [*sorted({r["source"] for r in mine}), "pooled"]:
            members = [r for r in mine if name == "pooled" or r["source"] == name]
            values = {label: [r[key] for r in members if r["label"] == label] for label in LABELS}
            if values["genuine"] and values["synthetic"]:
                rows.append({"half": half, **separation_row(name, values["genuine"], values["synthetic"])})
    return rows


def _interval(value, bounds) -> str:
    return "n/a" if value is None else f"{value:.2f}" + (f" ({bounds[0]:.2f}-{bounds[1]:.2f})" if bounds else " (too few)")


CUES = {
    "exact_zero_runs_per_min": ("levels", lambda m: m["exact_zero_runs_per_min"],
                                "runs of exact digital zero inside the recording, per minute"),
    "lower_native_rate": ("bandwidth", lambda m: float(m.get("apparent_original_rate_hz") is not None),
                          "content ends at half a lower standard rate (1) or not (0)"),
}
"""Candidate cues of synthetic speech (issue 15, section 3): name -> (analysis, how to read it from
that analysis's measurements, meaning). Higher is read as closer to the synthetic class."""


def run_cues(corpus: Path, analyses: dict[str, Analysis], *,
             progress: Callable[[str], None] | None = None) -> dict:
    """Each cue of :data:`CUES` on every labelled recording; AUC and EER per source and pooled,
    per half, as for the countermeasure score."""
    owners = {owner: analyses[owner] for owner, *_ in CUES.values()}
    measured, left_out = measure_labelled(
        corpus, owners, lambda m: {cue: read(m[owner]) for cue, (owner, read, _) in CUES.items()}, "cues",
        progress=progress)
    rows = [{"cue": cue, **row} for cue in CUES for row in separation_rows(measured, cue)]
    return {"measured": measured, "rows": rows, "left_out": left_out}


def markdown_cues(results: dict) -> str:
    """The section of validation.md."""
    lines = [
        "## Genuine against synthetic speech: candidate cues",
        "",
        "Cues measured on the same labelled recordings, read alone (higher = closer to the synthetic "
        "class); nothing was tuned. A cue is kept as evidence of synthesis only where it separates on "
        "recordings it was not chosen on. "
        + " ".join(f"`{cue}`: {meaning}." for cue, (_, _, meaning) in CUES.items()),
        "",
        "| cue | half | group | genuine | synthetic | AUC (95 %) | EER (95 %) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["rows"]:
        lines.append(f"| `{row['cue']}` | {row['half']} | {row['group']} | {row['genuine']} | {row['synthetic']} | "
                     f"{_interval(row['auc'], row['auc_95'])} | {_interval(row['eer'], row['eer_95'])} |")
    return "\n".join(lines + left_out_lines(results["left_out"])) + "\n"
