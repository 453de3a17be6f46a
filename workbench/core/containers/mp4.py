"""MP4 / M4A / 3GP / MOV structure (ISO/IEC 14496-12): the atom (box) tree in file order.

mutagen reads iTunes-style tags but not the order of the top-level atoms, handler names, edit
lists or free space, which are what tell one writer from another; so the walk is written here.
"""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any

from workbench.core.untrusted import clean_text

MAX_ATOMS = 10_000
MAX_LISTED = 300
MAX_DEPTH = 16
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf", b"moof",
               b"traf", b"mvex", b"ilst", b"sinf", b"schi"}
_EPOCH_1904 = dt.datetime(1904, 1, 1, tzinfo=dt.timezone.utc)


def _fourcc(key: bytes) -> str:
    """An atom type as text: Latin-1, so that the iTunes ``\xa9`` prefix reads as ©."""
    return clean_text(key.decode("latin-1"))


def _time(seconds: int) -> str | None:
    """An MP4 time (seconds since 1904-01-01 UTC) as ISO 8601, or None when unset or absurd."""
    if seconds <= 0:
        return None
    try:
        return (_EPOCH_1904 + dt.timedelta(seconds=seconds)).isoformat()
    except OverflowError:
        return None


def _times(body: bytes) -> dict[str, Any]:
    """Creation and modification times (and timescale/duration) of an mvhd, mdhd or tkhd body."""
    if len(body) < 4:
        return {}
    version = body[0]
    if version == 1 and len(body) >= 32:
        created, modified, scale, duration = struct.unpack(">QQIQ", body[4:32])
    elif len(body) >= 20:
        created, modified, scale, duration = struct.unpack(">IIII", body[4:20])
    else:
        return {}
    return {"created": _time(created), "modified": _time(modified), "timescale": scale,
            "duration": duration}


def _leaf(key: bytes, body: bytes, parent: bytes) -> dict[str, Any]:
    """What is read from one leaf atom's body."""
    if key == b"ftyp" and len(body) >= 8:
        brands = [clean_text(body[i:i + 4]) for i in range(8, len(body) - 3, 4)][:20]
        return {"major_brand": clean_text(body[:4]), "minor_version": struct.unpack(">I", body[4:8])[0],
                "compatible_brands": brands}
    if key in (b"mvhd", b"mdhd"):
        return _times(body)
    if key == b"tkhd":
        found = _times(body)  # tkhd holds a track id and a reserved word where mvhd has these
        return {"created": found.get("created"), "modified": found.get("modified")}
    if key == b"hdlr" and len(body) >= 24:
        return {"handler_type": clean_text(body[8:12]),
                "handler_name": clean_text(body[24:].split(b"\0", 1)[0].lstrip(b"\x00"))[:200]}
    if key == b"elst" and len(body) >= 8:
        version, count = body[0], struct.unpack(">I", body[4:8])[0]
        entries, step = [], 20 if version == 1 else 12
        for i in range(min(count, 20)):
            at = 8 + i * step
            if at + step > len(body):
                break
            if version == 1:
                duration, media_time = struct.unpack(">Qq", body[at:at + 16])
            else:
                duration, media_time = struct.unpack(">Ii", body[at:at + 8])
            entries.append({"duration": duration, "media_time": media_time})
        return {"entries": entries, "entry_count": count}
    if key == b"stsd" and len(body) >= 16:
        return {"codec": clean_text(body[12:16])}
    if key == b"data" and len(body) >= 8:
        kind = struct.unpack(">I", body[:4])[0] & 0xFFFFFF
        text = clean_text(body[8:])[:300] if kind == 1 else f"{len(body) - 8} bytes (type {kind})"
        return {"tag": _fourcc(parent), "value": text}
    if key in (b"free", b"skip"):
        return {"all_zero": not any(body)}
    return {}


def read(data) -> dict[str, Any]:
    """The atom tree of an ISO base media file held in ``data``.

    Returns
    -------
    dict
        ``atoms`` (in file order: path such as ``moov/trak/mdia/hdlr``, offset, size_bytes and what
        was read from it), ``top_level`` (the order of the top-level atom types), ``moov_before_mdat``
        (True, False or None when either is missing), ``atom_count``, ``errors``.
    """
    found: dict[str, Any] = {"atoms": [], "top_level": [], "atom_count": 0, "errors": []}
    _walk(data, 0, len(data), [], found)
    order = found["top_level"]
    found["moov_before_mdat"] = (order.index("moov") < order.index("mdat")
                                 if "moov" in order and "mdat" in order else None)
    return found


def _walk(data, start: int, end: int, path: list[bytes], found: dict[str, Any]) -> None:
    at = start
    while at + 8 <= end:
        if found["atom_count"] >= MAX_ATOMS:
            found["errors"].append(f"more than {MAX_ATOMS:,} atoms; the rest are not read")
            return
        size, key = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1 and at + 16 <= end:
            size, header = struct.unpack(">Q", data[at + 8:at + 16])[0], 16
        elif size == 0:
            size = end - at
        name = _fourcc(key)
        if size < header or at + size > end:
            found["errors"].append(f"atom {'/'.join(_fourcc(p) for p in path + [key])!r} at byte "
                                   f"{at:,} declares {size:,} bytes; {end - at:,} remain in its parent")
            return
        found["atom_count"] += 1
        if not path:
            found["top_level"].append(name)
        body_at = at + header
        atom = {"path": "/".join(_fourcc(p) for p in path + [key]), "offset": at, "size_bytes": size}
        is_container = key in _CONTAINERS or (path and path[-1] == b"ilst") or key == b"meta"
        if not is_container and key not in (b"mdat",):
            atom.update(_leaf(key, bytes(data[body_at:min(at + size, body_at + (1 << 16))]),
                              path[-1] if path else b""))
        if len(found["atoms"]) < MAX_LISTED:
            found["atoms"].append(atom)
        if is_container and len(path) < MAX_DEPTH:
            # meta is a full box (4 bytes of version and flags) in ISO files, not in QuickTime.
            skip = 4 if key == b"meta" and data[body_at + 4:body_at + 8] != b"hdlr" else 0
            _walk(data, body_at + skip, at + size, path + [key], found)
        at += size
