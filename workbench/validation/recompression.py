"""How often ``container.double_compression`` is said of MP3s made from the genuine lossless
recordings of the corpus: encoded once (false alarms) and twice, first at a lower or a higher bit
rate (detection), with LAME through PyAV at the recording's own sample rate.

Each MP3 is written to a scratch folder, opened as evidence and read by the ``container``
analysis, as a user's file would be. Three answers are counted apart: yes (``True``), no
(``False``) and cannot tell (``None``: the band ends where a lower sample rate would end it, or
too little signal). Shares come with exact (Clopper-Pearson) 95 % intervals and the number of
files behind them; the halves are those of :data:`workbench.validation.real.TUNING_SOURCES`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from workbench.core.analysis import Analysis
from workbench.core.clip import Clip
from workbench.core.errors import WorkbenchError
from workbench.evidence import open_evidence
from workbench.material.media import write_with_pyav
from workbench.validation.intervals import clopper_pearson
from workbench.validation.real import LATER_FOLDERS, Recording, genuine_recordings, left_out_lines, open_checked, spread_by

LOSSLESS_SUFFIXES = (".wav", ".flac")
MP3_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
MIN_DURATION_S = 1.0
MAX_PER_SOURCE = 6
"""Of each source, at most this many recordings, spread evenly in path order."""
PAIRS = {
    "wide": ((64, (None, 16, 24, 32, 48, 96)), (128, (None, 16, 24, 32, 48, 64, 96, 160))),
    "telephone": ((32, (None, 8, 16, 24, 48)),),
}
"""(final kbps, first kbps or None for one encoding) at recordings of 16 kHz and above ("wide",
MPEG-2 and -1 rates) and at 8 kHz ("telephone", MPEG-2.5: 8-64 kbps)."""
QUICK_PAIRS = {"wide": ((128, (None, 24)),), "telephone": ((32, (None, 8)),)}
"""The pairs of ``workbench validate --quick``: one encoding, and a first one that narrows the band."""


def _band(rate_hz: int) -> str:
    """Which of :data:`PAIRS` applies at ``rate_hz``: "telephone" below 16 kHz, else "wide"."""
    return "telephone" if rate_hz < 16000 else "wide"


def lossless_recordings(corpus: Path):
    """The genuine WAV and FLAC recordings of the corpus, at most ``MAX_PER_SOURCE`` a source."""
    recordings = [r for r in genuine_recordings(corpus, skip=LATER_FOLDERS)
                  if r.path.suffix.lower() in LOSSLESS_SUFFIXES and r.duration_s >= MIN_DURATION_S]
    return spread_by(recordings, lambda r: r.source, MAX_PER_SOURCE)


def opened_lossless(corpus: Path, left_out: list[dict], what: str, *,
                    progress: Callable[[str], None] | None = None) -> Iterator[tuple[Recording, Clip]]:
    """Each of :func:`lossless_recordings` opened, its hash checked against the manifest; a file
    that fails is added to ``left_out`` with the reason."""
    for recording in lossless_recordings(corpus):
        if progress:
            progress(f"{what} {recording.path.name}")
        try:
            yield recording, open_checked(recording.path, recording.sha256)
        except WorkbenchError as exc:
            left_out.append({"path": str(recording.path), "reason": str(exc)})


def _encode(samples: np.ndarray, rate_hz: int, kbps: int, path: Path) -> Path:
    return write_with_pyav(path, samples, rate_hz, codec="libmp3lame", bit_rate=kbps * 1000)


def _decoded(path: Path) -> np.ndarray:
    import soundfile as sf

    return sf.read(path, dtype="float32", always_2d=True)[0].mean(axis=1)


def run_recompression(corpus: Path, container: Analysis, *, quick: bool = False,
                      progress: Callable[[str], None] | None = None) -> dict:
    """Encode every lossless genuine recording once and twice (``QUICK_PAIRS`` only with
    ``quick``); the answer for each file."""
    pairs = QUICK_PAIRS if quick else PAIRS
    cases, left_out = [], []
    with tempfile.TemporaryDirectory(prefix="workbench-recompression-") as scratch:
        folder = Path(scratch)
        for recording, clip in opened_lossless(corpus, left_out, "double compression", progress=progress):
            rate = clip.sample_rate_hz
            if rate not in MP3_RATES:
                left_out.append({"path": str(recording.path), "reason": f"{rate} Hz is not an MP3 rate"})
                continue
            samples = clip.mono_range(0, clip.frames)
            firsts: dict[int, np.ndarray] = {}
            for final, starts in pairs[_band(rate)]:
                for first in starts:
                    source = samples
                    if first is not None:
                        if first not in firsts:
                            firsts[first] = _decoded(_encode(samples, rate, first, folder / f"first{first}.mp3"))
                        source = firsts[first]
                    path = _encode(source, rate, final, folder / "case.mp3")
                    result = container.run(open_evidence(path, role="reference"))
                    answer = result.measurements.get("double_compression") if result.status == "ok" else None
                    cases.append({"path": str(recording.path), "source": recording.source,
                                  "half": recording.half, "rate_hz": rate,
                                  "first_kbps": first, "final_kbps": final, "answer": answer,
                                  "first_estimate_kbps": result.measurements.get("first_bitrate_kbps")})
    return {"cases": cases, "rows": recompression_rows(cases, pairs), "left_out": left_out}


def _row(half: str, rate_hz: int | None, final: int | None, first: int | None, members: list[dict]) -> dict:
    said = [c["answer"] for c in members]
    yes, no, unknown = said.count(True), said.count(False), said.count(None)
    return {"half": half, "rate_hz": rate_hz, "final_kbps": final, "first_kbps": first, "files": len(members),
            "yes": yes, "no": no, "cannot_tell": unknown, "yes_share": yes / len(members),
            "yes_95": clopper_pearson(yes, len(members))}


def recompression_rows(cases: list[dict], pairs: dict = PAIRS) -> list[dict]:
    """Per half, sample rate and pair of bit rates; then pooled per half: one encoding, a first
    encoding below the final rate, and one at or above it."""
    rows = []
    for half in ("tuning", "measuring"):
        mine = [c for c in cases if c["half"] == half]
        for rate in sorted({c["rate_hz"] for c in mine}):
            for final, starts in pairs[_band(rate)]:
                for first in starts:
                    members = [c for c in mine if (c["rate_hz"], c["final_kbps"], c["first_kbps"]) == (rate, final, first)]
                    if members:
                        rows.append(_row(half, rate, final, first, members))
        pooled = {
            "one encoding": [c for c in mine if c["first_kbps"] is None],
            "first below final": [c for c in mine if c["first_kbps"] is not None and c["first_kbps"] < c["final_kbps"]],
            "first at or above final": [c for c in mine if c["first_kbps"] is not None and c["first_kbps"] >= c["final_kbps"]],
        }
        for name, members in pooled.items():
            if members:
                rows.append({**_row(half, None, None, None, members), "pooled": name})
    return rows


def cite_recompression(results: dict) -> dict:
    """The row the ``container`` section cites: measuring half, pooled."""
    pooled = {r["pooled"]: r for r in results["rows"] if r.get("pooled") and r["half"] == "measuring"}
    single, below = pooled.get("one encoding"), pooled.get("first below final")
    return {
        "kind": "double_compression", "analysis": "container", "reference": False, "recompression": True,
        "false_alarm": single and {k: single[k] for k in ("files", "yes", "yes_share", "yes_95", "cannot_tell")},
        "detected": below and {k: below[k] for k in ("files", "yes", "yes_share", "yes_95", "cannot_tell")},
    }


def markdown_recompression(results: dict) -> str:
    """The section of validation.md."""
    def share(row):
        low, high = row["yes_95"]
        return f"{row['yes']} of {row['files']}: {row['yes_share']:.0%} ({low:.0%}-{high:.0%})"

    lines = [
        "## Double compression (MP3): genuine recordings encoded once and twice",
        "",
        "Every genuine WAV/FLAC recording of the corpus (at most "
        f"{MAX_PER_SOURCE} a source) encoded with LAME (PyAV) at its own sample rate, once at the final "
        "bit rate or first at another rate, decoded and encoded again; each MP3 opened as evidence "
        "and read by the `container` analysis. 'yes' is `double_compression` true; 'cannot tell' is "
        "null (the band ends where a lower sample rate's would, or too little signal). Exact 95 % "
        "intervals. Nothing was tuned on these files (the thresholds are the analysis's defaults); "
        "the halves are the real recordings' split by source.",
        "",
        "| half | pooled | files | said yes (95 %) | cannot tell |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in results["rows"]:
        if row.get("pooled"):
            lines.append(f"| {row['half']} | {row['pooled']} | {row['files']} | {share(row)} | {row['cannot_tell']} |")
    lines += ["", "| half | sample rate (Hz) | final kbps | first kbps | files | said yes (95 %) | cannot tell |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in results["rows"]:
        if not row.get("pooled"):
            first = "one encoding" if row["first_kbps"] is None else row["first_kbps"]
            lines.append(f"| {row['half']} | {row['rate_hz']} | {row['final_kbps']} | {first} | {row['files']} | "
                         f"{share(row)} | {row['cannot_tell']} |")
    return "\n".join(lines + left_out_lines(results["left_out"])) + "\n"
