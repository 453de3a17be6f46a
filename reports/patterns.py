"""Repeated findings of one kind read as one observation: "14 pauses of exact digital zero between
0:01 and 0:44", not fourteen lines; and findings of several indicators at one moment read as one
place: "background and voice change here", not two lines far apart in the table."""

from __future__ import annotations

from typing import Any

MIN_REPEATS = 3
"""This many findings of one analysis and kind, or more, are shown as one pattern."""
AGREE_S = 0.5
"""Findings whose spans come this close (s) or overlap are one place: a join found by the
background, the channel and the voice at once is one moment, each within its own precision."""


def group_repeats(entries: list[dict[str, Any]], *, min_repeats: int = MIN_REPEATS,
                  agree_s: float | None = None) -> list[dict[str, Any]]:
    """Entries (dicts with ``analysis``, ``kind``, ``start_s``, ``end_s``, ``strength`` and
    ``summary``) with every analysis-and-kind that occurs ``min_repeats`` times or more replaced
    by one pattern entry in the place of its first member.

    A pattern entry has ``pattern`` True, ``count``, the span from the first member's start to
    the last one's end, the range of the members' lengths (s) and strengths, the strongest
    member's ``summary``, and ``members``, the entries it stands for in time order.

    With ``agree_s`` (the timeline's places: :data:`AGREE_S`), entries of two or more kinds whose
    spans come within ``agree_s`` of each other are first replaced by one agreement entry
    (``agreement`` True, the kinds joined by " + ", every member's summary, ``members``) in the
    place of the first: a break at each end of a clipped stretch belongs with the clipping, not
    with breaks elsewhere. Repeats are grouped among the entries left.
    """
    out = list(entries)
    for together in _agreeing(entries, agree_s) if agree_s is not None else []:
        at = next(i for i, e in enumerate(out) if e is together[0])
        out = [e for e in out if not any(e is m for m in together)]
        out.insert(min(at, len(out)), _agreement(together))
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in out:
        if not entry.get("agreement"):
            groups.setdefault((entry["analysis"], entry["kind"]), []).append(entry)
    grouped, done = [], set()
    for entry in out:
        key = (entry["analysis"], entry["kind"])
        members = groups.get(key, [])
        if entry.get("agreement") or len(members) < min_repeats:
            grouped.append(entry)
        elif key not in done:
            done.add(key)
            grouped.append(_pattern(sorted(members, key=lambda m: m["start_s"])))
    return grouped


def _agreeing(entries: list[dict[str, Any]], agree_s: float) -> list[list[dict[str, Any]]]:
    """Runs (in time order) of ``entries`` whose spans come within ``agree_s`` of the run's span
    so far, holding two or more kinds."""
    runs: list[list[dict[str, Any]]] = []
    for entry in sorted(entries, key=lambda e: e["start_s"]):
        if runs and entry["start_s"] <= max(m["end_s"] for m in runs[-1]) + agree_s:
            runs[-1].append(entry)
        else:
            runs.append([entry])
    return [run for run in runs if len({(m["analysis"], m["kind"]) for m in run}) > 1]


def _agreement(members: list[dict[str, Any]]) -> dict[str, Any]:
    """One place for findings of several indicators at one moment: every member's kind, analysis
    and summary, the span of them all and the strongest member's strength."""
    kinds = list(dict.fromkeys(m["kind"] for m in members))
    analyses = list(dict.fromkeys(m["analysis"] for m in members))
    return {
        "agreement": True, "analysis": ", ".join(analyses), "kind": " + ".join(kinds), "count": len(members),
        "start_s": min(m["start_s"] for m in members), "end_s": max(m["end_s"] for m in members),
        "strength": max(m["strength"] for m in members),
        "summary": f"{len(members)} indicators at one moment. " + " ".join(
            f"{m['kind']} ({m['analysis']}): {m['summary']}" for m in members),
        "members": members,
    }


def _pattern(members: list[dict[str, Any]]) -> dict[str, Any]:
    lengths = [m["end_s"] - m["start_s"] for m in members]
    strengths = [m["strength"] for m in members]
    first = members[0]
    return {
        "pattern": True, "analysis": first["analysis"], "kind": first["kind"], "count": len(members),
        "start_s": first["start_s"], "end_s": max(m["end_s"] for m in members),
        "length_s_range": [min(lengths), max(lengths)], "strength_range": [min(strengths), max(strengths)],
        "summary": max(members, key=lambda m: m["strength"])["summary"], "members": members,
    }


def place_numbers(entries: list[dict[str, Any]], *, min_repeats: int = MIN_REPEATS) -> list[int]:
    """The number (from 1) of the place each of ``entries`` belongs to once repeats are grouped
    by :func:`group_repeats`: the members of a pattern, or of findings at one moment, share their
    place's number, so the timeline figure and the places table agree."""
    places = group_repeats(entries, min_repeats=min_repeats, agree_s=AGREE_S)
    number_of: dict[int, int] = {}
    for number, place in enumerate(places, start=1):
        for member in place.get("members", [place]):
            number_of[id(member)] = number
    return [number_of[id(entry)] for entry in entries]
