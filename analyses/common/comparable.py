"""Declared comparable measures: what of an analysis's measurements the comparison with reference
recordings sets beside the references', with label, unit and tolerance.

An analysis lists them in its ``comparable`` class attribute; keys are its own measurement keys::

    comparable = (
        Numeric("f0_median_hz", "F0 median", "Hz", 0.12, relative=True),
        Category("lossy_history", "Lossy-codec signature"),
    )

Each kind turns the disputed clip's and the references' values into rows of the comparison
table (and, for distances over segments, findings at places), so the comparison names no
measurement key of another analysis. Tolerances are allowances for ordinary variation between
recordings of one speaker and device, set by judgement; ``scale`` (the comparison's
``tolerance_scale``) multiplies them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.analyses.common.runs import touching_groups
from workbench.core.model import AnalysisEntry, Finding, jsonable
from workbench.core.plotting import mmss


@dataclass
class Side:
    """One report as the comparison sees it: its name, evidence and measurements by analysis."""

    name: str
    evidence: dict[str, Any]
    measurements: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, evidence: dict[str, Any], analyses: list[AnalysisEntry]) -> "Side":
        # As JSON values, so a comparison made in memory equals one made from report.json.
        found = {a.name: jsonable(a.measurements) for a in analyses if a.status == "ok"}
        return cls(Path(str(evidence.get("path", ""))).name, evidence, found)

    def value(self, analysis: str, key: str) -> Any:
        if analysis == "evidence":
            return self.evidence.get(key)
        return self.measurements.get(analysis, {}).get(key)

    def ran(self, analysis: str) -> bool:
        return analysis == "evidence" or analysis in self.measurements


@dataclass
class Part:
    """What one declaration adds to the comparison."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    """Per-segment series for the segment figure: starts, ends, values, yardstick, label."""


class Comparable:
    """Base of the declaration kinds."""

    def keys(self) -> list[tuple[str | None, str]]:
        """The (analysis or None for the declaring one, key) pairs read: checked against real reports."""
        raise NotImplementedError

    def part(self, analysis: str, disputed: Side, references: list[Side], scale: float) -> Part:
        raise NotImplementedError

    def parameters(self) -> dict[str, Any]:
        """Tolerances worth recording among the comparison's parameters."""
        return {}


@dataclass(frozen=True)
class Numeric(Comparable):
    """A number set beside the references' range; ``tolerance`` in its unit, or a fraction of the
    references' median when ``relative``."""

    key: str
    label: str
    unit: str
    tolerance: float
    relative: bool = False

    def keys(self):
        return [(None, self.key)]

    def part(self, analysis, disputed, references, scale):
        row = numeric_row(f"{analysis}.{self.key}", self, _number(disputed.value(analysis, self.key)),
                          [_number(r.value(analysis, self.key)) for r in references], scale)
        return Part(rows=[row] if row else [])


@dataclass(frozen=True)
class Category(Comparable):
    """A category; outside when no reference has the disputed clip's. ``read`` derives the
    category from the analysis's measurements (those named in ``reads``) when it is not one of them."""

    key: str
    label: str
    read: Callable[[dict[str, Any]], Any] | None = None
    reads: tuple[str, ...] = ()

    def keys(self):
        return [(None, key) for key in self.reads] if self.read else [(None, self.key)]

    def part(self, analysis, disputed, references, scale):
        if not disputed.ran(analysis):
            return Part()
        values = [self._value(analysis, side) for side in (disputed, *references) if side.ran(analysis)]
        x, refs = values[0], values[1:]
        if not refs:
            return Part()
        outside = x not in refs
        return Part(rows=[{
            "measure": f"{analysis}.{self.key}", "label": self.label, "unit": "", "kind": "categorical",
            "disputed": x, "references": refs, "n_refs": len(refs), "outside": outside,
            "strength": 0.5 if outside else 0.0, "note": "",
        }])

    def _value(self, analysis: str, side: Side) -> Any:
        if self.read is None:
            return side.value(analysis, self.key)
        return self.read(side.measurements.get(analysis, {}))


@dataclass(frozen=True)
class BandLevels(Comparable):
    """A level measured per band (``levels_key``, dBFS, over ``edges_key`` bands in Hz), compared as
    the power sum over the bands the disputed clip and every reference measured: a phone call's
    bands end lower than a broadcast's, and a band without a steady level is left out."""

    edges_key: str
    levels_key: str
    label: str
    unit: str
    tolerance: float

    def keys(self):
        return [(None, self.edges_key), (None, self.levels_key)]

    def part(self, analysis, disputed, references, scale):
        bands = [self._bands(analysis, side) for side in (disputed, *references)]
        if bands[0] is None:
            return Part()
        measured = [b for b in bands if b is not None]
        shared = sorted(set.intersection(*(set(b) for b in measured)))
        if len(measured) < 2 or not shared:
            return Part()

        def level(side_bands):
            return None if side_bands is None else float(
                10 * np.log10(sum(10 ** (side_bands[band] / 10) for band in shared)))

        measure = Numeric(self.levels_key, self.label, self.unit, self.tolerance)
        row = numeric_row(f"{analysis}.{self.levels_key}", measure, level(bands[0]),
                          [level(b) for b in bands[1:]], scale)
        row["note"] = f"{len(shared)} bands, {shared[0][0]:.0f}-{shared[-1][1]:.0f} Hz, measured in every recording"
        return Part(rows=[row])

    def _bands(self, analysis: str, side: Side) -> dict[tuple[float, float], float] | None:
        edges, levels = side.value(analysis, self.edges_key), side.value(analysis, self.levels_key)
        if not edges or not levels:
            return None
        return {(round(float(lo), 1), round(float(hi), 1)): float(v) for (lo, hi), v in zip(edges, levels)}


@dataclass(frozen=True)
class Curve(Comparable):
    """A curve (``x_key`` against ``y_key``) drawn over the references' in the curves figure.

    With ``distance`` set (a spectrum), it is also compared: RMS difference (dB) of its shape from
    the references' mean over the shared bands, up to the narrowest value of ``limit`` (analysis,
    key) in Hz; yardstick: each reference against the mean of the others. ``histogram``: the
    values are shares over bins whose edges are ``x_key``.
    """

    x_key: str
    y_key: str
    title: str
    x_label: str
    y_label: str
    ticks: tuple[float, ...] | None = None
    histogram: bool = False
    distance: str = ""
    """Name of the distance row (``<distance>.distance_db``); empty: drawn only."""
    label: str = ""
    tolerance_db: float = 0.0
    floor_db: float = 60.0
    """Bands more than this below the loudest are compared as if exactly this low."""
    limit: tuple[str, str] | None = None

    def keys(self):
        return [(None, self.x_key), (None, self.y_key)] + ([self.limit] if self.limit else [])

    def parameters(self):
        return {f"{self.distance}_tolerance_db": self.tolerance_db} if self.distance else {}

    def points(self, analysis: str, side: Side) -> tuple[np.ndarray, np.ndarray] | None:
        x, y = side.value(analysis, self.x_key), side.value(analysis, self.y_key)
        if not x or not y:
            return None
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def part(self, analysis, disputed, references, scale):
        if not self.distance:
            return Part()
        curves = [self.points(analysis, side) for side in (disputed, *references)]
        if any(c is None for c in curves):
            return Part()
        top = min(float(_number(side.value(*self.limit)) or np.inf) if self.limit else np.inf
                  for side in (disputed, *references))
        shared = set.intersection(*(set(np.round(c[0], 1)) for c in curves))
        bands = np.array(sorted(b for b in shared if b * 2 ** (1 / 6) <= top))
        if bands.size < 3:
            return Part()
        # Shape only: each curve re its loudest band, floored where a band is empty (below a codec's
        # cut-off) so an empty band counts as a large difference, not an unbounded one.
        levels = [np.maximum(lv - lv.max(), -self.floor_db) for lv in (np.interp(bands, c[0], c[1]) for c in curves)]
        levels = [lv - lv.mean() for lv in levels]
        ref_levels = np.array(levels[1:])
        distance = float(np.sqrt(np.mean((levels[0] - ref_levels.mean(axis=0)) ** 2)))
        yardstick = [float(np.sqrt(np.mean((ref_levels[i] - np.delete(ref_levels, i, axis=0).mean(axis=0)) ** 2)))
                     for i in range(len(ref_levels))] if len(ref_levels) >= 2 else []
        return Part(rows=[distance_row(
            f"{self.distance}.distance_db", self.label, "dB", distance, yardstick, self.tolerance_db * scale,
            higher_is_further=True, note=f"{bands.size} third-octave bands, {bands[0]:.0f}-{bands[-1]:.0f} Hz",
            n_refs=len(ref_levels))])


@dataclass(frozen=True)
class Embedding(Comparable):
    """A speaker embedding (``key``) and per-segment embeddings (``segments_key``: dicts with
    start_s, end_s, embedding): the whole clip's mean cosine similarity to the references, with
    the references' similarities among themselves as the yardstick; segments further from the
    references' mean than any reference segment lies from the other references, by more than
    ``tolerance``, are flagged places."""

    key: str
    segments_key: str
    name: str
    tolerance: float

    def keys(self):
        return [(None, self.key), (None, self.segments_key)]

    def parameters(self):
        return {f"{self.name}_tolerance": self.tolerance}

    def part(self, analysis, disputed, references, scale):
        out = Part()
        tolerance = self.tolerance * scale
        own = disputed.value(analysis, self.key)
        refs = [np.asarray(r.value(analysis, self.key), dtype=float) for r in references
                if r.value(analysis, self.key) is not None]
        if own is None or not refs:
            return out
        own = np.asarray(own, dtype=float)
        centroid = _unit(np.mean(refs, axis=0))
        similarity = float(np.mean([own @ r for r in refs]))
        pairs = [float(refs[i] @ refs[j]) for i in range(len(refs)) for j in range(i + 1, len(refs))]
        out.rows.append(distance_row(
            f"{self.name}.similarity", "Speaker similarity to the references (mean cosine)", "cosine",
            similarity, pairs, tolerance, higher_is_further=False,
            note=f"yardstick: the references' similarities among themselves ({len(pairs)} pairs)",
            n_refs=len(refs)))
        segments = disputed.value(analysis, self.segments_key) or []
        if not segments:
            return out
        starts = np.array([s["start_s"] for s in segments])
        ends = np.array([s["end_s"] for s in segments])
        sims = np.array([_unit(np.asarray(s["embedding"], dtype=float)) @ centroid for s in segments])
        yardstick = self._reference_segment_similarities(analysis, references)
        if yardstick:
            lowest = min(yardstick)
            below = sims < lowest - tolerance
            for group in touching_groups(starts, ends, below):
                worst = float(sims[group].min())
                start, end = float(starts[group[0]]), float(ends[group[-1]])
                out.findings.append(Finding(
                    kind="reference_mismatch", start_s=start, end_s=end,
                    strength=strength(lowest - worst, tolerance), flagged=True,
                    summary=(f"From {mmss(start)} to {mmss(end)} the voice's similarity to the references "
                             f"drops to {worst:.2f}; no segment of a reference falls below {lowest:.2f} "
                             "against the other references."),
                    details={"measure": f"{self.name}.segment_similarity", "similarity": worst},
                ))
        out.segments.append({"name": self.name, "starts": starts, "ends": ends, "values": sims, "yardstick": yardstick,
                             "flag_below": min(yardstick) - tolerance if yardstick else None})
        return out

    def _reference_segment_similarities(self, analysis: str, references: list[Side]) -> list[float]:
        """Each reference segment's similarity to the mean embedding of the other references: the
        spread a genuine segment of this speaker shows (needs two references with segments)."""
        wholes = [r.value(analysis, self.key) for r in references]
        values = []
        for i, ref in enumerate(references):
            others = [np.asarray(w, dtype=float) for j, w in enumerate(wholes) if j != i and w is not None]
            if not others:
                continue
            centroid = _unit(np.mean(others, axis=0))
            values += [float(_unit(np.asarray(s["embedding"], dtype=float)) @ centroid)
                       for s in ref.value(analysis, self.segments_key) or []]
        return values


@dataclass(frozen=True)
class WindowScores(Comparable):
    """Scores per window (``key``: dicts with start_s, end_s and ``value_key``): the median of the
    disputed clip's windows set among the references' windows, all references' pooled; the note
    says how many of the clip's windows lie above every reference window. A model's score out of
    its training domain is unreliable on its own; against the same model's scores on genuine
    recordings of the same speaker and channel it has a yardstick."""

    key: str
    value_key: str
    label: str
    unit: str
    tolerance: float

    def keys(self):
        return [(None, self.key)]

    def part(self, analysis, disputed, references, scale):
        own = self._scores(disputed.value(analysis, self.key))
        per_ref = [self._scores(r.value(analysis, self.key)) for r in references]
        pooled = [v for scores in per_ref for v in scores]
        if not own or not pooled:
            return Part()
        measure = Numeric(self.key, self.label, self.unit, self.tolerance)
        row = numeric_row(f"{analysis}.{self.key}", measure, float(np.median(own)), pooled, scale)
        above = sum(v > max(pooled) for v in own)
        row["n_refs"] = sum(1 for scores in per_ref if scores)  # references, not their windows
        row["note"] = (f"median of {len(own)} windows of this clip among {len(pooled)} windows of "
                       f"{row['n_refs']} reference(s); {above} of its windows above every "
                       "reference window")
        return Part(rows=[row])

    def _scores(self, windows) -> list[float]:
        return [float(w[self.value_key]) for w in windows or [] if _number(w.get(self.value_key)) is not None]


def numeric_row(measure_name: str, measure: Numeric, x: float | None, reference_values: list[float | None],
                scale: float = 1.0) -> dict | None:
    """The disputed value ``x`` beside the references' values (None: not measured, left out)."""
    refs = [v for v in reference_values if v is not None]
    if x is None or not refs:
        return None
    values = np.asarray(refs)
    lo, median, hi = float(values.min()), float(np.median(values)), float(values.max())
    allowance = measure.tolerance * scale
    tolerance = allowance * abs(median) if measure.relative else allowance
    excess = max(lo - x, x - hi, 0.0)
    row = {
        "measure": measure_name, "label": measure.label, "unit": measure.unit,
        "kind": "numeric", "disputed": x, "ref_values": refs, "ref_min": lo, "ref_median": median, "ref_max": hi,
        "n_refs": len(refs), "z": None, "percentile": None, "tolerance": tolerance,
        "tolerance_text": f"{allowance:.0%} of the median" if measure.relative else f"{allowance:g} {measure.unit}",
        "outside": excess > tolerance, "strength": strength(excess, tolerance),
    }
    if len(refs) >= 3:
        sd = float(values.std(ddof=1))
        row["z"] = (x - float(values.mean())) / sd if sd > 0 else None
        row["percentile"] = float(100 * np.mean(values < x) + 50 * np.mean(values == x))
    return row


def distance_row(measure: str, label: str, unit: str, value: float, yardstick: list[float],
                 tolerance: float, *, higher_is_further: bool, note: str, n_refs: int) -> dict[str, Any]:
    """A distance or similarity with the references' own values among themselves as yardstick
    (one value per reference, or per pair of references); with fewer than two references there
    is no yardstick and it is never outside. ``n_refs`` is the number of references."""
    if yardstick:
        excess = value - max(yardstick) if higher_is_further else min(yardstick) - value
        excess = max(excess, 0.0)
    else:
        excess = 0.0
    return {
        "measure": measure, "label": label, "unit": unit, "kind": "distance", "disputed": value,
        "ref_min": min(yardstick) if yardstick else None,
        "ref_median": float(np.median(yardstick)) if yardstick else None,
        "ref_max": max(yardstick) if yardstick else None, "n_refs": n_refs,
        "z": None, "percentile": None, "tolerance": tolerance, "tolerance_text": f"{tolerance:g} {unit}",
        "outside": excess > tolerance, "strength": strength(excess, tolerance), "note": note,
    }


def strength(excess: float, tolerance: float) -> float:
    """0 inside the spread, 0.5 at one tolerance beyond it, towards 1 far beyond."""
    if excess <= 0:
        return 0.0
    return float(excess / (excess + tolerance)) if tolerance > 0 else 1.0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) + 1e-12)
