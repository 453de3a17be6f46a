"""Edits made of real material, planted into genuine recordings: what a forger would do with
other recordings, beside the generated artifacts of :mod:`workbench.validation.real`.

- **A join of two recordings**: the start of one genuine recording joined to the rest of another
  (level-matched, resampled where the rates differ), at a pause in both or mid-word in both: of
  another source with a crossfade of 0 to 10 ms, or of the same source and rate butt-joined.
- **A deletion at a pause**: half a second to two seconds cut out of one recording between two
  pauses.
- **Room tone from elsewhere**: another source's background (its quietest 50 ms stretches,
  joined with equal-power crossfades, resampled to the recording's rate) mixed into an 8 s
  stretch, 6 dB and 12 dB over the recording's own background.
- **A re-encoded stretch**: the recording encoded as MP3 at a low bit rate (LAME through PyAV),
  decoded, and a 6 s stretch of it put back in place of the original.

Each case is run through every flagging analysis. It is *found* when a flagged finding of a kind
that speaks for it (:data:`FOUND_BY`) lies within :data:`JOIN_TOLERANCE_S` of a join or deletion,
or within :data:`~workbench.validation.generated.TOLERANCE_S` of another planted place, and
*found by any* when a flagged finding of any kind does: a missed join may still show as a
change of voice.
"""

from __future__ import annotations

import tempfile
import zlib
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Callable, Iterator

import av
import numpy as np
from scipy import signal

from workbench.core.analysis import Analysis
from workbench.core.clip import Clip
from workbench.material import plant
from workbench.material.media import write_with_pyav
from workbench.material.plant import Planted
from workbench.pipeline import run_analysis
from workbench.validation.generated import TOLERANCE_S
from workbench.validation.intervals import clopper_pearson

FRAME_S = 0.02
"""Frame (s) over which levels are read: a recording's background, its pauses and loud stretches."""
PAUSE_ABOVE_BACKGROUND_DB = 3.0
"""A frame within this much of the recording's background (its 10th-percentile frame) is a pause."""
LOUD_PERCENTILE = 80.0
"""A frame at or above this percentile of the recording's frame levels is mid-word."""
TONE_CHUNK_S = 0.05
TONE_PERCENTILE = 20.0
"""Room tone: the donor's 50 ms stretches at or below this percentile of level (none of them
holding exact zeros)."""
TONE_LEVELS_DB = {"moderate": 6.0, "strong": 12.0}
"""Room tone from elsewhere: its level over the recording's own background, per strength."""
MP3_KBPS = {"telephone": (16, 8), "wide": (32, 16), "full": (64, 32)}
"""Bit rates (kbps) of the re-encoded stretch, (moderate, strong), by the recording's rate:
below 16 kHz, 16 to 31.9 kHz, 32 kHz and above. The strong ones narrow the band to about a third
of the rate (LAME's low-pass); the moderate ones leave more of it."""


@dataclass
class Material:
    """A genuine recording held for planting: its mono samples (float32) and where it came from."""

    path: Path
    source: str
    half: str
    rate: int
    mono: np.ndarray
    background_dbfs: float

    @property
    def duration_s(self) -> float:
        return self.mono.size / self.rate


def frame_rms(mono: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    """RMS of each whole ``FRAME_S`` frame of ``mono`` (full-scale units), and the frame length."""
    frame = max(1, int(FRAME_S * sr))
    n = mono.size // frame
    return np.sqrt(np.mean(mono[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1)), frame


def _frame_db(mono: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    """Level (dBFS) of each ``FRAME_S`` frame, -inf where it is exact zero, and the frame length."""
    rms, frame = frame_rms(mono, sr)
    with np.errstate(divide="ignore"):
        return 20 * np.log10(rms), frame


def join_point(mono: np.ndarray, sr: int, rng: np.random.Generator, where: str,
               between: tuple[float, float]) -> int | None:
    """A sample index between the fractions ``between`` of the recording, in the middle of a
    pause (``where="pause"``: a frame within ``PAUSE_ABOVE_BACKGROUND_DB`` of the background) or
    of a loud frame (``"word"``); None when there is no such frame there."""
    db, frame = _frame_db(mono, sr)
    finite = np.isfinite(db)
    if not finite.any():
        return None
    position = (np.arange(db.size) + 0.5) / db.size
    inside = (position >= between[0]) & (position < between[1]) & finite
    if where == "pause":
        chosen = inside & (db <= np.percentile(db[finite], 10) + PAUSE_ABOVE_BACKGROUND_DB)
    else:
        chosen = inside & (db >= np.percentile(db[finite], LOUD_PERCENTILE))
    frames = np.flatnonzero(chosen)
    return None if not frames.size else int(rng.choice(frames)) * frame + frame // 2


def resampled(mono: np.ndarray, rate: int, to: int) -> np.ndarray:
    """``mono`` at ``rate`` Hz resampled to ``to`` Hz (polyphase)."""
    if rate == to:
        return mono.astype(np.float64)
    g = gcd(rate, to)
    return signal.resample_poly(mono.astype(np.float64), to // g, rate // g)


def loud_level(mono: np.ndarray, sr: int) -> float:
    """RMS (full scale) of a recording's loud frames: its ``LOUD_PERCENTILE`` frame level."""
    rms, _ = frame_rms(mono, sr)
    return float(np.percentile(rms, LOUD_PERCENTILE)) if rms.size else 0.0


def join_between(first: Material, second: Material, rng: np.random.Generator, where: str,
                 crossfade_s: float) -> tuple[np.ndarray, list[Planted]] | None:
    """``first`` up to a join point in its middle (30-60 %), then ``second`` (resampled to
    ``first``'s rate, scaled so its loud frames match ``first``'s) from a join point of the same
    kind (20-50 %), with an equal-power crossfade of ``crossfade_s`` (0: a butt join); None when
    either has no such point."""
    other = resampled(second.mono, second.rate, first.rate)
    i = join_point(first.mono, first.rate, rng, where, (0.3, 0.6))
    j = join_point(other, first.rate, rng, where, (0.2, 0.5))
    if i is None or j is None:
        return None
    gain = loud_level(first.mono, first.rate) / max(loud_level(other, first.rate), 1e-9)
    head, tail = first.mono[:i].astype(np.float64), other[j:] * gain
    fade = min(int(round(crossfade_s * first.rate)), head.size, tail.size)
    if fade:
        up = np.sin(np.linspace(0, np.pi / 2, fade)) ** 2
        mixed = np.sqrt(1 - up) * head[-fade:] + np.sqrt(up) * tail[:fade]
        head, tail = head[:-fade], np.concatenate([mixed, tail[fade:]])
    at_s = (i - fade / 2) / first.rate
    details = {"donor": second.path.name, "where": where, "crossfade_ms": crossfade_s * 1000}
    return np.concatenate([head, tail])[:, None], [Planted("channel_change", at_s, at_s, details)]


def room_tone(donor: Material, sr: int, frames: int) -> np.ndarray | None:
    """``frames`` samples at ``sr`` Hz of the donor's background at unit RMS: its quietest
    ``TONE_CHUNK_S`` stretches joined with equal-power crossfades and repeated as needed; None
    when it has no stretch without exact zeros."""
    chunk = max(8, int(TONE_CHUNK_S * donor.rate))
    n = donor.mono.size // chunk
    pieces = donor.mono[: n * chunk].astype(np.float64).reshape(n, chunk)
    usable = np.all(pieces != 0, axis=1)
    if not usable.any():
        return None
    rms = np.sqrt(np.mean(pieces**2, axis=1))
    quiet = pieces[usable & (rms <= np.percentile(rms[usable], TONE_PERCENTILE))]
    fade = chunk // 4
    up = np.sin(np.linspace(0, np.pi / 2, fade)) ** 2
    joined = [quiet[0][fade:-fade]]
    for before, after in zip(quiet, list(quiet[1:]) + [quiet[0]]):  # the last fades into the first: it loops
        joined += [np.sqrt(1 - up) * before[-fade:] + np.sqrt(up) * after[:fade], after[fade:-fade]]
    tone = np.resize(np.concatenate(joined[:-1]), int(np.ceil(frames * donor.rate / sr)) + 1)
    if donor.rate != sr:
        g = gcd(donor.rate, sr)
        tone = signal.resample_poly(tone, sr // g, donor.rate // g)
    tone = tone[:frames]
    return tone / max(np.sqrt(np.mean(tone**2)), 1e-12)


def room_tone_mixed(recording: Material, donor: Material, rng: np.random.Generator,
                    above_db: float) -> tuple[np.ndarray, list[Planted]] | None:
    """``recording`` with ``donor``'s room tone mixed into an 8 s stretch (a third of a shorter
    recording) at ``above_db`` over its own background; a truth at each edge."""
    d = recording.duration_s
    span = plant.span_s(d, 8.0)
    start_s = plant.in_signal(rng, d) - span / 2
    start, stop = int(round(start_s * recording.rate)), int(round((start_s + span) * recording.rate))
    tone = room_tone(donor, recording.rate, stop - start)
    if tone is None:
        return None
    out = recording.mono.astype(np.float64)
    out[start:stop] += tone * 10 ** ((recording.background_dbfs + above_db) / 20)
    details = {"donor": donor.path.name, "above_db": above_db}
    return out[:, None], [Planted("noise_floor_change", start_s, start_s, details),
                          Planted("noise_floor_change", start_s + span, start_s + span, details)]


def mp3_round_trip(mono: np.ndarray, sr: int, kbps: int) -> np.ndarray:
    """``mono`` encoded as MP3 at ``kbps`` and decoded again, aligned sample for sample with it."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_with_pyav(Path(folder) / "stretch.mp3", mono, sr, codec="libmp3lame", bit_rate=kbps * 1000)
        with av.open(str(path)) as container:
            decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    lag = _lag(mono, decoded, sr)
    out = np.zeros(mono.size)
    piece = decoded[lag:lag + mono.size]
    out[: piece.size] = piece
    return out


def _lag(original: np.ndarray, decoded: np.ndarray, sr: int, most: int = 4096) -> int:
    """How many samples ``decoded`` runs late against ``original`` (0 to ``most``): the encoder's
    delay where the decoder did not remove it."""
    n = min(original.size, decoded.size - most, 2 * sr)
    if n < sr // 10:
        return 0
    scores = signal.correlate(decoded[: n + most], original[:n], mode="valid")
    return int(np.argmax(np.abs(scores)))


def reencoded_stretch(recording: Material, rng: np.random.Generator,
                      kbps: int) -> tuple[np.ndarray, list[Planted]]:
    """``recording`` with a 6 s stretch (a third of a shorter recording) replaced by the same
    stretch after an MP3 round trip at ``kbps``; a truth at each edge."""
    d = recording.duration_s
    span = plant.span_s(d, 6.0)
    start_s = plant.in_signal(rng, d) - span / 2
    start, stop = int(round(start_s * recording.rate)), int(round((start_s + span) * recording.rate))
    out = recording.mono.astype(np.float64)
    out[start:stop] = mp3_round_trip(out, recording.rate, kbps)[start:stop]
    details = {"kbps": kbps}
    return out[:, None], [Planted("bandwidth_change", start_s, start_s, details),
                          Planted("bandwidth_change", start_s + span, start_s + span, details)]


RATE_BANDS = {"telephone": "recordings under 16 kHz", "wide": "recordings at 16-31 kHz", "full": "recordings at 32 kHz or more"}


def _rate_band(rate: int) -> str:
    return "telephone" if rate < 16000 else "wide" if rate < 32000 else "full"


def seeded_rng(*key) -> np.random.Generator:
    """A generator seeded by ``key`` (any repr-able values): the same key, the same draws."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


JOIN_TOLERANCE_S = 0.5
"""A join is found when a flag lies within this (s) of it; other edits within ``TOLERANCE_S``."""
FOUND_BY = {"channel_change": ("channel_change", "discontinuity", "noise_floor_change", "bandwidth_change"),
            "noise_floor_change": ("noise_floor_change", "channel_change"),
            "bandwidth_change": ("bandwidth_change",)}
"""The finding kinds that speak for each edit: a join is a change of channel, a sample-level
break, or a step of the background or of the band limit (each placed to a fraction of a second;
a speaker change's 4-s segments count under "by any flag"); room tone from elsewhere a change of
background, or of channel."""
CROSSFADES_S = (0.0, 0.002, 0.005, 0.01)
"""Crossfades of the joins between sources, in turn."""
DELETION_S = (0.5, 1.0, 2.0)
"""Shortest lengths (s) of the deletions at a pause, in turn (each ends at the next pause)."""


def deletion_at_pause(m: Material, rng: np.random.Generator, length_s: float, *,
                      anywhere_in_frame: bool = False) -> tuple[np.ndarray, list[Planted]] | None:
    """``m`` with at least ``length_s`` of it removed between two pause frames (the first 30-60 %
    of the way in, the second the first pause frame from ``length_s`` to ``length_s`` + 2 s after
    it), the two ends butt-joined; None when there are no such pauses.

    The cuts fall at the frames' centres, so the length removed is a whole number of
    ``FRAME_S`` frames, unless ``anywhere_in_frame``: then each cut falls at a random sample of its
    frame, as an editor's would. (A whole number of 20 ms frames is a whole number of 50 Hz mains
    cycles, which leaves the hum's phase unbroken: the ENF tables need the random cut.)"""
    i = join_point(m.mono, m.rate, rng, "pause", (0.3, 0.6))
    if i is None:
        return None
    db, frame = _frame_db(m.mono, m.rate)
    target = i + int(length_s * m.rate)
    floor = np.percentile(db[np.isfinite(db)], 10) + PAUSE_ABOVE_BACKGROUND_DB
    later = [k * frame + frame // 2 for k in range(target // frame, min(db.size, (target + 2 * m.rate) // frame))
             if np.isfinite(db[k]) and db[k] <= floor]
    if not later:
        return None
    j = later[0]
    if anywhere_in_frame:
        i, j = (k - frame // 2 + int(rng.integers(frame)) for k in (i, j))
    out = np.concatenate([m.mono[:i], m.mono[j:]]).astype(np.float64)
    return out[:, None], [Planted("channel_change", i / m.rate, i / m.rate, {"removed_s": (j - i) / m.rate})]


def planted_cases(materials: list[Material]) -> Iterator[tuple[Material, str, str, np.ndarray, list[Planted]]]:
    """Every real-material edit of every recording, one at a time (each is a whole recording's
    samples): (recording, kind, variant, samples, truths).

    A join between sources takes another source of the same half (resampled, level-matched, with
    the crossfades of :data:`CROSSFADES_S` in turn); a join within a source another recording of the
    same source and rate, butt-joined; room tone comes from a recording of another source in the
    same half (another recording of the same source where the half has only one source). Edits
    that find no join point or no usable room tone are skipped.
    """
    for index, m in enumerate(materials):
        name = m.path.name
        partners = [o for o in materials if o.source == m.source and o.rate == m.rate and o.path != m.path]
        strangers = [o for o in materials if o.half == m.half and o.source != m.source]
        for k, where in enumerate(("pause", "word")):
            label = "at a pause" if where == "pause" else "mid-word"
            if strangers:
                rng = seeded_rng("join", where, name)
                made = join_between(m, strangers[int(rng.integers(len(strangers)))], rng, where,
                                    CROSSFADES_S[(2 * index + k) % len(CROSSFADES_S)])
                if made:
                    yield m, "channel_change", f"join of two sources, {label}", *made
            if partners:
                rng = seeded_rng("splice", where, name)
                made = join_between(m, partners[int(rng.integers(len(partners)))], rng, where, 0.0)
                if made:
                    yield m, "channel_change", f"join within one source, {label}", *made
        made = deletion_at_pause(m, seeded_rng("deletion", name), DELETION_S[index % len(DELETION_S)])
        if made:
            yield m, "channel_change", "deletion between two pauses (0.5-4 s)", *made
        donors = strangers or [o for o in materials if o.half == m.half and o.path != m.path]
        for strength, above_db in TONE_LEVELS_DB.items():
            if donors:
                rng = seeded_rng("tone", strength, name)
                made = room_tone_mixed(m, donors[int(rng.integers(len(donors)))], rng, above_db)
                if made:
                    yield (m, "noise_floor_change", f"room tone from elsewhere, +{above_db:g} dB", *made)
        band = _rate_band(m.rate)
        for kbps in MP3_KBPS[band]:
            made = reencoded_stretch(m, seeded_rng("mp3", kbps, name), kbps)
            yield (m, "bandwidth_change", f"stretch re-encoded, MP3 {kbps} kbps, {RATE_BANDS[band]}", *made)


def run_material(materials: list[Material], analyses: dict[str, Analysis], flagging: tuple[str, ...], *,
                 progress: Callable[[str], None] | None = None) -> list[dict]:
    """Plant every real-material edit, run the ``flagging`` analyses on each, and return one
    case per planted place: found by its own kind, found by any flag, and the error (s)."""
    out = []
    for m, kind, variant, samples, truths in planted_cases(materials):
        if progress:
            progress(f"{variant} in {m.path.name}")
        clip = Clip.from_array(samples.astype(np.float32), m.rate)
        flags = []
        for name in flagging:
            if name in analyses and not analyses[name].unsupported(clip):
                result, _ = run_analysis(analyses[name], clip)
                flags += [f for f in result.findings if f.flagged] if result.status == "ok" else []
        tolerance = JOIN_TOLERANCE_S if kind == "channel_change" else TOLERANCE_S
        for truth in truths:
            near = [f for f in flags if f.start_s <= truth.end_s + tolerance and f.end_s >= truth.start_s - tolerance]
            own = [abs(f.start_s - truth.start_s) for f in near if f.kind in FOUND_BY[kind]]
            out.append({"kind": kind, "variant": variant, "path": str(m.path), "source": m.source, "half": m.half,
                        "rate": m.rate, "at_s": truth.start_s, "details": truth.details,
                        "detected": bool(own), "detected_any": bool(near),
                        "kinds_near": sorted({f.kind for f in near}), "error_s": min(own) if own else None})
    return out


def _order(case: dict) -> tuple:
    """Where a case's edit stands in the table: joins (between sources, within one, deletions; at
    a pause, then mid-word), room tone by level, re-encoding from the highest bit rate down."""
    details = case["details"]
    return (("channel_change", "noise_floor_change", "bandwidth_change").index(case["kind"]),
            ("two sources" not in case["variant"], "deletion" in case["variant"]),
            details.get("where") == "word", details.get("above_db", 0), -details.get("kbps", 0))


def material_rows(cases: list[dict], half: str) -> list[dict]:
    """Per variant: places, share found by its own kind and by any flag, median and largest error
    (s) of those found."""
    rows: dict[str, dict] = {}
    for case in sorted((c for c in cases if c["half"] == half), key=_order):
        row = rows.setdefault(case["variant"], {"variant": case["variant"], "kind": case["kind"], "cases": []})
        row["cases"].append(case)
    out = []
    for row in rows.values():
        mine = row.pop("cases")
        errors = [c["error_s"] for c in mine if c["detected"]]
        out.append(row | {"n": len(mine), "detected": sum(c["detected"] for c in mine) / len(mine),
                          "detected_any": sum(c["detected_any"] for c in mine) / len(mine),
                          "median_error_s": float(np.median(errors)) if errors else None,
                          "max_error_s": float(np.max(errors)) if errors else None})
    return out


def markdown_material(cases: list[dict]) -> list[str]:
    """The real-material table as Markdown lines (empty without cases)."""
    if not cases:
        return []
    lines = ["", "## Real recordings: edits made of real material", "",
             "In the recordings that take planted artifacts: the start of each joined to the rest of another "
             "recording (at a pause in both, or mid-word in both; of another source of the same half, "
             "resampled, level-matched, with 0, 2, 5 or 10 ms crossfades in turn; or of the same source "
             "and rate, butt-joined), 0.5 to 4 s deleted between two pauses, another source's room tone "
             "mixed into an 8 s stretch, and a 6 s stretch replaced by its own MP3 round trip. Found: a "
             "flagged finding of a kind that speaks for the edit (a join or deletion: `channel_change`, "
             "`discontinuity`, `noise_floor_change` or `bandwidth_change`, within 0.5 s; room tone: `noise_floor_change` or `channel_change`, within "
             "1 s; re-encoding: `bandwidth_change`, within 1 s) at a planted place; by any: a flagged "
             "finding of any kind there. An edit is left out where a recording has no join point of the "
             "kind, or its donor no 50 ms stretch without exact zeros.", "",
             "| edit | kinds | half | places | found | found by any flag | median / max error (s) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for half in ("measuring", "tuning"):
        for row in material_rows(cases, half):
            error = ("n/a" if row["median_error_s"] is None
                     else f"{row['median_error_s']:.2f} / {row['max_error_s']:.2f}")
            kinds = ", ".join(f"`{k}`" for k in FOUND_BY[row["kind"]])
            lines.append(f"| {row['variant']} | {kinds} | {half} | {row['n']} | {row['detected']:.0%} "
                         f"| {row['detected_any']:.0%} | {error} |")
    return lines + ["", edit_targets(cases)]


EDIT_TARGETS = {"join of two sources": 0.8, "room tone from elsewhere, +6 dB": 0.8}
"""Targets on the measuring half: the share found of joins of two sources (at a pause and mid-word
together, within 0.5 s) and of room tone at +6 dB (either end, within 1 s)."""


def edit_targets(cases: list[dict]) -> str:
    """The edit targets against the measuring half's cases, each with its count and 95 % interval."""
    parts = []
    for prefix, target in EDIT_TARGETS.items():
        mine = [c for c in cases if c["half"] == "measuring" and c["variant"].startswith(prefix)]
        if not mine:
            continue
        found = sum(c["detected"] for c in mine)
        low, high = clopper_pearson(found, len(mine))
        parts.append(f"{prefix}: {found} of {len(mine)} found, {found / len(mine):.0%} (95 % {low:.0%}-{high:.0%}), "
                     f"target {target:.0%}: {'met' if found / len(mine) >= target else 'not met'}")
    return "**Targets on the measuring half:** " + "; ".join(parts) + "."

