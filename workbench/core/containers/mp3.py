"""MPEG audio (MP3) structure: tags, every frame header, the Xing/Info/VBRI and LAME headers.

mutagen reads the ID3v2 frames and the Xing and LAME headers; nothing kept walks every frame
header with its offset, so that walk is written here (ISO/IEC 11172-3 and 13818-3 headers).
"""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np

from workbench.core.untrusted import clean_text

MAX_REGIONS = 200
_BITRATES_KBPS = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES_KBPS[(2, 3)] = _BITRATES_KBPS[(2, 2)]
_RATES_HZ = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 2.5: (11025, 12000, 8000)}
_VERSIONS = {0: 2.5, 2: 2, 3: 1}
MODES = ("stereo", "joint stereo", "dual channel", "mono")
LAME_VBR_METHODS = {
    0: "unknown", 1: "CBR", 2: "ABR", 3: "VBR (rh)", 4: "VBR (mtrh)", 5: "VBR (mt)", 6: "VBR",
    8: "CBR (2-pass)", 9: "ABR (2-pass)",
}


def header_at(data, offset: int) -> dict[str, Any] | None:
    """The MPEG audio frame header at ``offset`` decoded, or None when there is none there.

    Free-format frames (bit-rate index 0) are not accepted: their length cannot be known from
    the header alone.
    """
    if offset + 4 > len(data):
        return None
    word = struct.unpack(">I", data[offset:offset + 4])[0]
    if word >> 21 != 0x7FF:
        return None
    version_bits, layer_bits = (word >> 19) & 3, (word >> 17) & 3
    bitrate_index, rate_index = (word >> 12) & 15, (word >> 10) & 3
    if version_bits == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    version, layer = _VERSIONS[version_bits], 4 - layer_bits
    kbps = _BITRATES_KBPS[(1 if version == 1 else 2, layer)][bitrate_index]
    rate = _RATES_HZ[version][rate_index]
    padding = (word >> 9) & 1
    if layer == 1:
        samples, length = 384, (12 * kbps * 1000 // rate + padding) * 4
    else:
        samples = 576 if (layer == 3 and version != 1) else 1152
        length = samples // 8 * kbps * 1000 // rate + padding
    return {
        "version": version, "layer": layer, "kbps": kbps, "rate_hz": rate, "padding": padding,
        "crc": not (word >> 16) & 1, "mode": (word >> 6) & 3, "samples": samples,
        "length": length,
    }


def _same_stream(a: dict, b: dict) -> bool:
    return a["version"] == b["version"] and a["layer"] == b["layer"] and a["rate_hz"] == b["rate_hz"]


def _confirmed_header(data, offset: int) -> dict[str, Any] | None:
    """A header at ``offset`` followed by another of the same stream (or by the end of data)."""
    first = header_at(data, offset)
    if first is None:
        return None
    after = offset + first["length"]
    if after >= len(data) - 4:
        return first
    second = header_at(data, after)
    return first if second is not None and _same_stream(first, second) else None


def _resync(data, start: int, stop: int) -> int | None:
    """The offset of the next confirmed frame header in ``[start, stop)``, or None."""
    position = start
    while True:
        position = data.find(b"\xff", position, stop)
        if position < 0:
            return None
        if _confirmed_header(data, position) is not None:
            return position
        position += 1


def _id3v2_tags(data) -> tuple[list[dict[str, Any]], int]:
    """The ID3v2 tags at the start of the file, one after another; and where they end."""
    tags, offset = [], 0
    while data[offset:offset + 3] == b"ID3" and offset + 10 <= len(data):
        major, revision, flags = data[offset + 3], data[offset + 4], data[offset + 5]
        raw = data[offset + 6:offset + 10]
        if any(byte & 0x80 for byte in raw):
            break  # not a syncsafe size: not a tag
        size = 10 + (raw[0] << 21 | raw[1] << 14 | raw[2] << 7 | raw[3]) + (10 if flags & 0x10 else 0)
        tags.append({"kind": f"ID3v2.{major}.{revision}", "offset": offset, "size_bytes": size,
                     "frames": _id3_frames(bytes(data[offset:offset + size]))})
        offset += size
    return tags, min(offset, len(data))


def _id3_frames(tag: bytes) -> list[dict[str, str]]:
    """The frames of one ID3v2 tag: id and a short text form (mutagen's reading)."""
    from mutagen.id3 import ID3, ID3NoHeaderError, error as ID3Error

    try:
        parsed = ID3(io.BytesIO(tag))
    except (ID3NoHeaderError, ID3Error, ValueError, EOFError, struct.error):
        return [{"id": "?", "text": "the tag's frames could not be read"}]
    frames = []
    for key, frame in list(parsed.items())[:MAX_REGIONS]:
        frames.append({"id": clean_text(key), "text": clean_text(str(frame))[:300]})
    return frames


def _trailing_tags(data, stop: int) -> tuple[list[dict[str, Any]], int]:
    """ID3v1, APEv2 and Lyrics3v2 tags at the end of the file (outermost last); and where the
    audio may end."""
    tags: list[dict[str, Any]] = []
    end = stop
    if end >= 128 and data[end - 128:end - 125] == b"TAG":
        tags.append({"kind": "ID3v1", "offset": end - 128, "size_bytes": 128, "frames": [
            {"id": "title", "text": clean_text(bytes(data[end - 125:end - 95]).rstrip(b"\0 "))}]})
        end -= 128
    if end >= 15 and data[end - 9:end] == b"LYRICS200":
        try:
            size = int(bytes(data[end - 15:end - 9])) + 15
        except ValueError:
            size = 0
        if 15 < size <= end:
            tags.append({"kind": "Lyrics3v2", "offset": end - size, "size_bytes": size, "frames": []})
            end -= size
    if end >= 32 and data[end - 32:end - 24] == b"APETAGEX":
        size = struct.unpack("<I", data[end - 20:end - 16])[0]
        flags = struct.unpack("<I", data[end - 12:end - 8])[0]
        total = size + (32 if flags & 0x80000000 else 0)
        if 32 <= total <= end:
            tags.append({"kind": "APEv2", "offset": end - total, "size_bytes": total, "frames": []})
            end -= total
    return list(reversed(tags)), end


def _xing(frame: bytes, header: dict[str, Any]) -> dict[str, Any] | None:
    """The Xing/Info header (with its LAME extension) or VBRI header in the first frame."""
    from mutagen.mp3 import XingHeader, XingHeaderError

    mono = header["mode"] == 3
    side = (17 if mono else 32) if header["version"] == 1 else (9 if mono else 17)
    at = 4 + side + (2 if header["crc"] else 0)
    if frame[at:at + 4] in (b"Xing", b"Info"):
        try:
            xing = XingHeader(io.BytesIO(frame[at:]))
        except (XingHeaderError, struct.error, ValueError):
            return {"kind": clean_text(frame[at:at + 4]), "readable": False}
        found: dict[str, Any] = {
            "kind": "Info" if xing.is_info else "Xing", "readable": True,
            "frames": xing.frames if xing.frames >= 0 else None,
            "bytes": xing.bytes if xing.bytes >= 0 else None,
            "vbr_scale": xing.vbr_scale if xing.vbr_scale >= 0 else None,
            "encoder": clean_text(xing.lame_version_desc) if xing.lame_version_desc else None,
            "encoder_string": clean_text(frame[at + 120:at + 129].rstrip(b"\0 ")) or None,
        }
        lame = xing.lame_header
        if lame is not None:
            tag_end = at + 120 + 36
            found["lame"] = {
                "vbr_method": LAME_VBR_METHODS.get(lame.vbr_method, f"code {lame.vbr_method}"),
                "lowpass_hz": lame.lowpass_filter or None,
                "bitrate_kbps": lame.bitrate if lame.bitrate > 0 else None,
                "encoder_delay_samples": lame.encoder_delay_start,
                "padding_samples": lame.encoder_padding_end,
                "preset": lame.preset_used,
                "music_length_bytes": lame.music_length,
                "settings": clean_text(xing.get_encoder_settings()) or None,
                "tag_crc_ok": (crc16_arc(frame[:tag_end - 2]) == lame.header_crc
                               if len(frame) >= tag_end else None),
            }
        return found
    if frame[36:40] == b"VBRI":
        return {"kind": "VBRI", "readable": True,
                "bytes": struct.unpack(">I", frame[46:50])[0] if len(frame) >= 54 else None,
                "frames": struct.unpack(">I", frame[50:54])[0] if len(frame) >= 54 else None}
    return None


def _crc16_table() -> list[int]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
        table.append(value)
    return table


_CRC16 = _crc16_table()


def crc16_arc(data: bytes) -> int:
    """CRC-16/ARC (reflected polynomial 0xA001, initial 0): the checksum of the LAME tag."""
    crc = 0
    for byte in data:
        crc = _CRC16[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def read(data) -> dict[str, Any]:
    """The structure of an MPEG audio file held in ``data`` (bytes or a read-only mmap).

    Returns
    -------
    dict
        ``tags`` (ID3v2 at the start, ID3v1/APEv2/Lyrics3 at the end, each with offset and size),
        ``leading_bytes`` (between the opening tags and the first frame) and ``trailing_bytes``
        (after the last frame, outside any tag), ``frame_offsets`` and ``frame_kbps`` (one per
        frame, NumPy arrays), ``frame_samples``, ``sample_rates_hz``, ``versions``, ``modes``,
        ``crc_frames``, ``padded_frames``, ``damaged`` (regions between frames that are not frames:
        offset, size and the frame index after which they sit), ``first_frame`` (the Xing/Info,
        VBRI and LAME headers when present), ``header_frames`` (later frames that carry such a
        header: where another encoding begins) and ``errors``.
    """
    tags, start = _id3v2_tags(data)
    end_tags, stop = _trailing_tags(data, len(data))
    first = _resync(data, start, stop)
    found: dict[str, Any] = {"tags": tags + end_tags, "errors": [], "damaged": [], "damaged_count": 0}
    if first is None:
        found["errors"].append("no MPEG audio frame was found")
        return found
    found["leading_bytes"] = first - start
    offsets, kbps, rates, versions, modes = [], [], [], [], []
    crc_frames = padded = 0
    position = first
    layer = None
    while position < stop:
        header = header_at(data, position)
        if header is not None and position + header["length"] > stop:
            found["errors"].append(f"the last frame at byte {position:,} is cut short "
                                   f"({stop - position} of {header['length']} bytes)")
            header = None
            nxt = None
        elif header is None or (offsets and not _same_layer(header, layer)):
            nxt = _resync(data, position + 1, stop)
        else:
            offsets.append(position)
            kbps.append(header["kbps"])
            rates.append(header["rate_hz"])
            versions.append(header["version"])
            modes.append(header["mode"])
            crc_frames += header["crc"]
            padded += header["padding"]
            layer = (header["layer"], header["samples"])
            position += header["length"]
            continue
        if nxt is None:
            break
        found["damaged_count"] += 1
        if len(found["damaged"]) < MAX_REGIONS:
            found["damaged"].append({"offset": position, "size_bytes": nxt - position,
                                     "after_frame": len(offsets)})
        position = nxt
    found["trailing_bytes"] = max(0, stop - position)
    found["trailing_offset"] = position
    frame_offsets = np.asarray(offsets, dtype=np.int64)
    found.update({
        "frame_offsets": frame_offsets,
        "frame_kbps": np.asarray(kbps, dtype=np.int16),
        "frame_rates_hz": np.asarray(rates, dtype=np.int32),
        "frame_modes": np.asarray(modes, dtype=np.int8),
        "frame_samples": layer[1] if layer else None,
        "layer": layer[0] if layer else None,
        "sample_rates_hz": sorted(set(rates)),
        "versions": sorted(set(versions)),
        "modes": {MODES[m]: modes.count(m) for m in sorted(set(modes))},
        "crc_frames": crc_frames,
        "padded_frames": padded,
    })
    if offsets:
        head = header_at(data, offsets[0])
        found["first_frame"] = _xing(bytes(data[offsets[0]:offsets[0] + head["length"]]), head)
        found["header_frames"] = _header_frames(data, frame_offsets)
    return found


_HEADER_TAG_AT = frozenset({13, 15, 21, 23, 36, 38})
"""Where a Xing/Info or VBRI tag starts in its frame: after the 4-byte header, the side information
(9, 17 or 32 bytes) and the CRC when there is one; VBRI sits at byte 36."""


def _header_frames(data, offsets: np.ndarray) -> list[int]:
    """Indices of the frames after the first that carry a Xing/Info or VBRI tag.

    An encoder writes that tag into the first frame of its stream only, so one further in is the
    start of another encoding: two files joined without re-encoding.
    """
    found: set[int] = set()
    for tag in (b"Xing", b"Info", b"VBRI"):
        at = data.find(tag, int(offsets[0]) + 4)
        while at >= 0 and len(found) < MAX_REGIONS:
            index = int(np.searchsorted(offsets, at, side="right")) - 1
            if index >= 1 and at - int(offsets[index]) in _HEADER_TAG_AT:
                found.add(index)
            at = data.find(tag, at + 4)
    return sorted(found)


def _same_layer(header: dict[str, Any], layer: tuple[int, int] | None) -> bool:
    """Whether ``header`` continues a stream of ``layer`` (layer number, samples per frame)."""
    return layer is None or (header["layer"], header["samples"]) == layer
