"""Comparison of a disputed clip with known-genuine reference recordings, from their reports.

For every comparable measurement the disputed value is set beside the references' minimum,
median and maximum (with a z-score and percentile from three references on). A value beyond the
references' range by more than the measure's tolerance (the allowance for ordinary variation
between sessions of one speaker and device) becomes a ``reference_mismatch`` finding; its
strength grows with the excess in units of that tolerance. Whole-clip mismatches are not places on the time axis, so they are not
flagged (they are listed with the comparison and among the other observations); segments of the
clip whose speaker embedding lies further from the references than any reference's own segment
lies from the other references, by more than the tolerance, are flagged places.

Only reports are read (report.json of the disputed clip and of each reference), so the
comparison is reproducible from the JSON alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from reports.model import AnalysisEntry, Finding, jsonable
from workbench.analysis import FigureOut, Result
from workbench.plotting import FIGURE_WIDTH_IN, SCREEN_DPI, mmss, plain_log_axis
from workbench.runs import touching_groups

DISPUTED_COLOR = "#d62728"
REFERENCE_COLOR = "#7f7f7f"
NAME = "comparison"
VERSION = "1.0"
DESCRIPTION = "The disputed clip's measurements beside those of known-genuine reference recordings."
MEASURES = (
    "For each measurement that the disputed clip and the references share: the disputed value, "
    "the references' minimum, median and maximum, and with three or more references a z-score "
    "(distance from the references' mean in their standard deviations) and percentile. A value "
    "beyond the references' range by more than the measure's tolerance (or a category none of the "
    "references has) is a reference_mismatch; strength is the excess over the range divided by "
    "(excess + tolerance), so just over 0.5 at the edge of the widened range. Tolerances are fixed "
    "allowances for ordinary variation between recordings of one speaker (stated per row), set "
    "by judgement, not measured on this case. Spectra (LTAS) and speaker embeddings are compared "
    "as distances, with the references' distances among themselves as the yardstick."
)
CANNOT_SHOW = (
    "References differ from the disputed clip in ways that have nothing to do with authenticity: "
    "occasion, health, emotion, language, microphone, room, codec and platform. A measurement "
    "outside the references' spread says only that this clip differs from these references in "
    "that respect; a measurement inside says only that it does not. Few references give a narrow, "
    "unreliable spread: with one reference there is no yardstick for distances and nothing is "
    "flagged on them. None of this identifies a speaker or detects synthetic speech."
)


@dataclass(frozen=True)
class Measure:
    """A numeric measurement compared with the references.

    ``tolerance`` is in the measurement's unit, or a fraction of the references' median when
    ``relative``.
    """

    analysis: str
    key: str
    label: str
    unit: str
    tolerance: float
    relative: bool = False


NUMERIC = (
    Measure("voice", "f0_median_hz", "F0 median", "Hz", 0.12, relative=True),
    Measure("voice", "f0_sd_st", "F0 spread (SD)", "semitones", 1.0),
    Measure("voice", "f0_range_st", "F0 range (5th-95th percentile)", "semitones", 2.0),
    Measure("voice", "jitter_local_pct", "Jitter (local)", "%", 0.5),
    Measure("voice", "jitter_ppq5_pct", "Jitter (ppq5)", "%", 0.3),
    Measure("voice", "shimmer_local_pct", "Shimmer (local)", "%", 2.0),
    Measure("voice", "shimmer_apq11_pct", "Shimmer (apq11)", "%", 2.0),
    Measure("voice", "hnr_db", "HNR", "dB", 3.0),
    Measure("voice", "f1_median_hz", "F1 median", "Hz", 0.10, relative=True),
    Measure("voice", "f2_median_hz", "F2 median", "Hz", 0.10, relative=True),
    Measure("voice", "f3_median_hz", "F3 median", "Hz", 0.10, relative=True),
    Measure("voice", "voiced_fraction", "Voiced fraction", "of the clip", 0.15),
    Measure("voice", "pause_median_s", "Pause length (median)", "s", 0.2),
    Measure("voice", "voiced_segments_per_s", "Speech-rate proxy", "voiced segments/s", 0.5),
    Measure("bandwidth", "effective_bandwidth_hz", "Effective bandwidth", "Hz", 0.10, relative=True),
    Measure("enf", "enf_snr_db", "Mains hum SNR", "dB", 6.0),
)
CATEGORICAL = (
    ("evidence", "container", "Container"),
    ("evidence", "codec", "Codec"),
    ("evidence", "sample_rate_hz", "Sample rate (Hz)"),
    ("evidence", "channels", "Channels"),
    ("metadata", "effective_bits", "Bits in use"),
    ("metadata", "software", "Encoder / software named in tags"),
    ("bandwidth", "lossy_history", "Lossy-codec signature"),
    ("bandwidth", "apparent_original_rate_hz", "Apparent original rate (Hz)"),
    ("enf", "enf_nominal_hz", "Mains hum (Hz)"),
)
NOISE_FLOOR = Measure("noise_floor", "band_floor_dbfs_median", "Noise floor (median, shared bands)", "dBFS", 6.0)
"""Compared over the noise-floor bands every recording was measured in (see ``_noise_floor_row``)."""
LTAS_TOLERANCE_DB = 2.0
LTAS_FLOOR_DB = 60.0
"""LTAS bands more than this below the loudest band are compared as if exactly this low."""
SPEAKER_TOLERANCE = 0.05
"""Allowance below the references' own lowest similarity (cosine) before a segment is flagged."""


@dataclass
class Side:
    """One report as the comparison sees it: its name and measurements by analysis."""

    name: str
    evidence: dict[str, Any]
    measurements: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, evidence: dict[str, Any], analyses: list[AnalysisEntry]) -> "Side":
        # As JSON values, so a comparison made in memory equals one made from report.json.
        found = {a.name: jsonable(a.measurements) for a in analyses if a.status == "ok"}
        if "metadata" in found:
            software = sorted({name for tag in found["metadata"].get("software_tags") or []
                               for name in tag.get("recognised", [])})
            found["metadata"] = {**found["metadata"], "software": ", ".join(software) or "none"}
        return cls(Path(str(evidence.get("path", ""))).name, evidence, found)

    def value(self, analysis: str, key: str) -> Any:
        if analysis == "evidence":
            return self.evidence.get(key)
        return self.measurements.get(analysis, {}).get(key)


class Comparison:
    """The comparison step of a run with references, described like an analysis for the report.

    Parameters
    ----------
    references : list of dict
        Each reference's report.json content.
    """

    name, version, description = NAME, VERSION, DESCRIPTION
    measures, cannot_show = MEASURES, CANNOT_SHOW

    def __init__(self, references: list[dict[str, Any]]):
        self.references = references

    def parameters(self) -> dict[str, Any]:
        evidence = [r.get("evidence", {}) for r in self.references]
        return {"references": [Path(str(e.get("path", ""))).name for e in evidence],
                "reference_sha256": [e.get("sha256") for e in evidence]}

    def run(self, evidence: dict[str, Any], analyses: list[AnalysisEntry]) -> Result:
        references = [Side.of(r["evidence"], [AnalysisEntry.from_dict(a) for a in r.get("analyses", [])])
                      for r in self.references]
        return compare(Side.of(evidence, analyses), references)


def compare(disputed: Side, references: list[Side]) -> Result:
    """Set ``disputed`` beside ``references``; see the module docstring."""
    if not references:
        return Result.skipped("no reference recordings were given (--reference)")
    rows, findings = [], []
    for measure in NUMERIC:
        row = _numeric_row(measure, _number(disputed.value(measure.analysis, measure.key)),
                           [_number(r.value(measure.analysis, measure.key)) for r in references])
        if row is not None:
            rows.append(row)
    noise_floor = _noise_floor_row(disputed, references)
    if noise_floor is not None:
        rows.append(noise_floor)
    for analysis, key, label in CATEGORICAL:
        row = _categorical_row(analysis, key, label, disputed, references)
        if row is not None:
            rows.append(row)
    ltas = _ltas_row(disputed, references)
    if ltas is not None:
        rows.append(ltas)
    speaker = _speaker_rows(disputed, references)
    rows.extend(speaker["rows"])
    duration = float(disputed.evidence.get("duration_s") or 0.0)
    for row in rows:
        if row["outside"]:
            findings.append(Finding(
                kind="reference_mismatch", start_s=0.0, end_s=duration, strength=row["strength"],
                flagged=False, summary=_mismatch_summary(row, len(references)),
                details={"measure": row["measure"], "whole_clip": True},
            ))
    findings.extend(speaker["findings"])
    figures = [_measures_figure(rows, disputed, references)]
    curves = _curves_figure(disputed, references)
    if curves is not None:
        figures.append(curves)
    if speaker["figure"] is not None:
        figures.append(speaker["figure"])
    return Result(
        measurements={"references": [r.name for r in references], "rows": rows},
        findings=findings, figures=figures,
        parameters={"ltas_tolerance_db": LTAS_TOLERANCE_DB, "speaker_tolerance": SPEAKER_TOLERANCE},
    )


def _numeric_row(measure: Measure, x: float | None, reference_values: list[float | None]) -> dict | None:
    """The disputed value ``x`` beside the references' values (None: not measured, left out)."""
    refs = [v for v in reference_values if v is not None]
    if x is None or not refs:
        return None
    values = np.asarray(refs)
    lo, median, hi = float(values.min()), float(np.median(values)), float(values.max())
    tolerance = measure.tolerance * abs(median) if measure.relative else measure.tolerance
    excess = max(lo - x, x - hi, 0.0)
    row = {
        "measure": f"{measure.analysis}.{measure.key}", "label": measure.label, "unit": measure.unit,
        "kind": "numeric", "disputed": x, "ref_values": refs, "ref_min": lo, "ref_median": median, "ref_max": hi,
        "n_refs": len(refs), "z": None, "percentile": None, "tolerance": tolerance,
        "tolerance_text": f"{measure.tolerance:.0%} of the median" if measure.relative else f"{measure.tolerance:g} {measure.unit}",
        "outside": excess > tolerance, "strength": _strength(excess, tolerance),
    }
    if len(refs) >= 3:
        sd = float(values.std(ddof=1))
        row["z"] = (x - float(values.mean())) / sd if sd > 0 else None
        row["percentile"] = float(100 * np.mean(values < x) + 50 * np.mean(values == x))
    return row


def _noise_floor_row(disputed: Side, references: list[Side]) -> dict | None:
    """Background level (power sum of the per-band medians, dBFS) over the noise-floor bands that
    the disputed clip and every reference measured: the top band follows each clip's Nyquist and
    a band without a steady background is left out, so the clips' own broadband readings can
    cover different bands (a phone call against broadcast references)."""
    bands = [_floor_bands(side) for side in (disputed, *references)]
    if bands[0] is None:
        return None
    measured = [b for b in bands if b is not None]
    shared = sorted(set.intersection(*(set(b) for b in measured)))
    if len(measured) < 2 or not shared:
        return None

    def level(side_bands):
        return None if side_bands is None else float(
            10 * np.log10(sum(10 ** (side_bands[band] / 10) for band in shared)))

    row = _numeric_row(NOISE_FLOOR, level(bands[0]), [level(b) for b in bands[1:]])
    row["note"] = f"{len(shared)} bands, {shared[0][0]:.0f}-{shared[-1][1]:.0f} Hz, measured in every recording"
    return row


def _floor_bands(side: Side) -> dict[tuple[float, float], float] | None:
    """A side's noise-floor band medians (dBFS) keyed by band edges (Hz), or None."""
    edges = side.value("noise_floor", "band_edges_hz")
    levels = side.value("noise_floor", "band_floor_dbfs_median")
    if not edges or not levels:
        return None
    return {(round(float(lo), 1), round(float(hi), 1)): float(v) for (lo, hi), v in zip(edges, levels)}


def _categorical_row(analysis: str, key: str, label: str, disputed: Side, references: list[Side]) -> dict | None:
    x = disputed.value(analysis, key)
    refs = [r.value(analysis, key) for r in references if analysis == "evidence" or analysis in r.measurements]
    if analysis != "evidence" and analysis not in disputed.measurements or not refs:
        return None
    outside = x not in refs
    return {
        "measure": f"{analysis}.{key}", "label": label, "unit": "", "kind": "categorical",
        "disputed": x, "references": refs, "n_refs": len(refs), "outside": outside,
        "strength": 0.5 if outside else 0.0, "note": "",
    }


def _ltas_row(disputed: Side, references: list[Side]) -> dict | None:
    """RMS difference (dB) of the disputed LTAS from the references' mean, over shared bands up to
    the narrowest effective bandwidth; yardstick: each reference against the mean of the others."""
    curves = [_ltas(side) for side in (disputed, *references)]
    if any(c is None for c in curves):
        return None
    top = min(float(side.value("bandwidth", "effective_bandwidth_hz") or np.inf) for side in (disputed, *references))
    shared = set.intersection(*(set(np.round(c[0], 1)) for c in curves))
    bands = np.array(sorted(b for b in shared if b * 2 ** (1 / 6) <= top))
    if bands.size < 3:
        return None
    # Shape only: each curve re its loudest band, floored where a band is empty (below a codec's
    # cut-off) so an empty band counts as a large difference, not an unbounded one.
    levels = [np.maximum(lv - lv.max(), -LTAS_FLOOR_DB) for lv in (np.interp(bands, c[0], c[1]) for c in curves)]
    levels = [lv - lv.mean() for lv in levels]
    ref_levels = np.array(levels[1:])
    distance = float(np.sqrt(np.mean((levels[0] - ref_levels.mean(axis=0)) ** 2)))
    yardstick = [float(np.sqrt(np.mean((ref_levels[i] - np.delete(ref_levels, i, axis=0).mean(axis=0)) ** 2)))
                 for i in range(len(ref_levels))] if len(ref_levels) >= 2 else []
    return _distance_row("ltas.distance_db", "LTAS difference from the references (RMS over bands)",
                         "dB", distance, yardstick, LTAS_TOLERANCE_DB, higher_is_further=True,
                         note=f"{bands.size} third-octave bands, {bands[0]:.0f}-{bands[-1]:.0f} Hz")


def _speaker_rows(disputed: Side, references: list[Side]) -> dict[str, Any]:
    """Whole-clip and per-segment similarity of speaker embeddings (when the speaker analysis ran)."""
    out: dict[str, Any] = {"rows": [], "findings": [], "figure": None}
    own = disputed.value("speaker", "embedding")
    refs = [np.asarray(r.value("speaker", "embedding"), dtype=float) for r in references
            if r.value("speaker", "embedding") is not None]
    if own is None or not refs:
        return out
    own = np.asarray(own, dtype=float)
    centroid = _unit(np.mean(refs, axis=0))
    similarity = float(np.mean([own @ r for r in refs]))
    pairs = [float(refs[i] @ refs[j]) for i in range(len(refs)) for j in range(i + 1, len(refs))]
    out["rows"].append(_distance_row(
        "speaker.similarity", "Speaker similarity to the references (mean cosine)", "cosine",
        similarity, pairs, SPEAKER_TOLERANCE, higher_is_further=False,
        note="yardstick: the references' similarities among themselves"))
    segments = disputed.value("speaker", "segments") or []
    if not segments:
        return out
    starts = np.array([s["start_s"] for s in segments])
    ends = np.array([s["end_s"] for s in segments])
    sims = np.array([_unit(np.asarray(s["embedding"], dtype=float)) @ centroid for s in segments])
    yardstick = _reference_segment_similarities(references)
    if yardstick:
        lowest = min(yardstick)
        below = sims < lowest - SPEAKER_TOLERANCE
        for group in touching_groups(starts, ends, below):
            worst = float(sims[group].min())
            start, end = float(starts[group[0]]), float(ends[group[-1]])
            out["findings"].append(Finding(
                kind="reference_mismatch", start_s=start, end_s=end,
                strength=_strength(lowest - worst, SPEAKER_TOLERANCE), flagged=True,
                summary=(f"From {mmss(start)} to {mmss(end)} the voice's similarity to the references "
                         f"drops to {worst:.2f}; no segment of a reference falls below {lowest:.2f} "
                         "against the other references."),
                details={"measure": "speaker.segment_similarity", "similarity": worst},
            ))
    out["figure"] = _speaker_figure(starts, ends, sims, yardstick,
                                    float(disputed.evidence.get("duration_s") or ends.max()))
    return out


def _reference_segment_similarities(references: list[Side]) -> list[float]:
    """Each reference segment's similarity to the mean embedding of the other references: the
    spread a genuine segment of this speaker shows (needs two references with segments)."""
    wholes = [r.value("speaker", "embedding") for r in references]
    values = []
    for i, ref in enumerate(references):
        others = [np.asarray(w, dtype=float) for j, w in enumerate(wholes) if j != i and w is not None]
        if not others:
            continue
        centroid = _unit(np.mean(others, axis=0))
        values += [float(_unit(np.asarray(s["embedding"], dtype=float)) @ centroid)
                   for s in ref.value("speaker", "segments") or []]
    return values


def _distance_row(measure: str, label: str, unit: str, value: float, yardstick: list[float],
                  tolerance: float, *, higher_is_further: bool, note: str) -> dict[str, Any]:
    """A distance or similarity with the references' own values among themselves as yardstick;
    with fewer than two references there is no yardstick and it is never outside."""
    if yardstick:
        excess = value - max(yardstick) if higher_is_further else min(yardstick) - value
        excess = max(excess, 0.0)
    else:
        excess = 0.0
    return {
        "measure": measure, "label": label, "unit": unit, "kind": "distance", "disputed": value,
        "ref_min": min(yardstick) if yardstick else None,
        "ref_median": float(np.median(yardstick)) if yardstick else None,
        "ref_max": max(yardstick) if yardstick else None, "n_refs": len(yardstick),
        "z": None, "percentile": None, "tolerance": tolerance, "tolerance_text": f"{tolerance:g} {unit}",
        "outside": excess > tolerance, "strength": _strength(excess, tolerance), "note": note,
    }


def _strength(excess: float, tolerance: float) -> float:
    """0 inside the spread, 0.5 at one tolerance beyond it, towards 1 far beyond."""
    if excess <= 0:
        return 0.0
    return float(excess / (excess + tolerance)) if tolerance > 0 else 1.0


def _mismatch_summary(row: dict[str, Any], n_refs: int) -> str:
    if row["kind"] == "categorical":
        seen = ", ".join(sorted({_text(v) for v in row["references"]}))
        return f"{row['label']}: {_text(row['disputed'])}; the references: {seen}."
    spread = (f"{_text(row['ref_min'])} to {_text(row['ref_max'])}" if row["ref_min"] != row["ref_max"]
              else _text(row["ref_min"]))
    whose = "the references' values" if row["kind"] == "numeric" else "the references among themselves"
    return (f"{row['label']} is {_text(row['disputed'])} {row['unit']}; {whose} span {spread} "
            f"{row['unit']} (tolerance {row['tolerance_text']}).")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "none" if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _ltas(side: Side) -> tuple[np.ndarray, np.ndarray] | None:
    bands, levels = side.value("voice", "ltas_band_hz"), side.value("voice", "ltas_db")
    if not bands or not levels:
        return None
    return np.asarray(bands, dtype=float), np.asarray(levels, dtype=float)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) + 1e-12)


def _measures_figure(rows: list[dict], disputed: Side, references: list[Side]) -> FigureOut:
    """Small multiples: each reference value (grey), the disputed value (red diamond) and the
    references' range widened by the tolerance (shaded)."""
    numeric = [r for r in rows if r["kind"] == "numeric"]
    columns = 6
    nrows = max(1, -(-len(numeric) // columns))
    fig = Figure(figsize=(FIGURE_WIDTH_IN, 1.9 * nrows + 0.5), dpi=SCREEN_DPI, layout="constrained")
    axes = fig.subplots(nrows, columns, squeeze=False).ravel()
    for ax, row in zip(axes, numeric):
        refs = row["ref_values"]
        ax.axhspan(row["ref_min"] - row["tolerance"], row["ref_max"] + row["tolerance"],
                   color=REFERENCE_COLOR, alpha=0.15, linewidth=0)
        ax.plot(np.zeros(len(refs)), refs, "o", color=REFERENCE_COLOR, markersize=5)
        ax.plot([0.5], [row["disputed"]], "D", color=DISPUTED_COLOR, markersize=7)
        ax.set_xlim(-0.5, 1.0)
        ax.set_xticks([0, 0.5], ["refs", "clip"], fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_title(f"{row['label']}\n({row['unit']}){' OUTSIDE' if row['outside'] else ''}", fontsize=8, loc="left",
                     color=DISPUTED_COLOR if row["outside"] else "black")
        ax.grid(True, axis="y", alpha=0.3)
    for ax in axes[len(numeric):]:
        ax.set_visible(False)
    fig.suptitle(f"{disputed.name} (red) against {len(references)} reference(s) (grey); shaded: "
                 "the references' range widened by the tolerance", fontsize=9, x=0.01, ha="left")
    return FigureOut("measures", fig, "Each comparable measurement: reference values (grey dots), "
                     "the disputed clip (red diamond), and the range outside which a "
                     "reference_mismatch reaches strength 0.5 (shaded).")


def _curves_figure(disputed: Side, references: list[Side]) -> FigureOut | None:
    """F0 histograms and LTAS curves overlaid."""
    hist = disputed.value("voice", "f0_histogram")
    if hist is None or _ltas(disputed) is None:
        return None
    fig = Figure(figsize=(FIGURE_WIDTH_IN, 3.3), dpi=SCREEN_DPI, layout="constrained")
    ax_f0, ax_ltas = fig.subplots(1, 2)
    for side, color, width, label in (*((r, REFERENCE_COLOR, 1.0, "references") for r in references),
                                      (disputed, DISPUTED_COLOR, 2.0, "disputed clip")):
        edges, values = side.value("voice", "f0_histogram_edges_hz"), side.value("voice", "f0_histogram")
        if edges is not None and values is not None:
            ax_f0.stairs(100 * np.asarray(values, dtype=float), np.asarray(edges, dtype=float),
                         color=color, linewidth=width, label=label)
        curve = _ltas(side)
        if curve is not None:
            ax_ltas.plot(curve[0], curve[1] - curve[1].max(), color=color, linewidth=width, label=label)
    for ax in (ax_f0, ax_ltas):
        ax.set_xscale("log")
        ax.grid(True, alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        ax.legend(unique.values(), unique.keys(), fontsize=8)
    plain_log_axis(ax_f0.xaxis, ticks=(50, 100, 200, 400, 800))
    plain_log_axis(ax_ltas.xaxis)
    ax_f0.set_xlabel("F0 (Hz)")
    ax_f0.set_ylabel("% of voiced frames")
    ax_f0.set_title("F0 distributions", loc="left")
    ax_ltas.set_xlabel("third-octave band centre (Hz)")
    ax_ltas.set_ylabel("dB re loudest band")
    ax_ltas.set_title("Long-term average spectra (sounding frames)", loc="left")
    return FigureOut("curves", fig, "F0 histograms and long-term average spectra: the disputed "
                     "clip (red) over each reference (grey).")


def _speaker_figure(starts, ends, sims, yardstick: list[float], duration_s: float) -> FigureOut:
    fig = Figure(figsize=(FIGURE_WIDTH_IN, 2.8), dpi=SCREEN_DPI, layout="constrained")
    ax = fig.subplots()
    if yardstick:
        ax.axhspan(min(yardstick), max(yardstick), color=REFERENCE_COLOR, alpha=0.25, linewidth=0,
                   label="reference segments against the other references")
        ax.axhline(min(yardstick) - SPEAKER_TOLERANCE, color=REFERENCE_COLOR, linestyle="--", linewidth=1,
                   label="flag below this")
    ax.hlines(sims, starts, ends, color=DISPUTED_COLOR, linewidth=3, label="segments of the disputed clip")
    ax.set_xlim(0, duration_s)
    ax.set_ylim(min(0.4, float(np.min(sims)) - 0.05, min(yardstick or [1.0]) - 0.1), 1.0)
    ax.set_ylabel("cosine similarity")
    ax.set_xlabel(f"time (m:ss), 0:00 to {mmss(duration_s)}")
    ax.xaxis.set_major_formatter(lambda value, _: mmss(value, decimals=0))
    ax.set_title("Speaker similarity of each segment to the references' mean embedding", loc="left")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, alpha=0.3)
    return FigureOut("speaker", fig, "Per-segment speaker similarity to the references (red), with "
                     "the references' own segments against the other references (grey band) as the "
                     "yardstick.")
