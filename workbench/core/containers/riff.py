"""WAV / Broadcast WAV (RIFF, RF64, BW64) structure: the chunk list in file order.

Neither soundfile nor mutagen lists the chunks of a WAV file with their offsets, nor reads the
``bext`` chunk (EBU Tech 3285), so that walk is written here.
"""

from __future__ import annotations

import struct
from typing import Any

from workbench.core.untrusted import clean_text

MAX_CHUNKS = 200
_INFO_NAMES = {
    b"INAM": "title", b"IART": "artist", b"ICMT": "comment", b"ICRD": "creation date",
    b"ISFT": "software", b"IENG": "engineer", b"ITCH": "technician", b"ISRC": "source",
    b"ICOP": "copyright", b"IPRD": "product", b"IGNR": "genre", b"IKEY": "keywords",
}
_FORMAT_TAGS = {1: "PCM", 2: "MS ADPCM", 3: "IEEE float", 6: "A-law", 7: "mu-law",
                0x11: "IMA ADPCM", 0x55: "MPEG Layer III", 0xFFFE: "extensible"}


def _text(raw: bytes) -> str:
    return clean_text(raw.split(b"\0", 1)[0].strip())


def _fmt(body: bytes) -> dict[str, Any]:
    if len(body) < 16:
        return {"note": f"fmt chunk of {len(body)} bytes is shorter than 16"}
    tag, channels, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", body[:16])
    found = {"format": _FORMAT_TAGS.get(tag, f"0x{tag:04x}"), "channels": channels,
             "sample_rate_hz": rate, "byte_rate": byte_rate, "block_align": align,
             "bits_per_sample": bits}
    if tag == 0xFFFE and len(body) >= 40:
        found["subformat"] = _FORMAT_TAGS.get(struct.unpack("<H", body[24:26])[0], "other")
    return found


def _bext(body: bytes) -> dict[str, Any]:
    """The Broadcast Wave Format ``bext`` chunk: who made the file, when, and how."""
    if len(body) < 348:
        return {"note": f"bext chunk of {len(body)} bytes is shorter than 348"}
    found = {
        "description": _text(body[0:256]), "originator": _text(body[256:288]),
        "originator_reference": _text(body[288:320]), "origination_date": _text(body[320:330]),
        "origination_time": _text(body[330:338]),
        "time_reference_samples": struct.unpack("<Q", body[338:346])[0],
        "version": struct.unpack("<H", body[346:348])[0],
    }
    if len(body) > 602:
        found["coding_history"] = _text(body[602:])
    return found


def _info(body: bytes) -> dict[str, str]:
    """The text entries of a LIST/INFO chunk."""
    entries, at = {}, 4
    while at + 8 <= len(body) and len(entries) < MAX_CHUNKS:
        key, size = body[at:at + 4], struct.unpack("<I", body[at + 4:at + 8])[0]
        entries[_INFO_NAMES.get(key, clean_text(key))] = _text(body[at + 8:at + 8 + size])
        at += 8 + size + (size & 1)
    return entries


def _summary(key: bytes, body: bytes) -> dict[str, Any]:
    if key == b"fmt ":
        return _fmt(body)
    if key == b"bext":
        return _bext(body)
    if key == b"LIST":
        kind = body[:4]
        return {"list_type": clean_text(kind), **({"entries": _info(body)} if kind == b"INFO" else {})}
    if key == b"fact" and len(body) >= 4:
        return {"sample_frames": struct.unpack("<I", body[:4])[0]}
    if key == b"cue " and len(body) >= 4:
        return {"cue_points": struct.unpack("<I", body[:4])[0]}
    if key == b"iXML":
        return {"xml_start": clean_text(body[:300])}
    if key in (b"JUNK", b"PAD ", b"junk", b"pad ", b"FLLR"):
        return {"all_zero": not any(body)}
    return {}


def read(data) -> dict[str, Any]:
    """The chunk structure of a RIFF/RF64 WAVE file held in ``data``.

    Returns
    -------
    dict
        ``form`` (RIFF, RF64 or BW64), ``declared_size_bytes`` (the outer header's size plus 8),
        ``chunks`` (in file order: id, offset, size_bytes and what was read from it), ``bytes_beyond``
        (data after the declared size), ``errors``.
    """
    form = bytes(data[:4]).decode("ascii")
    declared = struct.unpack("<I", data[4:8])[0] + 8
    found: dict[str, Any] = {"form": form, "chunks": [], "errors": [], "chunk_count": 0}
    sizes64: dict[bytes, int] = {}
    at, end = 12, len(data)
    while at + 8 <= min(end, declared):
        key = bytes(data[at:at + 4])
        size = struct.unpack("<I", data[at + 4:at + 8])[0]
        if key == b"ds64" and size >= 28:
            riff64, data64 = struct.unpack("<QQ", data[at + 8:at + 24])
            declared, sizes64[b"data"] = riff64 + 8, data64
        if size == 0xFFFFFFFF and key in sizes64:
            size = sizes64[key]
        if not key.isascii() or not key.strip(b" ").isalnum():
            found["errors"].append(f"bytes at {at:,} are not a chunk header (id {clean_text(key)!r});"
                                   " the chunk walk stops there")
            break
        found["chunk_count"] += 1
        chunk = {"id": clean_text(key), "offset": at, "size_bytes": size}
        if at + 8 + size > end:
            found["errors"].append(f"chunk {clean_text(key)!r} at byte {at:,} declares {size:,} bytes;"
                                   f" only {end - at - 8:,} remain in the file")
        if key != b"data":
            chunk.update(_summary(key, bytes(data[at + 8:min(end, at + 8 + min(size, 1 << 20))])))
        if len(found["chunks"]) < MAX_CHUNKS:
            found["chunks"].append(chunk)
        at += 8 + size + (size & 1)
    found["declared_size_bytes"] = declared
    found["bytes_beyond"] = max(0, end - declared)
    if declared > end:
        found["errors"].append(f"the {form} header declares {declared:,} bytes; the file holds {end:,}")
    return found
