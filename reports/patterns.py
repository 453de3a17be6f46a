"""Repeated findings of one kind read as one observation: "14 pauses of exact digital zero between
0:01 and 0:44", not fourteen lines."""

from __future__ import annotations

from typing import Any

MIN_REPEATS = 3
"""This many findings of one analysis and kind, or more, are shown as one pattern."""


def group_repeats(entries: list[dict[str, Any]], *, min_repeats: int = MIN_REPEATS) -> list[dict[str, Any]]:
    """Entries (dicts with ``analysis``, ``kind``, ``start_s``, ``end_s``, ``strength`` and
    ``summary``) with every analysis-and-kind that occurs ``min_repeats`` times or more replaced
    by one pattern entry in the place of its first member.

    A pattern entry has ``pattern`` True, ``count``, the span from the first member's start to
    the last one's end, the range of the members' lengths (s) and strengths, the strongest
    member's ``summary``, and ``members``, the entries it stands for in time order.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in entries:
        groups.setdefault((entry["analysis"], entry["kind"]), []).append(entry)
    out, done = [], set()
    for entry in entries:
        key = (entry["analysis"], entry["kind"])
        members = groups[key]
        if len(members) < min_repeats:
            out.append(entry)
        elif key not in done:
            done.add(key)
            out.append(_pattern(sorted(members, key=lambda m: m["start_s"])))
    return out


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
    by :func:`group_repeats`: the members of a pattern share their pattern's number, so the
    timeline figure and the places table agree."""
    places = group_repeats(entries, min_repeats=min_repeats)
    number_of: dict[int, int] = {}
    for number, place in enumerate(places, start=1):
        for member in place["members"] if place.get("pattern") else [place]:
            number_of[id(member)] = number
    return [number_of[id(entry)] for entry in entries]
