"""Error rates on real recordings: flags raised on genuine third-party recordings, and artifacts
planted into them.

The corpus is a folder of recordings published by others, each listed in a ``MANIFEST.csv``
(path, source, licence, label, rate, duration, SHA-256); a folder below it may hold a manifest of
its own (``realworld/MANIFEST.csv``). Only rows labelled ``genuine`` are used. A recording's
*source* is its manifest's folder and the first folder of its path (``realworld/fsdd``): the
split into a tuning half and a measuring half is by source, never by file, so a speaker, a
studio or a codec never sits on both sides. Sources not named in :data:`TUNING_SOURCES` are
measured, so material added later is never tuned on by accident.

Every file is hashed before it is decoded and compared with its manifest; a file that does not
match, or does not decode, is left out and named in the results.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from workbench.core.analysis import Analysis
from workbench.core.clip import Clip
from workbench.core.errors import WorkbenchError
from workbench.evidence import open_evidence
from workbench.pipeline import run_analysis
from workbench.validation.generated import OWNERS, PLANTERS, STRENGTHS, detected_share, planted_outcomes
from workbench.validation.intervals import poisson_interval
from workbench.validation.planters import splice_by_visibility
from workbench.validation.real_material import Material, frame_rms, markdown_material, material_rows, run_material

TUNING_SOURCES = frozenset({
    "realworld/fsdd", "realworld/asterisk_fr_armelle", "realworld/asterisk_en", "realworld/asterisk_it",
    "realworld/alsa_utils", "tortoise_tts", "parselmouth",
    "realworld2/speechbrain_samples", "realworld2/faster_whisper",
})
"""Sources the detectors' flag thresholds and the join detector were chosen on (24 minutes):
spoken digits, telephone prompts in French, English and Italian, ALSA's test voice, two of
Tortoise's reference voices, speechbrain's samples (home and telephone speech, Opus) and
faster-whisper's test speech (archival broadcast, a two-channel conversation, MP3). Every other
source is measured (60 minutes): the Spanish, Colombian-Spanish, French and Russian prompts, JFK,
CMU ARCTIC, the NII utterance, ``resemblyzer``'s YouTube interviews (MP3) and LibriSpeech, the studio
and read speech published beside synthetic2's generators (LJ Speech, VCTK, LibriTTS, AISHELL-3,
JSUT, Tortoise's voices), and realworld2's meetings, broadcast, home recordings and Opus, MP3 and
Vorbis files. The first corpus folders' halves are as before but for ``hifigan_demo`` (two LJ Speech
clips, 12 s), now measured so that the LJ Speech speaker sits on one side only; synthetic2's and
realworld2's sources joined on 2026-12-07, chosen so that the measuring half holds an hour and
both halves hold wideband lossy files and recordings made in real rooms."""
REAL_ONLY_KINDS = ("speaker_change", "channel_change")
"""Kinds whose false flags are counted on genuine recordings though the generated set plants none."""
FLAGGED_KINDS = {kind: OWNERS[kind] for kind in (*PLANTERS, *REAL_ONLY_KINDS)}
"""The kinds whose false flags on genuine recordings are counted, with the analysis that declares each."""
FLAGGING_ANALYSES = tuple(dict.fromkeys(FLAGGED_KINDS.values()))
"""The analyses run on the genuine recordings to count those false flags."""
MIN_PLANT_S = 8.0
"""Recordings shorter than this are used for false flags only: a planted artifact needs room."""
MAX_PLANTED_PER_SOURCE = 4
"""Of each source, at most this many recordings (spread evenly in path order) take planted
artifacts and edits; every recording counts for false flags."""


def half_of(source: str) -> str:
    """"tuning" for a source of :data:`TUNING_SOURCES`, else "measuring"."""
    return "tuning" if source in TUNING_SOURCES else "measuring"


@dataclass(frozen=True)
class Recording:
    """One genuine recording of the corpus."""

    path: Path
    source: str
    sha256: str
    duration_s: float

    @property
    def half(self) -> str:
        return half_of(self.source)


def manifest_rows(corpus: Path) -> Iterator[tuple[Path, dict[str, str], str]]:
    """Every row of every ``MANIFEST.csv`` under ``corpus``: the file's path, the row, and the
    file's source (the manifest's folder and the first folder of the row's path). Newer manifests
    name the path ``dest_path``; the row handed on always has ``path``."""
    for manifest in sorted(corpus.rglob("MANIFEST.csv")):
        folder = manifest.parent.relative_to(corpus)
        with manifest.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                row.setdefault("path", row.get("dest_path", ""))
                first = Path(row["path"]).parts[0]
                yield (manifest.parent / row["path"], row,
                       first if folder == Path(".") else f"{folder.as_posix()}/{first}")


LATER_FOLDERS = ("synthetic2/", "realworld2/")
"""Corpus folders added on 2026-12-07. The edit and false-flag tables read them; the watermark and
re-encoding tables, which embed or encode every recording they read, keep to the first folders."""


def evenly_spread(group: list, most: int) -> list:
    """At most ``most`` members of ``group``, spread evenly over it (first and last included)."""
    picks = np.unique(np.linspace(0, len(group) - 1, min(most, len(group))).round().astype(int))
    return [group[i] for i in picks]


def spread_by(items: list, key: Callable, most: int, *, path: Callable = lambda item: str(item.path)) -> list:
    """At most ``most`` of the items sharing each ``key`` (keys in sorted order), spread evenly over
    them in ``path`` order (:func:`evenly_spread`)."""
    chosen = []
    for value in sorted({key(item) for item in items}):
        chosen += evenly_spread(sorted((item for item in items if key(item) == value), key=path), most)
    return chosen


def genuine_recordings(corpus: Path, *, skip: tuple[str, ...] = ()) -> list[Recording]:
    """The genuine recordings listed in every ``MANIFEST.csv`` under ``corpus``, in path order,
    but for sources starting with one of ``skip`` (folder prefixes such as ``"synthetic2/"``)."""
    return [Recording(path, source, row["sha256"], float(row["duration_s"]))
            for path, row, source in manifest_rows(corpus)
            if row.get("label") == "genuine" and not (skip and source.startswith(skip))]


def left_out_lines(left_out: list[dict], *, listed: int = 5) -> list[str]:
    """Markdown lines naming each recording a table left out and why (none when there is none);
    where more than ``listed`` share a reason, their number and the first few names."""
    if not left_out:
        return []
    by_reason: dict[str, list[str]] = {}
    for r in left_out:
        by_reason.setdefault(r["reason"], []).append(Path(r["path"]).name)
    parts = [f"{', '.join(names)} ({reason})" if len(names) <= listed else
             f"{len(names)} recordings ({reason}), e.g. {', '.join(names[:3])}"
             for reason, names in by_reason.items()]
    return ["", "Left out: " + "; ".join(parts) + "."]


def open_checked(path: Path, sha256: str) -> Clip:
    """Decode a corpus file and check the hash intake took against its manifest's ``sha256``."""
    clip = open_evidence(path, role="reference")
    digest = clip.info.sha256
    if digest != sha256:
        raise WorkbenchError(f"{path}: SHA-256 {digest[:12]}... differs from the manifest")
    return clip


def false_flags(recordings: Iterable[Recording], analyses: dict[str, Analysis], *,
                progress: Callable[[str], None] | None = None) -> dict:
    """Run the flagging analyses on genuine recordings; every flag raised is a false flag.

    Returns
    -------
    dict
        ``flags``: one entry per flagged finding (file, source, half, kind, time, strength);
        ``exposure_s``: per half and analysis, the seconds on which it ran (an analysis that
        skips a recording, too short or too low a rate, has not measured it); ``left_out``: files
        that failed their hash or did not decode, with the reason.
    """
    measured = _empty_measures()
    for recording, clip in opened(recordings, measured["left_out"], progress):
        _flags_in(recording, clip, analyses, measured)
    return measured


def _empty_measures() -> dict:
    return {"flags": [], "exposure_s": {"tuning": {}, "measuring": {}}, "left_out": []}


def opened(recordings: Iterable[Recording], left_out: list[dict], progress, *, what: str = "genuine"):
    """Each recording that decodes and matches its manifest, with its Clip; the rest are added to
    ``left_out`` with the reason."""
    for recording in recordings:
        if progress:
            progress(f"{what} {recording.path.name}")
        try:
            yield recording, open_checked(recording.path, recording.sha256)
        except WorkbenchError as exc:
            left_out.append({"path": str(recording.path), "reason": str(exc)})


def _flags_in(recording: Recording, clip: Clip, analyses: dict[str, Analysis], measured: dict) -> dict:
    """Add the flags the flagging analyses raise on ``clip`` and the seconds each ran to
    ``measured``; return the results by analysis."""
    results = {}
    for name in FLAGGING_ANALYSES:
        if name not in analyses:
            continue
        result, _ = run_analysis(analyses[name], clip)
        results[name] = result
        if result.status != "ok":
            continue
        spent = measured["exposure_s"][recording.half]
        spent[name] = spent.get(name, 0.0) + clip.duration_s
        measured["flags"] += [{"path": str(recording.path), "source": recording.source, "half": recording.half,
                               "analysis": name, "kind": f.kind, "start_s": f.start_s,
                               "strength": f.strength} for f in result.findings if f.flagged]
    return results


def false_flag_rows(measured: dict, half: str) -> list[dict]:
    """Per finding kind, then all kinds together: flags on the genuine recordings of ``half``,
    hours measured, flags per hour and its exact 95 % interval.

    A kind's hours are those its analysis ran on; "all kinds" counts the hours any flagging
    analysis ran on (the recordings that decoded).
    """
    exposure = measured["exposure_s"][half]
    flags = [f for f in measured["flags"] if f["half"] == half]
    by_kind: dict[str, tuple[str, int]] = {}
    for f in flags:
        analysis, count = by_kind.get(f["kind"], (f["analysis"], 0))
        by_kind[f["kind"]] = (analysis, count + 1)
    for kind, analysis in FLAGGED_KINDS.items():
        by_kind.setdefault(kind, (analysis, 0))
    rows = []
    for kind, (analysis, count) in sorted(by_kind.items()):
        hours = exposure.get(analysis, 0.0) / 3600
        rows.append(_rate_row(kind, analysis, count, hours))
    rows.append(_rate_row("all kinds", "", len(flags), max(exposure.values(), default=0.0) / 3600))
    return rows


def _rate_row(kind: str, analysis: str, count: int, hours: float) -> dict:
    low, high = poisson_interval(count, hours) if hours else (None, None)
    return {"kind": kind, "analysis": analysis, "flags": count, "hours": hours,
            "per_hour": count / hours if hours else None, "per_hour_95": [low, high]}


@dataclass(frozen=True)
class RealCondition:
    """A genuine recording as a base for planting: its rate and its own background level."""

    rate: int
    room_dbfs: float
    content: str = "real"
    room: str = "real"


PAUSE_BELOW_LOUD_DB = 25.0
"""A 20 ms frame this far under the recording's loud frames (its 95th percentile) is a pause."""
PAUSE_BINS = ((0.0, 0.1, "under 10 %"), (0.1, 0.25, "10-25 %"), (0.25, 1.01, "25 % or more"))
"""Recordings grouped by their share of pause frames, for the noise floor's table."""


def pause_share(x: np.ndarray, sr: int) -> float:
    """Share of the recording's 20 ms frames (exact zero left out) that are pauses: at least
    ``PAUSE_BELOW_LOUD_DB`` under its 95th-percentile frame."""
    rms, _ = frame_rms(x.mean(axis=1), sr)
    db = 20 * np.log10(rms[rms > 0])
    return float(np.mean(db <= np.percentile(db, 95) - PAUSE_BELOW_LOUD_DB)) if db.size else 0.0


def noise_floor_by_pauses(cases: list[dict]) -> list[str]:
    """Markdown lines: moderate noise-floor plants per half and pause share, judged and found."""
    lines = ["", "`noise_floor_change` by the recording's pauses (moderate plants; a pause: a 20 ms frame "
             f"{PAUSE_BELOW_LOUD_DB:g} dB or more under the recording's 95th-percentile frame). The analysis "
             "declines a recording whose background is not steady; a declined plant counts as missed above.", "",
             "| half | pauses | plants | judged | found | found where judged |", "| --- | --- | --- | --- | --- | --- |"]
    for half in ("measuring", "tuning"):
        for low, high, name in PAUSE_BINS:
            mine = [c for c in cases if c["kind"] == "noise_floor_change" and c["strength"] == "moderate"
                    and c["half"] == half and low <= c.get("pause_share", -1) < high]
            judged = [c for c in mine if c.get("judged", True)]
            found = sum(c["detected"] for c in judged)
            lines.append(f"| {half} | {name} | {len(mine)} | {len(judged)} | {sum(c['detected'] for c in mine)} | "
                         + (f"{found / len(judged):.0%} |" if judged else "n/a |"))
    return lines


def material_of(recording: Recording, x: np.ndarray, sr: int) -> Material:
    """``recording``'s samples ``x`` (frames, channels at ``sr`` Hz) held for planting: the mono
    mix and the background level."""
    return Material(recording.path, recording.source, recording.half, sr, x.mean(axis=1).astype(np.float32),
                    background_dbfs(x, sr))


def background_dbfs(x: np.ndarray, sr: int) -> float:
    """The recording's background (dBFS): the 10th percentile of its 20 ms frames' RMS, frames
    of exact digital zero left out (a prompt's padding is no room)."""
    rms, _ = frame_rms(x.mean(axis=1), sr)
    rms = rms[rms > 0]
    return float(20 * np.log10(np.percentile(rms, 10))) if rms.size else -96.0


def _plant_into(recording: Recording, x: np.ndarray, sr: int, background: float, analyses: dict[str, Analysis], *,
                hum: bool, progress: Callable[[str], None] | None = None) -> tuple[list[dict], set[str]]:
    """Plant every kind at every strength into one genuine recording (``x``: frames, channels at
    ``sr`` Hz; ``background``: its :func:`background_dbfs`), run its analysis, and return the cases
    (as the generated set's, with the file, source and half) and the kinds planted. A kind that
    needs two channels is planted into stereo recordings only; an ENF cut only where the ``enf``
    analysis found mains hum (``hum``)."""
    clip = Clip.from_array(x, sr)
    duration_s = x.shape[0] / sr
    condition = RealCondition(sr, background)
    cases, planted = [], set()
    for kind, (owner, stereo, planter, levels) in PLANTERS.items():
        if (stereo and x.shape[1] < 2) or (kind == "enf_discontinuity" and not hum):
            continue
        if owner not in analyses or analyses[owner].unsupported(clip):
            continue
        planted.add(kind)
        base = x if stereo else x.mean(axis=1, keepdims=True)
        for strength, level in zip(STRENGTHS, levels):
            if progress:
                progress(f"{kind} {strength} in {recording.path.name}")
            rng = np.random.default_rng(zlib.crc32(repr((kind, strength, recording.path.name)).encode()))
            for outcome in planted_outcomes(analyses[owner], planter, kind, base, sr, rng,
                                            duration_s, level, condition):
                cases.append({"kind": kind, "analysis": owner, "strength": strength, "level": level,
                              "rate": sr, "path": str(recording.path), "source": recording.source,
                              "half": recording.half, **outcome})
    return cases, planted


VISIBILITIES = (3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 100.0)
"""Splice visibilities (departure over local prediction-error RMS) of the detection curve."""


def _splices_found(recording: Recording, clip: Clip, analysis: Analysis, curve: dict, *,
                   per_recording: int = 2) -> None:
    """Add to ``curve`` (half -> visibility -> found or not) whether each of ``per_recording``
    butt splices at every visibility in ``clip`` is flagged within 1 s."""
    if analysis.unsupported(clip):
        return
    base = clip.read(0, clip.frames).astype(np.float64).mean(axis=1, keepdims=True)
    for visibility in VISIBILITIES:
        for k in range(per_recording):
            rng = np.random.default_rng(zlib.crc32(repr((visibility, k, recording.path.name)).encode()))
            outcome, = planted_outcomes(analysis, splice_by_visibility, "discontinuity", base,
                                        clip.sample_rate_hz, rng, clip.duration_s, visibility, None)
            curve[recording.half].setdefault(f"{visibility:g}", []).append(outcome["detected"])


def detection_rows(cases: list[dict], half: str) -> list[dict]:
    """Per kind: share detected per strength (with counts), localisation error (moderate and
    strong), for the cases of ``half``."""
    rows = []
    for kind, (owner, *_rest) in PLANTERS.items():
        mine = [c for c in cases if c["kind"] == kind and c["half"] == half]
        row: dict = {"kind": kind, "analysis": owner, "planted": len(mine)}
        for strength in STRENGTHS:
            row[f"detected_{strength}"] = detected_share(mine, strength=strength)
            row[f"n_{strength}"] = sum(c["strength"] == strength for c in mine)
        judged = [c for c in mine if c["strength"] == "moderate" and c.get("judged", True)]
        row["judged_moderate"] = len(judged)
        row["detected_moderate_judged"] = sum(c["detected"] for c in judged) / len(judged) if judged else None
        errors = [c["error_s"] for c in mine if c["detected"] and c["strength"] != "weak"]
        row["median_error_s"] = float(np.median(errors)) if errors else None
        row["max_error_s"] = float(np.max(errors)) if errors else None
        rows.append(row)
    return rows


def planted_recordings(recordings: list[Recording]) -> set[Path]:
    """Paths of the recordings of :data:`MIN_PLANT_S` or more that take planted artifacts: at most
    :data:`MAX_PLANTED_PER_SOURCE` of each source."""
    long_enough = [r for r in recordings if r.duration_s >= MIN_PLANT_S]
    return {r.path for r in spread_by(long_enough, lambda r: r.source, MAX_PLANTED_PER_SOURCE)}


def run_real(corpus: Path, analyses: dict[str, Analysis], *,
             progress: Callable[[str], None] | None = None) -> dict:
    """False flags on every genuine recording of ``corpus`` and detection of artifacts planted
    into them, per half; a JSON-ready dict."""
    recordings = genuine_recordings(corpus)
    plantable = planted_recordings(recordings)
    measured = _empty_measures()
    cases, planted_kinds = [], set()
    found: dict[str, dict[str, list[bool]]] = {"tuning": {}, "measuring": {}}
    materials: list[Material] = []
    # One pass: each file is decoded once, and the flag run's ENF result says where hum is.
    for recording, clip in opened(recordings, measured["left_out"], progress):
        results = _flags_in(recording, clip, analyses, measured)
        if recording.path in plantable:
            enf = results.get("enf")
            hum = enf is not None and enf.measurements.get("enf_nominal_hz") is not None
            x, sr = clip.read(0, clip.frames).astype(np.float64), clip.sample_rate_hz
            material = material_of(recording, x, sr)
            more, kinds = _plant_into(recording, x, sr, material.background_dbfs, analyses, hum=hum, progress=progress)
            share = pause_share(x, sr)
            cases += [case | {"pause_share": share} for case in more]
            planted_kinds |= kinds
            materials.append(material)
        if recording.path in plantable and "discontinuity" in analyses:
            _splices_found(recording, clip, analyses["discontinuity"], found)
    material = run_material(materials, analyses, FLAGGING_ANALYSES, progress=progress)
    curve = {half: {v: {"detected": sum(hits) / len(hits), "n": len(hits)} for v, hits in by_v.items()}
             for half, by_v in found.items()}
    unplanted = sorted(set(PLANTERS) - planted_kinds)
    sources: dict[str, dict[str, float]] = {"tuning": {}, "measuring": {}}
    for recording in recordings:
        half = sources[recording.half]
        half[recording.source] = half.get(recording.source, 0.0) + recording.duration_s / 60
    return {
        "corpus": str(corpus),
        "recordings": len(recordings),
        "sources_minutes": sources,
        "false_flags": {half: false_flag_rows(measured, half) for half in ("tuning", "measuring")},
        "detection": {half: detection_rows(cases, half) for half in ("tuning", "measuring")},
        "not_planted": unplanted,
        "splice_visibility_curve": curve,
        "material": {half: material_rows(material, half) for half in ("tuning", "measuring")},
        "material_cases": material,
        "flags": measured["flags"],
        "cases": cases,
        "left_out": measured["left_out"],
    }


def _interval(row: dict) -> str:
    low, high = row["per_hour_95"]
    return "n/a" if low is None else f"{low:.1f}-{high:.1f}"


def markdown_real(results: dict) -> str:
    """The real-recording tables as Markdown, to follow the generated set's in docs/validation.md."""
    lines = ["## Real recordings: flags on genuine recordings", ""]
    for half in ("measuring", "tuning"):
        minutes = results["sources_minutes"][half]
        lines.append(f"**{half.capitalize()} half** ({sum(minutes.values()):.1f} min): "
                     + ", ".join(f"`{s}` {m:.1f} min" for s, m in sorted(minutes.items())) + ".")
        lines.append("")
    lines += [
        "Every flag raised on these unedited recordings is a false flag. Flag thresholds were chosen "
        "on the tuning half only; the measuring half's rates are the ones reports cite. A kind's "
        "hours are those its analysis ran on (it skips recordings too short or too low in rate). "
        "Intervals: exact 95 % Poisson.",
        "",
        "| kind | analysis | measuring: flags / hours | per hour (95 %) | tuning: flags / hours | per hour (95 %) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    tuning = {row["kind"]: row for row in results["false_flags"]["tuning"]}
    for row in results["false_flags"]["measuring"]:
        other = tuning.get(row["kind"])
        cells = [f"{row['flags']} / {row['hours']:.3f}", f"{_rate(row)} ({_interval(row)})"]
        cells += ([f"{other['flags']} / {other['hours']:.3f}", f"{_rate(other)} ({_interval(other)})"]
                  if other else ["n/a", "n/a"])
        kind = row["kind"] if row["kind"] == "all kinds" else f"`{row['kind']}`"
        lines.append(f"| {kind} | {row['analysis']} | " + " | ".join(cells) + " |")
    lines += ["", _flag_target(results["false_flags"]["measuring"])]
    lines += ["", "## Real recordings: artifacts planted into genuine recordings", "",
              f"Every kind at the generated set's three strengths, planted once per strength into the "
              f"genuine recordings of {MIN_PLANT_S:g} s or more, at most {MAX_PLANTED_PER_SOURCE} a source "
              "spread evenly in path order (a noise-floor change is white noise over "
              "the recording's own background, its 10th-percentile 20 ms level; a stretch is a third "
              "of a short recording). Detected: a flagged finding of the kind within 1 s.", ""]
    if results["not_planted"]:
        lines += ["Not planted (no recording of the corpus qualifies): " + ", ".join(
            f"`{k}`" for k in results["not_planted"]) + " (ENF: no genuine recording here carries mains "
            "hum; polarity: stereo recordings only).", ""]
    lines += ["| kind | half | weak | moderate | strong | median / max error (s) |",
              "| --- | --- | --- | --- | --- | --- |"]
    for half in ("measuring", "tuning"):
        for row in results["detection"][half]:
            if not row["planted"]:
                continue
            cells = [_share(row, strength) for strength in STRENGTHS]
            error = ("n/a" if row["median_error_s"] is None
                     else f"{row['median_error_s']:.2f} / {row['max_error_s']:.2f}")
            lines.append(f"| `{row['kind']}` | {half} | " + " | ".join(cells) + f" | {error} |")
    lines += ["", _detection_target(results["detection"]["measuring"])]
    lines += noise_floor_by_pauses(results.get("cases", []))
    curve = results.get("splice_visibility_curve", {})
    if curve.get("measuring"):
        lines += ["", "### Splices: detection against visibility", "",
                  "Butt splices planted into genuine recordings (two per recording that takes planted artifacts, "
                  "at each visibility: the departure at the join over the local prediction-error RMS). "
                  "Flagged within 1 s:", "",
                  "| half | " + " | ".join(f"{v:g}" for v in VISIBILITIES) + " |",
                  "| --- |" + " --- |" * len(VISIBILITIES)]
        for half in ("measuring", "tuning"):
            cells = [curve[half].get(f"{v:g}") for v in VISIBILITIES]
            lines.append(f"| {half} | " + " | ".join(
                "n/a" if c is None else f"{c['detected']:.0%} of {c['n']}" for c in cells) + " |")
    lines += markdown_material(results.get("material_cases", []))
    if results["left_out"]:
        lines += ["", "Left out (hash or decoding): " + "; ".join(
            f"`{Path(item['path']).name}`: {item['reason']}" for item in results["left_out"]) + "."]
    return "\n".join(lines) + "\n"


def _flag_target(rows: list[dict]) -> str:
    """The false-flag target against the measuring half's rate, with the flags by kind."""
    every = rows[-1]
    met = every["per_hour"] is not None and every["per_hour"] < FALSE_FLAG_BUDGET_PER_HOUR
    by_kind = ", ".join(f"`{r['kind']}` {r['flags']}" for r in sorted(rows[:-1], key=lambda r: -r["flags"]) if r["flags"])
    return (f"**Target: fewer than {FALSE_FLAG_BUDGET_PER_HOUR:g} flagged places per hour, all kinds together, "
            f"on the measuring half: {'met' if met else 'not met'}** ({_rate(every)} per hour, 95 % {_interval(every)}: "
            f"{every['flags']} flags in {every['hours']:.3f} h" + (f"; by kind: {by_kind}" if by_kind else "") + ").")


DETECTION_TARGET = 0.9
"""The detection target on real recordings: this share of moderate planted artifacts found within 1 s."""


def _detection_target(rows: list[dict]) -> str:
    """The detection target against the measuring half's moderate plants, kind by kind."""
    planted = [r for r in rows if r["n_moderate"]]
    met = [r for r in planted if r["detected_moderate"] >= DETECTION_TARGET]
    short = [r for r in planted if r["detected_moderate"] < DETECTION_TARGET]
    cells = lambda chosen: ", ".join(f"`{r['kind']}` {_share(r, 'moderate')}" for r in chosen) or "none"
    skipped = [f"`{r['kind']}` judged {r['judged_moderate']} of {r['n_moderate']}, "
               + ("found in none of them" if not r["judged_moderate"] else f"{r['detected_moderate_judged']:.0%} found there")
               for r in short if r.get("judged_moderate") is not None and r["judged_moderate"] < r["n_moderate"]]
    return (f"**Target: at least {DETECTION_TARGET:.0%} of moderate artifacts of every kind found within 1 s, "
            f"on the measuring half: {'met' if not short else 'not met'}.** Met by {cells(met)}; "
            f"not met by {cells(short)}." + (
                " Where an analysis declined to judge a recording (too short, no steady background, no hum), "
                "its artifact counts as missed: " + "; ".join(skipped) + "." if skipped else ""))


def _rate(row: dict) -> str:
    return "n/a" if row["per_hour"] is None else f"{row['per_hour']:.1f}"


def _share(row: dict, strength: str) -> str:
    value, n = row[f"detected_{strength}"], row[f"n_{strength}"]
    return "n/a" if value is None else f"{value:.0%} of {n}"


FALSE_FLAG_BUDGET_PER_HOUR = 6.0
"""The target for genuine recordings: fewer flagged places than this per hour, all kinds together."""


def cite_real(rows: list[dict], real: dict) -> list[dict]:
    """The generated set's summary rows with the measuring half's real-recording figures beside
    them, as each report section cites them: false flags per hour with its interval and hours,
    the share of moderate planted artifacts detected with its count, the edits made of real
    material that the kind speaks for (found, and found by any flag), and all kinds' rate against
    :data:`FALSE_FLAG_BUDGET_PER_HOUR`. A kind measured on the real recordings only (a speaker
    change: the generator makes one voice) gets a row of its own, with no generated figures."""
    flags = {row["kind"]: row for row in real["false_flags"]["measuring"]}
    detection = {row["kind"]: row for row in real["detection"]["measuring"]}
    every = flags["all kinds"]
    budget = {"real_all_kinds_per_hour": every["per_hour"], "real_all_kinds_95": every["per_hour_95"],
              "real_all_kinds_hours": every["hours"], "false_flag_budget_per_hour": FALSE_FLAG_BUDGET_PER_HOUR}
    real_only = [{"kind": kind, "analysis": row["analysis"], "reference": False, "real_only": True}
                 for kind, row in flags.items()
                 if kind != "all kinds" and kind not in {r["kind"] for r in rows}]
    cited = []
    for row in rows + real_only:
        extra = {}
        if row["kind"] in flags:
            f = flags[row["kind"]]
            extra |= {"real_false_flags": f["flags"], "real_hours": f["hours"],
                      "real_false_flags_per_hour": f["per_hour"], "real_false_flags_95": f["per_hour_95"]} | budget
        if row["kind"] in detection and detection[row["kind"]]["n_moderate"]:
            d = detection[row["kind"]]
            extra |= {"real_detected_moderate": d["detected_moderate"], "real_planted_moderate": d["n_moderate"]}
        edits = [{"edit": m["variant"], "places": m["n"], "found": m["detected"], "found_any": m["detected_any"]}
                 for m in real.get("material", {}).get("measuring", []) if m["kind"] == row["kind"]]
        if edits:
            extra["real_edits"] = edits
        if row["kind"] == "discontinuity" and real.get("splice_visibility_curve", {}).get("measuring"):
            extra["real_detected_by_visibility"] = real["splice_visibility_curve"]["measuring"]
        cited.append(row | extra if not row.get("reference") else row)
    return cited
