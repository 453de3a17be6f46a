"""Ogg structure (RFC 3533): pages, logical streams, and the Opus/Vorbis/FLAC identification and
comment headers (RFC 7845, Vorbis I specification).

mutagen reads the tags of one stream but keeps neither page sequence gaps nor more than one
serial, so the page walk is written here. Page CRCs are not checked (the decoder does).
"""

from __future__ import annotations

import struct
from typing import Any

from workbench.core.untrusted import clean_text

MAX_PAGES_LISTED = 200
MAX_COMMENTS = 50


def _comments(packet: bytes, at: int) -> dict[str, Any]:
    """The vendor string and user comments of a Vorbis-style comment header starting at ``at``."""
    if at + 4 > len(packet):
        return {}
    size = struct.unpack("<I", packet[at:at + 4])[0]
    vendor = clean_text(packet[at + 4:at + 4 + size])
    at += 4 + size
    comments = []
    if at + 4 <= len(packet):
        count = struct.unpack("<I", packet[at:at + 4])[0]
        at += 4
        for _ in range(min(count, MAX_COMMENTS)):
            if at + 4 > len(packet):
                break
            length = struct.unpack("<I", packet[at:at + 4])[0]
            comments.append(clean_text(packet[at + 4:at + 4 + length])[:300])
            at += 4 + length
    return {"vendor": vendor, "comments": comments}


def _identify(packet: bytes) -> dict[str, Any]:
    """The codec and its parameters from a stream's first packet."""
    if packet.startswith(b"OpusHead") and len(packet) >= 19:
        channels, pre_skip, input_rate, gain = struct.unpack("<BHIh", packet[9:18])
        return {"codec": "Opus", "channels": channels, "pre_skip_samples": pre_skip,
                "input_sample_rate_hz": input_rate, "output_gain_q8_db": gain}
    if packet.startswith(b"\x01vorbis") and len(packet) >= 30:
        channels, rate = struct.unpack("<BI", packet[11:16])
        nominal = struct.unpack("<i", packet[20:24])[0]
        return {"codec": "Vorbis", "channels": channels, "sample_rate_hz": rate,
                "nominal_bitrate_bps": nominal if nominal > 0 else None}
    if packet.startswith(b"\x7fFLAC"):
        return {"codec": "FLAC"}
    if packet.startswith(b"Speex   "):
        return {"codec": "Speex"}
    return {"codec": "unknown", "first_bytes": clean_text(packet[:8])}


def read(data) -> dict[str, Any]:
    """The page structure of an Ogg file held in ``data``.

    Returns
    -------
    dict
        ``streams`` (per serial: codec and header fields, vendor string and comments, first and
        last page, last granule position, pages, end-of-stream seen), ``pages`` (count),
        ``sequence_gaps`` (serial, byte offset, expected and found sequence number, the stream's
        granule position before the gap),
        ``junk`` (byte ranges between pages that are not pages), ``errors``.
    """
    found: dict[str, Any] = {"streams": {}, "pages": 0, "sequence_gaps": [], "junk": [],
                             "errors": []}
    packets: dict[int, bytearray] = {}
    headers_seen: dict[int, int] = {}
    at, end = 0, len(data)
    while at + 27 <= end:
        if data[at:at + 4] != b"OggS":
            nxt = data.find(b"OggS", at + 1)
            stop = end if nxt < 0 else nxt
            if len(found["junk"]) < MAX_PAGES_LISTED:
                found["junk"].append({"offset": at, "size_bytes": stop - at})
            if nxt < 0:
                break
            at = nxt
            continue
        flags = data[at + 5]
        granule, serial, sequence = struct.unpack("<qII", data[at + 6:at + 22])
        segments = data[at + 26]
        lacing = bytes(data[at + 27:at + 27 + segments])
        body_at = at + 27 + segments
        size = sum(lacing)
        if body_at + size > end:
            found["errors"].append(f"the page at byte {at:,} is cut short")
            break
        found["pages"] += 1
        stream = found["streams"].get(serial)
        if stream is None:
            stream = {"serial": serial, "first_page_offset": at, "pages": 0,
                      "begins_with_bos": bool(flags & 2), "eos": False, "next_sequence": sequence}
            found["streams"][serial] = stream
        if sequence != stream["next_sequence"] and len(found["sequence_gaps"]) < MAX_PAGES_LISTED:
            found["sequence_gaps"].append({"serial": serial, "offset": at,
                                           "expected": stream["next_sequence"], "found": sequence,
                                           "granule_before": stream.get("last_granule")})
        stream["next_sequence"] = sequence + 1
        stream["pages"] += 1
        stream["last_page_offset"] = at
        stream["eos"] = stream["eos"] or bool(flags & 4)
        if granule >= 0:
            stream["last_granule"] = granule
        if headers_seen.get(serial, 0) < 2:
            _read_headers(stream, packets, headers_seen, serial, lacing,
                          bytes(data[body_at:body_at + size]))
        at = body_at + size
    if at < end and at + 27 > end and len(found["junk"]) < MAX_PAGES_LISTED:
        found["junk"].append({"offset": at, "size_bytes": end - at})
    found["streams"] = [{k: v for k, v in s.items() if k != "next_sequence"}
                        for s in found["streams"].values()]
    return found


def _read_headers(stream: dict, packets: dict, seen: dict, serial: int, lacing: bytes,
                  body: bytes) -> None:
    """Collect a stream's first two packets (identification, comments) across pages."""
    at = 0
    buffer = packets.setdefault(serial, bytearray())
    for value in lacing:
        if len(buffer) < 1 << 20:  # a comment packet with cover art can span many pages
            buffer += body[at:at + value]
        at += value
        if value < 255:
            packet = bytes(buffer)
            buffer.clear()
            if seen.get(serial, 0) == 0:
                stream.update(_identify(packet))
            elif packet.startswith(b"OpusTags"):
                stream.update(_comments(packet, 8))
            elif packet.startswith(b"\x03vorbis"):
                stream.update(_comments(packet, 7))
            seen[serial] = seen.get(serial, 0) + 1
            if seen[serial] >= 2:
                return
