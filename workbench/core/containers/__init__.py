"""Container and frame structure of an evidence file, read from its bytes as hostile input.

:func:`read_structure` is called once at intake, inside the same limited child process that
decodes the file (:mod:`workbench.core.sandbox`), and returns plain data (dicts, lists, numbers,
NumPy arrays) that the ``container`` analysis interprets. Each reader lists what the file holds
in the order it holds it; none of them judges it. Every string taken from the file goes through
:func:`workbench.core.untrusted.clean_text` (valid UTF-8, control characters shown, length-limited).
"""

from __future__ import annotations

import mmap
import os
from typing import Any, Callable

from workbench.core.containers import mp3, mp4, ogg, riff
from workbench.core.untrusted import clean_text

MAX_LISTED = 200
"""Lists of atoms, chunks, pages or damaged regions keep at most this many entries each."""


def sniff(head: bytes) -> str | None:
    """The structure family the first bytes announce ("mp3", "mp4", "ogg", "wav"), or None."""
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:3] == b"ID3" or mp3.header_at(head, 0) is not None:
        return "mp3"
    return None


READERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "mp3": mp3.read, "mp4": mp4.read, "ogg": ogg.read, "wav": riff.read,
}


def read_structure(path: str | os.PathLike) -> dict[str, Any] | None:
    """The structure of the file at ``path``, or None when its family is not one read here.

    The file is mapped read-only. A reader that meets something it cannot parse stops there and
    says so in the result's ``errors``; an exception inside a reader is caught and reported the
    same way, with what was read before it kept out (a half-built listing would mislead).
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return None
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                family = sniff(data[:16])
                if family is None:
                    return None
                try:
                    found = READERS[family](data)
                except Exception as exc:  # a hostile file must never end the intake here
                    found = {"errors": [f"the {family} structure could not be read "
                                        f"({type(exc).__name__}: {clean_text(exc)[:200]})"]}
    except (OSError, ValueError) as exc:  # not mappable (a pipe, a device): no structure to read
        return {"family": None, "errors": [f"the file could not be mapped to read its structure "
                                           f"({clean_text(exc)[:200]})"]}
    found["family"] = family
    found["size_bytes"] = size
    found.setdefault("errors", [])
    return found
