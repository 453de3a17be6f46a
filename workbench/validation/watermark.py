"""How often the ``watermark`` analysis reads the Perth mark where there is none, and where it was
put: every genuine recording of the corpus (false alarms, per recording and per window), the
labelled synthetic ones (a mark is news either way), and the lossless genuine recordings with the
mark embedded by the same network's encoder, written as WAV at their own rate and as MP3.

The analysis's threshold (:data:`workbench.analyses.watermark.MARKED_AT`) and shortest window were chosen on
the tuning half of :data:`workbench.validation.real.TUNING_SOURCES`; the table gives the measuring
half, and all recordings beside it. Shares come with exact (Clopper-Pearson) 95 % intervals.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import soundfile as sf

from workbench.analyses.watermark import MARKED_AT
from workbench.core.analysis import Analysis
from workbench.core.errors import WorkbenchError
from workbench.evidence import open_evidence
from workbench.material.media import write_with_pyav
from workbench.validation.intervals import clopper_pearson
from workbench.validation.perth_mark import embed_perth
from workbench.validation.real import LATER_FOLDERS, genuine_recordings, half_of, left_out_lines, open_checked
from workbench.validation.recompression import MP3_RATES, opened_lossless
from workbench.validation.synthetic import sampled_labelled_rows

MP3_KBPS = {"wide": 64, "telephone": 32}
"""Bit rate of the MP3 copy of a marked recording: 64 kbps from 16 kHz up, 32 kbps at 8 kHz."""


def _read(analysis: Analysis, clip) -> dict | str:
    """Windows read and marked by the analysis on ``clip``, or its reason when it did not read it."""
    result = analysis.run(clip)
    if result.status != "ok":
        return result.message
    m = result.measurements
    return {"windows": m["windows_read"], "marked": m["windows_marked"], "highest": m["watermark_confidence_range"][1]}


def run_watermark(corpus: Path, analysis: Analysis, *, progress: Callable[[str], None] | None = None) -> dict:
    """Read every genuine and labelled synthetic recording, and the marked copies; a JSON-ready dict."""
    read, left_out = [], []
    synthetic = [r for r in sampled_labelled_rows(corpus) if r["label"] == "synthetic"]
    items = [(r.path, r.sha256, r.source, "genuine") for r in genuine_recordings(corpus, skip=LATER_FOLDERS)]
    items += [(r["path"], r["sha256"], r["source"], "synthetic") for r in synthetic]
    for path, sha256, source, label in items:
        if progress:
            progress(f"watermark {path.name}")
        try:
            counts = _read(analysis, open_checked(path, sha256))
        except WorkbenchError as exc:
            left_out.append({"path": str(path), "reason": str(exc)})
            continue
        if isinstance(counts, str):
            left_out.append({"path": str(path), "reason": counts})
            continue
        read.append({"path": str(path), "source": source, "label": label, "half": half_of(source), **counts})
    planted = []
    with tempfile.TemporaryDirectory(prefix="workbench-watermark-") as scratch:
        for recording, clip in opened_lossless(corpus, left_out, "watermark embedded", progress=progress):
            rate = clip.sample_rate_hz
            marked = embed_perth(clip.mono_range(0, clip.frames), rate)
            sf.write(Path(scratch) / "marked.wav", marked, rate, subtype="PCM_16")
            copies = {"wav": Path(scratch) / "marked.wav"}
            if rate in MP3_RATES:
                kbps = MP3_KBPS["telephone" if rate < 16000 else "wide"]
                copies[f"mp3 {kbps} kbps"] = write_with_pyav(Path(scratch) / "marked.mp3", marked, rate,
                                                             codec="libmp3lame", bit_rate=kbps * 1000)
            for form, copy in copies.items():
                counts = _read(analysis, open_evidence(copy, role="reference"))
                if not isinstance(counts, str):
                    planted.append({"path": str(recording.path), "source": recording.source,
                                    "half": recording.half, "form": form, **counts})
    return {"read": read, "planted": planted, "rows": watermark_rows(read, planted), "left_out": left_out}


def _share(members: list[dict]) -> dict:
    yes = sum(1 for m in members if m["marked"])
    return {"files": len(members), "yes": yes, "yes_share": yes / len(members) if members else None,
            "yes_95": clopper_pearson(yes, len(members)),
            "windows": sum(m["windows"] for m in members), "windows_marked": sum(m["marked"] for m in members)}


def watermark_rows(read: list[dict], planted: list[dict]) -> list[dict]:
    """Per half (measuring, all): share of recordings with a marked window, genuine, synthetic,
    and marked copies per form."""
    rows = []
    for half in ("measuring", "all"):
        def mine(items):
            return [m for m in items if half == "all" or m["half"] == half]

        for label in ("genuine", "synthetic"):
            rows.append({"half": half, "what": label, **_share([m for m in mine(read) if m["label"] == label])})
        for form in sorted({p["form"] for p in planted}):
            rows.append({"half": half, "what": f"marked, {form}", **_share([p for p in mine(planted) if p["form"] == form])})
    return rows


def cite_watermark(results: dict) -> dict:
    """The row each report's watermark section cites: measuring half, genuine and marked WAV."""
    rows = {row["what"]: row for row in results["rows"] if row["half"] == "measuring"}
    keep = ("files", "yes", "yes_share", "yes_95", "windows", "windows_marked")
    return {"kind": "watermark", "analysis": "watermark", "reference": False, "watermark": True,
            "false_alarm": {k: rows["genuine"][k] for k in keep} if "genuine" in rows else None,
            "detected": {form: {k: row[k] for k in keep} for form, row in
                         ((w.removeprefix("marked, "), r) for w, r in rows.items() if w.startswith("marked"))}}


def markdown_watermark(results: dict) -> str:
    """The section of validation.md."""
    def share(row):
        if not row["files"]:
            return "n/a"
        low, high = row["yes_95"]
        return f"{row['yes']} of {row['files']} ({row['yes_share']:.1%}; {low:.1%}-{high:.1%})"

    lines = [
        "## Perth watermark: false alarms and detection",
        "",
        "The watermark analysis (resemble-perth 1.0.1 weights) on every genuine recording of the corpus, "
        "the labelled synthetic ones, and the lossless genuine recordings (at most 6 a source) with the "
        "mark embedded by the same network's encoder, read as WAV at their own rate and as MP3 (64 kbps, "
        f"32 kbps at 8 kHz). A recording counts as marked when any window reads {MARKED_AT} or more; that "
        "threshold, and not reading windows under 1 s, were chosen on the tuning half. Recordings "
        "under 1 s are left out. Exact 95 % intervals.",
        "",
        "| half | recordings | marked (95 %) | windows marked |",
        "| --- | --- | --- | --- |",
    ]
    for row in results["rows"]:
        lines.append(f"| {row['half']} | {row['what']} | {share(row)} | {row['windows_marked']} of {row['windows']} |")
    return "\n".join(lines + left_out_lines(results["left_out"])) + "\n"
