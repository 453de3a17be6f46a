"""Render the HTML report from the report model alone: one self-contained file.

Jinja2 autoescape is on for every string; figures are inlined as PNG data URIs; there is no
JavaScript and a Content-Security-Policy forbids loading anything from outside.
"""

from __future__ import annotations

import base64
import json
import math
from importlib.resources import files
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from workbench.core.model import Report
from workbench.reports.excerpts import EMBED_BUDGET_BYTES, MAX_EXCERPTS
from workbench.reports.patterns import AGREE_S, group_repeats

CSP = (
    "default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)
LONG_LIST = 12
"""Lists longer than this (curves, histograms, embeddings) are not spelled out in the HTML."""
LONG_TEXT = 300
"""Nested values whose JSON is longer than this are left to report.json too."""
TEMPLATES = Path(str(files("workbench.reports") / "templates"))


def mmss(seconds: Any, decimals: int = 1) -> str:
    """Seconds as m:ss.s for tables (h:mm:ss.s from one hour)."""
    from workbench.core.plotting import mmss as _mmss

    if seconds is None:
        return "—"
    return _mmss(float(seconds), decimals=decimals)


def fmt(value: Any) -> str:
    """A measurement value as short readable text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, list) and len(value) > LONG_LIST:
        return f"{len(value)} values (in report.json)"
    if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, (list, dict)):
        text = json.dumps(_rounded(value), ensure_ascii=False)
        return text if len(text) <= LONG_TEXT else f"{len(value)} entries (in report.json)"
    return str(value)


UNIT_DECIMALS = (("_dbfs", 2), ("_db", 2), ("_hz", 1), ("_s", 3), ("_kbps", 1))
"""Decimals a float is shown with, by the unit its key ends in (``peak_dbfs`` -0.0002651 reads
-0.00); other floats keep 4 significant digits."""


def _by_unit(value: float, key: str) -> str:
    for suffix, decimals in UNIT_DECIMALS:
        if key.endswith(suffix) or f"{suffix}_" in key:
            text = f"{value:,.{decimals}f}"
            return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text
    return fmt(value)


def cell(value: Any, key: str = "") -> Markup:
    """A measurement for a table cell: floats rounded for the unit their ``key`` names, a list of
    numbers on one line, a mapping or a list of mappings as one line per entry, never raw JSON;
    long lists are left to report.json."""
    def one(item: Any, name: str) -> str:
        if isinstance(item, float) and math.isfinite(item):
            return _by_unit(item, name)
        if isinstance(item, list) and not item:
            return "—"
        if isinstance(item, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in item):
            return ", ".join(one(v, name) for v in item) if len(item) <= LONG_LIST else fmt(item)
        if isinstance(item, dict):
            return "; ".join(f"{k}: {one(v, name)}" for k, v in item.items())
        if isinstance(item, list) and item and all(isinstance(v, list) for v in item):
            return " | ".join(one(v, name) for v in item[:LONG_LIST]) if len(item) <= LONG_LIST else fmt(item)
        return fmt(item)

    if isinstance(value, dict) and value:
        lines = [f"{k}: {one(v, key)}" for k, v in list(value.items())[:LONG_LIST]]
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        lines = [one(v, key) for v in value[:LONG_LIST]] + (
            [f"and {len(value) - LONG_LIST} more (in report.json)"] if len(value) > LONG_LIST else [])
    else:
        lines = [one(value, key)]
    return Markup("<br>").join(escape(line) for line in lines)


def _rounded(value: Any) -> Any:
    """Round floats nested in lists and dicts to 4 significant digits for display."""
    if isinstance(value, float):
        return float(f"{value:.4g}") if math.isfinite(value) else None
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def at_rate(by_rate: dict[str, float] | None, rate_hz: int) -> str:
    """The measured moderate-strength detection at the validated sample rate nearest ``rate_hz``
    (e.g. "38% at 8,000 Hz"); "—" when the row has none."""
    if not by_rate:
        return "—"
    nearest = min(by_rate, key=lambda r: abs(float(r) - rate_hz))
    return f"{by_rate[nearest]:.0%} at {int(float(nearest)):,} Hz"


def data_uri(path: Path, mime: str = "image/png") -> str | None:
    """A file as a data URI of type ``mime``, or None when it is missing."""
    try:
        return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return None


def place_strength(place: dict[str, Any]) -> float:
    """A place's strength: its finding's, or a pattern's strongest member's."""
    return place["strength_range"][1] if place.get("pattern") else place["strength"]


def embedded_excerpts(report: Report, places: list[dict[str, Any]], base_dir: Path) -> dict[int, dict[str, Any]]:
    """Each excerpt of ``report`` by place number (``places``: the grouped timeline), with
    ``audio`` (a data URI; None when the file is missing or would take the excerpts embedded,
    strongest place first, beyond ``EMBED_BUDGET_BYTES``) and ``figure_uri`` (a data URI or None)."""
    strength = {number: place_strength(place) for number, place in enumerate(places, start=1)}
    shown, used = {}, 0
    for item in sorted(report.excerpts.get("items", []), key=lambda item: -strength.get(item["place"], 0.0)):
        audio = None
        if used + item["size_bytes"] <= EMBED_BUDGET_BYTES:
            mime = "audio/flac" if item["path"].endswith(".flac") else "audio/wav"
            audio = data_uri(base_dir / item["path"], mime)
            used += item["size_bytes"] if audio else 0
        shown[item["place"]] = {**item, "audio": audio, "figure_uri": data_uri(base_dir / item["figure"])}
    return shown


def summary(report: Report, places: list[dict[str, Any]], *, strongest: int = 5) -> dict[str, Any]:
    """What the first page shows: flagged places by kind, the strongest places (number, entry),
    the comparison's rows outside the references' range, and the limitations in one paragraph
    (the first sentence of each)."""
    by_kind: dict[str, int] = {}
    for entry in report.timeline:
        by_kind[entry["kind"]] = by_kind.get(entry["kind"], 0) + 1
    numbered = list(enumerate(places, start=1))
    top = sorted(numbered, key=lambda item: -place_strength(item[1]))
    outside = [row for entry in report.analyses if entry.name == "comparison"
               for row in entry.measurements.get("rows", []) if row.get("outside")]
    return {
        "by_kind": sorted(by_kind.items(), key=lambda item: (-item[1], item[0])),
        "strongest": sorted(top[:strongest], key=lambda item: item[0]),
        "outside": outside,
        "compared": any(entry.name == "comparison" and entry.status == "ok" for entry in report.analyses),
        "limitations": " ".join(text.split(". ")[0].rstrip(".") + "." for text in report.limitations),
        "provenance": provenance(report),
    }


READS = {
    "comparison": ("rows",),
    "c2pa": ("c2pa_manifest", "c2pa_declared_source_types", "c2pa_integrity", "c2pa_trust", "c2pa_signer"),
    "watermark": ("windows_marked", "windows_read", "watermark_confidence"),
}
"""The measurements of particular analyses that the first page reads, by analysis: each one is
declared by its analysis (``Analysis.measurement_keys``; a test holds the two together)."""


def provenance(report: Report) -> list[str]:
    """One line per provenance mark read (C2PA content credentials, the Perth watermark), saying
    what was found or why it was not read; the sections hold the detail."""
    entries = {entry.name: entry for entry in report.analyses}
    return [_mark_line(entries.get("c2pa"), "C2PA content credentials", _c2pa_line),
            _mark_line(entries.get("watermark"), "Perth watermark", _perth_line)]


def _mark_line(entry, what: str, describe: Callable[[dict[str, Any]], str]) -> str:
    if entry is None:
        return f"{what}: not read (its analysis was not run)."
    if entry.status != "ok":
        return f"{what}: not read ({entry.message})."
    return describe(entry.measurements)


def _c2pa_line(m: dict[str, Any]) -> str:
    if m.get("c2pa_manifest") != "present":
        return f"C2PA content credentials: manifest {m.get('c2pa_manifest')} (most recordings carry none; its absence says nothing)."
    declared = ", ".join(m.get("c2pa_declared_source_types") or []) or "none"
    return (f"C2PA manifest present: integrity {m['c2pa_integrity']}, trust {m['c2pa_trust']}, signer "
            f"{m.get('c2pa_signer') or 'not stated'}, declared source types: {declared}.")


def _perth_line(m: dict[str, Any]) -> str:
    return (f"Perth watermark: {m['windows_marked']} of {m['windows_read']} windows read as marked (median "
            f"confidence {m['watermark_confidence']:.2f}). Other watermarks are not read.")


def environment() -> Environment:
    """The Jinja environment of the report and index templates: autoescaped, with the report's filters."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(mmss=mmss, fmt=fmt, cell=cell, at_rate=at_rate, place_strength=place_strength, pct=lambda v: "—" if v is None else f"{v:.0%}",
                       auc_interval=auc_interval)
    return env


def render_html(report: Report, base_dir: Path, *, for_print: bool = False,
                listening_notes: list[dict[str, Any]] | tuple = ()) -> str:
    """Render ``report`` to HTML text; figure paths are resolved against ``base_dir``.

    ``for_print`` adds the running page head and foot that the PDF prints on every page;
    ``listening_notes`` (a case's custody entries, :func:`workbench.listening.listening_notes`)
    fill the reviewer section's listening log.
    """
    figures = {}
    for path in [*report.figures.values(), *(p for a in report.analyses for p in a.figures)]:
        figures[path] = data_uri(base_dir / path)
    notes = group_repeats([
        {"analysis": entry.name, **vars(finding)}
        for entry in report.analyses
        for finding in entry.findings
        if not finding.flagged
    ])
    places = group_repeats(report.timeline, agree_s=AGREE_S)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        evidence=report.evidence,
        timeline=report.timeline,
        places=places,
        summary=summary(report, places),
        notes=notes,
        figures=figures,
        css=css,
        csp=CSP,
        file_name=Path(str(report.evidence.get("path", ""))).name,
        for_print=for_print,
        case=report.run.get("case") or {},
        excerpts=embedded_excerpts(report, places, base_dir),
        listening_notes=list(listening_notes),
        excerpt_budget_mb=EMBED_BUDGET_BYTES / 1e6,
        max_excerpts=MAX_EXCERPTS,
    )


def auc_interval(value: float | None, bounds: list[float] | None) -> str:
    """An AUC or EER with its 95 % interval when there is one: "0.81 (0.72-0.88)"; "—" unmeasured."""
    if value is None:
        return "—"
    return f"{value:.2f}" + (f" ({bounds[0]:.2f}-{bounds[1]:.2f})" if bounds else "")
