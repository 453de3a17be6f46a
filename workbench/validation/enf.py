"""ENF on real grid variation: real mains hum (:mod:`workbench.validation.enf_material`) mixed into
genuine speech, matched against grid logs, and cut.

For each mains reference of a half, with that half's genuine speech as the bed:

- **placement**: 2-minute and 30-s excerpts of the reference's hum, in every hum profile, mixed into
  speech at 44.1 kHz (telephone profile: 8 kHz telephone speech) and, for the 2-minute ones,
  resampled to 8 kHz and to 400 Hz; the ``enf`` analysis's trace matched against the reference's
  log. Placed: the best offset within :data:`PLACED_S` of the truth.
- **wrong logs**: each 44.1 kHz and telephone excerpt matched against the logs of up to
  :data:`WRONG_LOGS` other references of the half; a wrong log claims a match where
  ``reference_match`` is true.
- **genuine recordings without the mix**: the half's genuine recordings (those with hum of their
  own included), matched against the half's first log.
- **cuts**: 2-minute mixes with 0.5, 1, 2 and 5 s (or a little more: to the next pause) removed
  between two pauses, each cut at a random sample of its pause (see
  :func:`~workbench.validation.real_material.deletion_at_pause`); found when ``enf_discontinuity``
  flags within :data:`CUT_TOLERANCE_S`. The uncut mixes give the false flags per hour.

The halves of the references alternate in name order; the speech beds follow the real recordings'
split by source (:data:`~workbench.validation.real.TUNING_SOURCES`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from workbench.analyses.enf import Enf, GridLog, match_grid, parse_grid_log, MATCH_RULE
from workbench.core.clip import Clip
from workbench.validation.enf_material import (HUM_BELOW_SPEECH_DB, HUM_PROFILES, TELEPHONE_PROFILE,
                                               mains_references, speech_bed, with_hum)
from workbench.validation.intervals import clopper_pearson, poisson_interval
from workbench.validation.real import genuine_recordings, opened, spread_by
from workbench.validation.real_material import Material, deletion_at_pause, resampled, seeded_rng

LENGTHS_S = (120.0, 30.0)
"""Excerpt lengths (s): the target's 2 minutes, and 30 s, measured and published."""
WIDE_RATE_HZ = 44100
TELEPHONE_RATE_HZ = 8000
RESAMPLED_HZ = (8000, 400)
"""Rates the 2-minute wideband mixes are also read at."""
AS_MADE = ("44.1 kHz", "telephone")
"""How a mix is read at its own rate: wideband at 44.1 kHz, or telephone speech at 8 kHz. The
wrong logs, the cuts and the targets use these reads."""
PLACED_S = 2.0
"""An excerpt is placed when the best offset is this close (s) to the truth."""
WRONG_LOGS = 6
CUTS_S = (0.5, 1.0, 2.0, 5.0)
CUT_TOLERANCE_S = 1.0
BEDS_PER_SOURCE = 3
"""Genuine recordings of each source (5 s or more, without hum of their own) taken as speech beds."""
TARGETS = {"placed_120": 0.9, "wrong_logs_silent": 0.95, "cuts_found": 0.9, "false_per_hour": 1.0}


def _beds(corpus: Path, half: str, left_out: list[dict], progress) -> tuple[list, list, list]:
    """The half's speech beds (wideband, telephone) and its genuine recordings with their own hum,
    each ``(recording, mono, rate)``."""
    recordings = [r for r in genuine_recordings(corpus) if r.half == half and r.duration_s >= 5]
    wide, telephone, humming = [], [], []
    for recording, clip in opened(spread_by(recordings, lambda r: r.source, BEDS_PER_SOURCE), left_out, progress,
                                  what="speech bed"):
        mono = clip.read(0, clip.frames).astype(np.float64).mean(axis=1)
        item = (recording, mono, clip.sample_rate_hz)
        if Enf().run(clip).measurements.get("enf_nominal_hz") is not None:
            humming.append(item)
        else:
            (telephone if clip.sample_rate_hz < 16000 else wide).append(item)
    return wide, telephone, humming


def _trace(y: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, list] | None:
    """The ``enf`` analysis of ``y``: its trace (times, Hz) and its flagged findings' times; None
    when it finds no hum."""
    result = Enf().run(Clip.from_array(y[:, None].astype(np.float32), rate))
    if not result.tracks:
        return None
    return (result.tracks[0].times_s, result.tracks[0].values,
            [f.start_s for f in result.findings if f.flagged])


def _match(trace, log: GridLog) -> dict:
    if trace is None:
        return {"hum": False, "offset_s": None, "match": None}
    m = match_grid(trace[0], trace[1], log)
    return {"hum": True, "offset_s": m.offset_s, "match": m.matches, "correlation": m.correlation,
            "rms_hz": m.rms_hz}


def run_enf(corpus: Path, *, halves: tuple[str, ...] = ("tuning", "measuring"),
            progress: Callable[[str], None] | None = None) -> dict:
    """The ENF tables' cases on the real mains references of ``corpus``, for ``halves``; a
    JSON-ready dict (``{"not_run": reason}`` when the corpus has no references)."""
    references = mains_references(corpus)
    if not references:
        return {"not_run": f"no enf_whu_refs/ references under {corpus}"}
    clock = {r.name: i % 2 == 1 for i, r in enumerate(references)}
    logs = {r.name: parse_grid_log(r.log_csv(seeded_rng("log", r.name), clock=clock[r.name]), r.name) for r in references}
    placement, wrong, cuts, genuine, left_out = [], [], [], [], []
    for half in halves:
        wide, telephone, humming = _beds(corpus, half, left_out, progress)
        mine = [r for r in references if r.half == half]
        for reference in mine:
            if progress:
                progress(f"enf {half} {reference.name}")
            others = [o.name for o in mine if o.name != reference.name][:WRONG_LOGS]
            rng = seeded_rng("enf", reference.name)
            for length in LENGTHS_S:
                for profile in HUM_PROFILES:
                    tele = profile == TELEPHONE_PROFILE
                    rate = TELEPHONE_RATE_HZ if tele else WIDE_RATE_HZ
                    start = float(rng.uniform(0, reference.duration_s - length - 1))
                    below = float(rng.uniform(*HUM_BELOW_SPEECH_DB))
                    mix = with_hum(speech_bed(telephone if tele else wide, length, rate, rng), rate, reference,
                                   start, profile, below, rng)
                    case = {"half": half, "reference": reference.name, "length_s": length, "profile": profile,
                            "below_db": below, "start_s": start}
                    reads = [(AS_MADE[tele], mix, rate)]
                    if length == LENGTHS_S[0] and not tele:
                        reads += [(f"{to / 1000:g} kHz" if to >= 1000 else f"{to} Hz", resampled(mix, rate, to), to)
                                  for to in RESAMPLED_HZ]
                    truth = reference.log_time(start, clock=clock[reference.name])
                    for read, y, at_rate in reads:
                        trace = _trace(y, at_rate)
                        got = _match(trace, logs[reference.name])
                        placed = got["offset_s"] is not None and abs(got["offset_s"] - truth) <= PLACED_S
                        placement.append(case | {"read": read, "log_start_s": truth} | got | {"placed": placed})
                        if read in AS_MADE:
                            wrong += [case | {"log": o} | _match(trace, logs[o]) for o in others]
                        if length == LENGTHS_S[0] and read in AS_MADE:
                            cuts += _cut_cases(case | {"read": read}, mix, rate, trace, rng)
        for recording, mono, rate in humming + wide + telephone:
            genuine.append({"half": half, "path": str(recording.path), "own_hum": any(recording is h[0] for h in humming)}
                           | _match(_trace(mono, rate), logs[mine[0].name]))
    return {"references": {h: sorted(r.name for r in references if r.half == h) for h in ("tuning", "measuring")},
            "hours": {h: sum(r.duration_s for r in references if r.half == h) / 3600 for h in ("tuning", "measuring")},
            "rule": MATCH_RULE, "placement": placement, "wrong_logs": wrong, "cuts": cuts, "genuine": genuine,
            "left_out": left_out}


def _cut_cases(case: dict, mix: np.ndarray, rate: int, uncut_trace, rng: np.random.Generator) -> list[dict]:
    """The uncut mix's flags (false flags) and each cut's: found or not."""
    out = [case | {"cut_s": 0.0, "duration_s": mix.size / rate, "hum": uncut_trace is not None,
                   "flags": len(uncut_trace[2]) if uncut_trace else 0}]
    material = Material(Path(case["reference"]), case["reference"], case["half"], rate, mix.astype(np.float32), 0.0)
    for length in CUTS_S:
        made = deletion_at_pause(material, rng, length, anywhere_in_frame=True)
        if made is None:
            continue
        y, (planted,) = made[0][:, 0], made[1]
        trace = _trace(y, rate)
        flags = trace[2] if trace else []
        out.append(case | {"cut_s": length, "removed_s": planted.details["removed_s"], "at_s": planted.start_s,
                           "hum": trace is not None,
                           "found": any(abs(t - planted.start_s) <= CUT_TOLERANCE_S for t in flags)})
    return out


def _share(hits: int, n: int) -> str:
    if not n:
        return "none"
    low, high = clopper_pearson(hits, n)
    return f"{hits} of {n}: {hits / n:.0%} ({low:.0%}-{high:.0%})"


def _cases(results: dict, table: str, half: str, **equal) -> list[dict]:
    """The cases of ``results[table]`` in ``half`` whose fields equal ``equal``."""
    return [c for c in results[table] if c["half"] == half and all(c[k] == v for k, v in equal.items())]


def _targeted(results: dict, half: str) -> tuple[list[dict], list[dict]]:
    """The cases the placement and cut targets count in ``half``: 2-minute excerpts as made
    (:data:`AS_MADE`), and cuts of 1 s or more."""
    return ([c for c in _cases(results, "placement", half, length_s=LENGTHS_S[0]) if c["read"] in AS_MADE],
            [c for c in results["cuts"] if c["half"] == half and c["cut_s"] >= 1.0])


def summary(results: dict, half: str) -> dict:
    """The numbers the targets and the report cite, for ``half``."""
    placed, cut = _targeted(results, half)
    wrong = _cases(results, "wrong_logs", half, length_s=LENGTHS_S[0])
    uncut = _cases(results, "cuts", half, cut_s=0.0)
    flags, hours = sum(c["flags"] for c in uncut), sum(c["duration_s"] for c in uncut) / 3600
    return {
        "placed_120": [sum(c["placed"] for c in placed), len(placed)],
        "placed_120_with_hum": [sum(c["placed"] for c in placed if c["hum"]), sum(c["hum"] for c in placed)],
        "wrong_logs_silent": [sum(c["match"] is not True for c in wrong), len(wrong)],
        "cuts_found": [sum(c["found"] for c in cut), len(cut)],
        "false_flags": [flags, hours],
        "false_per_hour_95": list(poisson_interval(flags, hours)) if hours else None,
    }


def markdown_enf(results: dict) -> list[str]:
    """The section of validation.md."""
    if "not_run" in results:
        return ["## ENF on real grid variation", "", f"Not run: {results['not_run']}.", ""]
    lines = [
        "## ENF on real grid variation (ENF-WHU mains references)",
        "",
        "Real mains hum: the fundamental's phase of each ENF-WHU reference (50 Hz, Wuhan, recorded at "
        "400 Hz) drives a hum of four harmonics at the sample times of a genuine speech bed, "
        f"{HUM_BELOW_SPEECH_DB[0]:g}-{HUM_BELOW_SPEECH_DB[1]:g} dB under the speech's loud level, in one of "
        "these profiles (amplitudes of 50/100/150/200 Hz): "
        + "; ".join(f"{name} {'/'.join(f'{a:g}' for a in amps)}" for name, amps in HUM_PROFILES.items())
        + ". The grid log is the reference's frequency once a second (the mean over the second), with "
        "1 mHz of noise, in seconds or ISO-8601 clock times (alternating). The beds are the half's genuine "
        "recordings without hum of their own. Cuts fall at a random sample of a pause (a cut at a 20-ms "
        "frame edge removes whole 50 Hz cycles and leaves the phase unbroken). Exact 95 % intervals.",
        "",
        f"References: tuning ({results['hours']['tuning']:.1f} h) "
        + ", ".join(results["references"]["tuning"])
        + f"; measuring ({results['hours']['measuring']:.1f} h) " + ", ".join(results["references"]["measuring"])
        + f". Method chosen on the tuning half: 16-s trace frames; `reference_match` is true where {results['rule']}; "
        "a phase jump is flagged at 0.8 rad of the followed harmonic's phase and 12 times its noise, lines of 5 s "
        "either side. The candidates compared there are in [enf.md](enf.md).",
        "",
        "### Placement: the best offset within 2 s of the truth",
        "",
        "| half | excerpt | read at | placed, all excerpts | placed, where hum was found | `reference_match` true where placed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for half in ("measuring", "tuning"):
        keys = sorted({(c["length_s"], c["read"]) for c in results["placement"] if c["half"] == half},
                      key=lambda k: (-k[0], k[1]))
        for length, read in keys:
            rows = _cases(results, "placement", half, length_s=length, read=read)
            hum = [c for c in rows if c["hum"]]
            placed = [c for c in rows if c["placed"]]
            lines.append(f"| {half} | {length:g} s | {read} | {_share(len(placed), len(rows))} | "
                         f"{_share(len(placed), len(hum))} | {_share(sum(c['match'] is True for c in placed), len(placed))} |")
    lines += ["", "### Wrong logs: each excerpt against other references' logs", "",
              "| half | excerpt | pairs | claims a match | cannot judge (no hum, too short) |", "| --- | --- | --- | --- | --- |"]
    for half in ("measuring", "tuning"):
        for length in LENGTHS_S:
            rows = _cases(results, "wrong_logs", half, length_s=length)
            lines.append(f"| {half} | {length:g} s | {len(rows)} | {_share(sum(c['match'] is True for c in rows), len(rows))} | "
                         f"{sum(c['match'] is None for c in rows)} |")
    lines += ["", "Genuine recordings as they are, against a log: "]
    for half in ("measuring", "tuning"):
        rows = _cases(results, "genuine", half)
        own = [c for c in rows if c["own_hum"]]
        lines[-1] += (f"{half}: {len(rows)} recordings ({len(own)} with hum of their own), "
                      f"{sum(c['match'] is True for c in rows)} claim a match. ")
    lines += ["", "### Cuts at pauses in the 2-minute mixes", "",
              "| half | removed | found within 1 s | no hum found |", "| --- | --- | --- | --- |"]
    for half in ("measuring", "tuning"):
        for length in CUTS_S:
            rows = _cases(results, "cuts", half, cut_s=length)
            lines.append(f"| {half} | {length:g} s or more | {_share(sum(c['found'] for c in rows), len(rows))} | "
                         f"{sum(not c['hum'] for c in rows)} |")
    lines += [""]
    for half in ("measuring", "tuning"):
        s = summary(results, half)
        flags, hours = s["false_flags"]
        low, high = s["false_per_hour_95"] or (None, None)
        lines.append(f"Uncut mixes, {half}: {flags} `enf_discontinuity` flags in {hours:.2f} h"
                     + (f" ({flags / hours:.1f} per hour, 95 % {low:.1f}-{high:.1f})." if hours else "."))
        lines.append("")
    lines += [_targets(results), ""]
    return lines


def _targets(results: dict) -> str:
    s = summary(results, "measuring")
    parts = []
    for key, label in (("placed_120", "2-minute excerpts placed within 2 s"),
                       ("wrong_logs_silent", "wrong logs claiming no match"),
                       ("cuts_found", "cuts of 1 s or more found within 1 s")):
        hits, n = s[key]
        met = n and hits / n >= TARGETS[key]
        parts.append(f"{label}: {_share(hits, n)}, target {TARGETS[key]:.0%}, {'met' if met else 'not met'}")
    flags, hours = s["false_flags"]
    rate = flags / hours if hours else float("nan")
    parts.append(f"false `enf_discontinuity` flags on uncut mixes: {rate:.1f} per hour, target under "
                 f"{TARGETS['false_per_hour']:g}, {'met' if rate < TARGETS['false_per_hour'] else 'not met'}")
    return "**Targets, measuring half.** " + "; ".join(parts) + ".\n\n" + _why(results)


def _why(results: dict) -> str:
    """Where the measuring half's misses went."""
    placed, cut = _targeted(results, "measuring")
    placement = [c for c in placed if not c["placed"]]
    cuts = [c for c in cut if not c["found"]]
    quiet = [c["below_db"] for c in placement if not c["hum"]]
    level = f" (hum {min(quiet):.0f}-{max(quiet):.0f} dB under the speech)" if quiet else ""
    return (f"Why: of {len(placement)} 2-minute excerpts not placed, {len(quiet)} had no hum found{level} "
            "and the rest a trace that wandered from the log; "
            f"of {len(cuts)} cuts of 1 s or more missed, {sum(not c['hum'] for c in cuts)} were in mixes without "
            "hum found, and a cut moves the phase by a uniform share of a cycle, so a quarter of all cuts move it "
            "by less than the 0.8 rad flagged (docs/enf.md)." if placement and cuts else "")


def cite_enf(rows: list[dict], results: dict) -> list[dict]:
    """``rows`` with the ``enf_discontinuity`` row carrying the measuring half's ENF numbers
    (``real_enf``), which the report's ENF section prints."""
    if "not_run" in results:
        return rows
    cited = summary(results, "measuring") | {"rule": results["rule"]}
    return [row | {"real_enf": cited} if row.get("kind") == "enf_discontinuity" else row for row in rows]


def merged(parts: list[dict]) -> dict:
    """Results of :func:`run_enf` run for each half apart, as one."""
    out = dict(parts[0])
    for part in parts[1:]:
        for key in ("placement", "wrong_logs", "cuts", "genuine", "left_out"):
            out[key] = out[key] + part[key]
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m workbench.validation.enf CORPUS OUTDIR [HALF]``: the ENF tables alone (of one
    half, into ``OUTDIR/enf-HALF.json``; both halves' files, once there, are merged into
    ``OUTDIR/enf.json`` and ``OUTDIR/enf.md``). ``make validate`` runs them with the rest."""
    import json
    import sys

    from workbench.core.atomic import atomic_write_text

    args = argv or sys.argv[1:]
    corpus, outdir = Path(args[0]), Path(args[1])
    halves = tuple(args[2:]) or ("tuning", "measuring")
    results = run_enf(corpus, halves=halves, progress=lambda line: print(line, file=sys.stderr, flush=True))
    outdir.mkdir(parents=True, exist_ok=True)
    if len(halves) == 1:
        atomic_write_text(outdir / f"enf-{halves[0]}.json", json.dumps(results, indent=1) + "\n")
        parts = [outdir / f"enf-{h}.json" for h in ("tuning", "measuring")]
        if not all(p.exists() for p in parts):
            return 0
        results = merged([json.loads(p.read_text()) for p in parts])
    atomic_write_text(outdir / "enf.json", json.dumps(results, indent=1) + "\n")
    atomic_write_text(outdir / "enf.md", "\n".join(markdown_enf(results)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
