"""``comparison``: a disputed clip set beside known-genuine reference recordings, from their reports.

What is compared is what each analysis declares in its ``comparable`` attribute
(:mod:`workbench.analyses.common.comparable`); the evidence's container, codec, rate and channels are declared
here.

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

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from workbench.analyses.common.comparable import (
    BandLevels, Category, Comparable, Curve, Embedding, Numeric, Part, Side, WindowScores,
)
from workbench.core.analysis import Analysis, FigureOut, FindingKind, Result, param
from workbench.core.model import AnalysisEntry, Finding
from workbench.core.plotting import FIGURE_WIDTH_IN, SCREEN_DPI, SMALL_PT, mmss, plain_log_axis

DISPUTED_COLOR = "#d62728"
REFERENCE_COLOR = "#7f7f7f"
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


EVIDENCE = (
    Category("container", "Container"),
    Category("codec", "Codec"),
    Category("sample_rate_hz", "Sample rate (Hz)"),
    Category("channels", "Channels"),
)
"""The evidence's own properties compared (``evidence`` in report.json)."""
PHASES = (Numeric, BandLevels, WindowScores, Category, Curve, Embedding)
"""Rows come kind by kind in this order, each kind in the analyses' run order."""


class Comparison(Analysis):
    """The disputed clip's comparable measures beside the references' (see the module docstring)."""

    name = "comparison"
    version = "1.1"
    description = "The disputed clip's measurements beside those of known-genuine reference recordings."
    measures, cannot_show = MEASURES, CANNOT_SHOW
    kinds = (FindingKind("reference_mismatch", "excess / (excess + tolerance), the excess beyond the "
                         "references' range: 0.5 at one tolerance"),)
    measurement_keys = ("references", "rows")
    needs_references = True

    tolerance_scale: float = param(1.0, "Every declared tolerance is multiplied by this (2: twice the "
                                   "allowance for ordinary variation between recordings).", above=0)

    def run_on_reports(self, evidence: dict[str, Any], ran: list[tuple[Analysis, AnalysisEntry]],
                       references: list[dict[str, Any]]) -> Result:
        sides = [Side.of(r["evidence"], [AnalysisEntry.from_dict(a) for a in r.get("analyses", [])])
                 for r in references]
        result = compare(Side.of(evidence, [entry for _, entry in ran]), sides,
                         declarations([analysis for analysis, _ in ran]), scale=self.tolerance_scale)
        result.parameters = {**result.parameters, **_reference_parameters(references)}
        return result

    def run(self, clip) -> Result:
        return Result.skipped("the comparison reads reports: it runs after the other analyses, with --reference")


def _reference_parameters(references: list[dict[str, Any]]) -> dict[str, Any]:
    evidence = [r.get("evidence", {}) for r in references]
    return {"references": [Path(str(e.get("path", ""))).name for e in evidence],
            "reference_sha256": [e.get("sha256") for e in evidence]}


def declarations(analyses: list[Analysis]) -> list[tuple[str, tuple[Comparable, ...]]]:
    """(name, comparable declarations) of the evidence and of each of ``analyses`` that has any."""
    return [("evidence", EVIDENCE)] + [(a.name, a.comparable) for a in analyses if a.comparable]


def compare(disputed: Side, references: list[Side], declared: list[tuple[str, tuple[Comparable, ...]]],
            *, scale: float = 1.0) -> Result:
    """Set ``disputed`` beside ``references`` over the ``declared`` (analysis, declarations) pairs."""
    if not references:
        return Result.skipped("no reference recordings were given (--reference)")
    parts: list[tuple[str, Comparable, Part]] = []
    for kind in PHASES:
        for analysis, items in declared:
            for declaration in items:
                if type(declaration) is kind:
                    parts.append((analysis, declaration, declaration.part(analysis, disputed, references, scale)))
    rows = [row for *_, part in parts for row in part.rows]
    duration = float(disputed.evidence.get("duration_s") or 0.0)
    findings = [Finding(
        kind="reference_mismatch", start_s=0.0, end_s=duration, strength=row["strength"], flagged=False,
        summary=_mismatch_summary(row, len(references)), details={"measure": row["measure"], "whole_clip": True},
    ) for row in rows if row["outside"]]
    findings += [f for *_, part in parts for f in part.findings]
    figures = [_measures_figure(rows, disputed, references)]
    curves = [(analysis, d) for analysis, d, _ in parts if isinstance(d, Curve) and d.points(analysis, disputed)]
    if curves:
        figures.append(_curves_figure(curves, disputed, references))
    figures += [_segments_figure(series, duration) for *_, part in parts for series in part.segments]
    parameters = {k: v for _, d, _ in parts for k, v in d.parameters().items()}
    return Result(measurements={"references": [r.name for r in references], "rows": rows},
                  findings=findings, figures=figures, parameters=parameters)


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
        ax.set_xticks([0, 0.5], ["refs", "clip"], fontsize=SMALL_PT)
        ax.tick_params(axis="y", labelsize=SMALL_PT)
        ax.set_title(f"{row['label']}\n({row['unit']}){' OUTSIDE' if row['outside'] else ''}", fontsize=SMALL_PT, loc="left",
                     color=DISPUTED_COLOR if row["outside"] else "black")
        ax.grid(True, axis="y", alpha=0.3)
    for ax in axes[len(numeric):]:
        ax.set_visible(False)
    fig.suptitle(f"{disputed.name} (red) against {len(references)} reference(s) (grey); shaded: "
                 "the references' range widened by the tolerance", fontsize=SMALL_PT, x=0.01, ha="left")
    return FigureOut("measures", fig, "Each comparable measurement: reference values (grey dots), "
                     "the disputed clip (red diamond), and the range outside which a "
                     "reference_mismatch reaches strength 0.5 (shaded).")


def _curves_figure(curves: list[tuple[str, Curve]], disputed: Side, references: list[Side]) -> FigureOut:
    """Each declared curve (a histogram in percent, a spectrum re its loudest band) on its own axes,
    the disputed clip over each reference."""
    fig = Figure(figsize=(FIGURE_WIDTH_IN, 3.3), dpi=SCREEN_DPI, layout="constrained")
    axes = fig.subplots(1, len(curves), squeeze=False)[0]
    for ax, (analysis, curve) in zip(axes, curves):
        for side, color, width, label in (*((r, REFERENCE_COLOR, 1.0, "references") for r in references),
                                          (disputed, DISPUTED_COLOR, 2.0, "disputed clip")):
            points = curve.points(analysis, side)
            if points is None:
                continue
            if curve.histogram:
                ax.stairs(100 * points[1], points[0], color=color, linewidth=width, label=label)
            else:
                ax.plot(points[0], points[1] - points[1].max(), color=color, linewidth=width, label=label)
        ax.set_xscale("log")
        ax.grid(True, alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        ax.legend(unique.values(), unique.keys(), fontsize=SMALL_PT)
        plain_log_axis(ax.xaxis, ticks=curve.ticks) if curve.ticks else plain_log_axis(ax.xaxis)
        ax.set_xlabel(curve.x_label)
        ax.set_ylabel(curve.y_label)
        ax.set_title(curve.title, loc="left")
    titles = " and ".join(c.title[0].lower() + c.title[1:] for _, c in curves)
    return FigureOut("curves", fig, f"{titles[0].upper() + titles[1:]}: the disputed clip (red) over each "
                     "reference (grey).")


def _segments_figure(series: dict[str, Any], duration_s: float) -> FigureOut:
    starts, ends, sims, yardstick = series["starts"], series["ends"], series["values"], series["yardstick"]
    fig = Figure(figsize=(FIGURE_WIDTH_IN, 2.8), dpi=SCREEN_DPI, layout="constrained")
    ax = fig.subplots()
    if yardstick:
        ax.axhspan(min(yardstick), max(yardstick), color=REFERENCE_COLOR, alpha=0.25, linewidth=0,
                   label="reference segments against the other references")
        ax.axhline(series["flag_below"], color=REFERENCE_COLOR, linestyle="--", linewidth=1,
                   label="flag below this")
    ax.hlines(sims, starts, ends, color=DISPUTED_COLOR, linewidth=3, label="segments of the disputed clip")
    ax.set_xlim(0, duration_s or float(ends.max()))
    ax.set_ylim(min(0.4, float(np.min(sims)) - 0.05, min(yardstick or [1.0]) - 0.1), 1.0)
    ax.set_ylabel("cosine similarity")
    ax.set_xlabel(f"time (m:ss), 0:00 to {mmss(duration_s)}")
    ax.xaxis.set_major_formatter(lambda value, _: mmss(value, decimals=0))
    ax.set_title("Speaker similarity of each segment to the references' mean embedding", loc="left")
    ax.legend(fontsize=SMALL_PT, loc="lower right")
    ax.grid(True, alpha=0.3)
    return FigureOut(series["name"], fig, "Per-segment speaker similarity to the references (red), with "
                     "the references' own segments against the other references (grey band) as the "
                     "yardstick.")
