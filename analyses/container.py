"""``container``: the file's container and frame structure, and the coding history it implies.

Reads what :func:`workbench.core.containers.read_structure` found at intake (MP3 frames and tags,
MP4 atoms, Ogg pages, WAV chunks) and states what it shows, with the numbers: bit rate and
mode, the encoder's low-pass beside the measured bandwidth, structure that is out of order,
damaged or left over, and the conversions the tags record.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.analyses.bandwidth import Bandwidth, apparent_original_rate
from workbench.analyses.common.comparable import Category
from workbench.core.analysis import Analysis, Finding, FindingKind, Result, Track, param
from workbench.core.clip import Clip
from workbench.core.plotting import mmss

LAME_LOWPASS_HZ = {8: 2000, 16: 3700, 24: 3900, 32: 5500, 40: 7000, 48: 7500, 56: 10000,
                   64: 11000, 80: 13500, 96: 15100, 112: 15600, 128: 17000, 160: 17500,
                   192: 18600, 224: 19400, 256: 19700, 320: 20500}
"""LAME's low-pass (Hz) for a two-channel CBR/ABR encoding at each bit rate (kbps): the table
of ``optimum_bandwidth`` in LAME 3.100 ``lame.c``; checked against the LAME headers LAME 3.100
writes at 64-320 kbps. A one-channel encoding keeps 1.5 times as much, at most 20.5 kHz, and
never more than half the sample rate."""
MP4_BRAND_TAGS = ("TXXX:major_brand", "TXXX:compatible_brands", "TXXX:minor_version")
"""ID3 frames in which FFmpeg copies an MP4 source's ``ftyp`` brands into the MP3 it writes."""
NOTE = "container_note"
STRUCTURAL = "1 (a structural fact: the place is exact to one frame or page)"


def lame_lowpass_hz(kbps: float, channels: int, sample_rate_hz: int) -> float:
    """The low-pass LAME applies at ``kbps`` (nearest table entry), for ``channels`` at
    ``sample_rate_hz``."""
    nearest = min(LAME_LOWPASS_HZ, key=lambda rate: abs(rate - kbps))
    lowpass = LAME_LOWPASS_HZ[nearest] * (1.5 if channels == 1 else 1.0)
    return float(min(lowpass, 20500.0, sample_rate_hz / 2))


def first_bitrate_kbps(bandwidth_hz: float, channels: int, sample_rate_hz: int) -> int:
    """The bit rate (kbps) at which LAME's low-pass lies nearest ``bandwidth_hz``: the rate of an
    earlier MP3 encoding that would have left that band, had it been made by LAME."""
    return min(LAME_LOWPASS_HZ, key=lambda rate: abs(lame_lowpass_hz(rate, channels, sample_rate_hz)
                                                     - bandwidth_hz))


class Container(Analysis):
    """Container and frame structure (MP3, MP4/M4A, Ogg, WAV) and the coding history it shows."""

    name = "container"
    version = "1.1"
    description = "MP3 frames and LAME header, MP4 atoms, Ogg pages, WAV chunks; the coding chain."
    measures = (
        "The file's structure read from its bytes: for MP3 every frame header (bit rate, sample "
        "rate, mode), the Xing/Info and LAME headers (encoder, VBR method, low-pass, delay and "
        "padding, the header's own checksum), the tags and their order, bytes before the first "
        "frame or after the last, and regions that are not frames; for MP4/M4A the atom tree "
        "(brands, atom order, handler names, times, edit lists, free space); for Ogg the streams, "
        "vendor strings, pre-skip and page sequence; for WAV the chunks in order (fmt, fact, "
        "LIST/INFO, bext, iXML, cue, padding) and sizes that disagree with the file. The "
        "encoder's low-pass is set beside the measured bandwidth."
    )
    cannot_show = (
        "Structure shows which software wrote the file last and, through tags it copied, some of "
        "the steps before; any of it can be rewritten by anyone with a hex editor, and most apps "
        "and platforms rewrite it as a matter of course. A conversion, a narrow band under a "
        "higher bit rate or a damaged frame says how the file travelled, not whether its content "
        "was changed. Double compression is read from the band an earlier coding left: it finds "
        "an earlier encoding narrower than this one (a lower bit rate, or AAC, Opus, a "
        "telephone codec), not one at the same or a higher rate, which leaves no band of its "
        "own; and a recording made at a lower sample rate and upsampled before this encoding "
        "ends its band where such an encoding would (then it says it cannot tell)."
    )

    kinds = (
        FindingKind(NOTE, "fixed per kind of note: 0.7 a structure that a cut or an edit can leave, 0.6 the rest", flagged=False),
        FindingKind("mp3_damaged_region", STRUCTURAL),
        FindingKind("mp3_stream_change", STRUCTURAL),
        FindingKind("mp3_stream_join", STRUCTURAL),
        FindingKind("ogg_page_gap", STRUCTURAL),
        FindingKind("ogg_stream_restart", STRUCTURAL),
    )
    measurement_keys = (
        "bext_coding_history", "bext_origination", "bext_originator", "bytes_after_last_frame",
        "bytes_before_first_frame", "bytes_beyond_declared_size", "coding_chain",
        "container_format", "damaged_regions", "declared_size_bytes", "double_compression",
        "double_compression_reason", "encoder", "encoder_delay_samples", "encoder_lowpass_hz",
        "encoder_settings", "expected_lowpass_from", "expected_lowpass_hz", "first_bitrate_kbps",
        "lame_tag_crc_ok", "measured_bandwidth_hz", "moov_before_mdat", "mp3_bitrate_kbps",
        "mp3_bitrate_mode", "mp3_bitrate_range_kbps", "mp3_channel_modes", "mp3_frames",
        "mp3_sample_rates_hz", "mp4_atoms", "mp4_compatible_brands", "mp4_encoder",
        "mp4_handler_names", "mp4_major_brand", "mp4_times", "mp4_top_level_atoms", "ogg_codec",
        "ogg_junk_bytes", "ogg_pages", "ogg_sequence_gaps", "ogg_streams", "ogg_vendor",
        "opus_input_sample_rate_hz", "opus_pre_skip_samples", "structure_errors", "tables",
        "wav_chunks", "wav_form",
    )

    comparable = (
        Category("container_coding", "Container read from the bytes (and MP3 bit-rate mode)",
                 read=lambda m: " ".join(filter(None, (m.get("container_format"), m.get("mp3_bitrate_mode")))),
                 reads=("container_format",)),
    )

    track_window_s: float = param(1.0, "Window of the bit-rate track.", above=0)
    shortfall_fraction: float = param(
        0.8, "A measured bandwidth below this fraction of the encoder's low-pass is noted.",
        above=0, below=1)
    min_shortfall_hz: float = param(750.0, "... and only when it is at least this far below.",
                                    above=0)

    def run(self, clip: Clip) -> Result:
        info = clip.info
        if info is None:
            return Result.skipped("the audio was not read from a file, so there is no structure")
        structure = info.structure
        if not structure or structure.get("family") is None:
            reason = "; ".join((structure or {}).get("errors", [])) or (
                f"the container '{info.container}' is not one whose structure this analysis reads "
                "(MP3, MP4/M4A, Ogg, WAV)")
            return Result.skipped(reason)
        family = structure["family"]
        read = {"mp3": self._mp3, "mp4": _mp4, "ogg": _ogg, "wav": _wav}[family]
        measurements, tables, findings, tracks = read(structure, clip)
        for error in structure.get("errors", []):
            findings.append(_note(clip, f"The structure reader stopped: {error}.", 0.6))
        measurements = {"container_format": family, **measurements,
                        "structure_errors": list(structure.get("errors", [])), "tables": tables}
        return Result(measurements=measurements, findings=findings, tracks=tracks)

    def _mp3(self, s: dict[str, Any], clip: Clip):
        first = s.get("first_frame") or {}
        kbps = np.asarray(s.get("frame_kbps", []), dtype=float)
        rates = np.asarray(s.get("frame_rates_hz", []), dtype=float)
        modes = np.asarray(s.get("frame_modes", []), dtype=int)
        skip = 1 if first.get("kind") in ("Xing", "Info", "VBRI") else 0  # a tag frame, no audio
        audio_kbps, audio_rates, audio_modes = kbps[skip:], rates[skip:], modes[skip:]
        lame = first.get("lame") or {}
        findings: list[Finding] = []
        tracks: list[Track] = []
        if audio_kbps.size == 0:
            return ({"mp3_frames": 0, "mp3_bitrate_kbps": None, "mp3_bitrate_mode": None,
                     "encoder_lowpass_hz": None}, _mp3_tables(s), findings, tracks)
        mode = _bitrate_mode(lame.get("vbr_method"), first.get("kind"), audio_kbps)
        frame_s = s["frame_samples"] / audio_rates
        starts = np.concatenate(([0.0], np.cumsum(frame_s)[:-1]))
        mean_kbps = float(np.sum(audio_kbps * frame_s) / np.sum(frame_s))
        channels = 1 if np.all(audio_modes == 3) else 2
        rate = int(np.median(audio_rates))
        if lame.get("lowpass_hz"):
            expected, source = float(lame["lowpass_hz"]), "the LAME header"
        elif mode in ("CBR", "ABR"):
            expected = lame_lowpass_hz(mean_kbps, channels, rate)
            source = f"LAME's table for {mean_kbps:.0f} kbps {'mono' if channels == 1 else 'stereo'}"
        else:
            expected, source = None, None
        measured = Bandwidth().measured_limit_hz(clip)
        double, first_kbps, double_note = self._double_compression(expected, measured, channels, rate)
        measurements = {
            "mp3_frames": int(audio_kbps.size),
            "mp3_bitrate_kbps": mean_kbps,
            "mp3_bitrate_mode": mode,
            "mp3_bitrate_range_kbps": [float(audio_kbps.min()), float(audio_kbps.max())],
            "mp3_sample_rates_hz": s.get("sample_rates_hz"),
            "mp3_channel_modes": ", ".join(f"{mode}: {count:,} frames" for mode, count in (s.get("modes") or {}).items()),
            "encoder": f"LAME {first['encoder']}" if first.get("encoder") else first.get("encoder_string"),
            "encoder_settings": lame.get("settings"),
            "encoder_lowpass_hz": lame.get("lowpass_hz"),
            "expected_lowpass_hz": expected,
            "expected_lowpass_from": source,
            "measured_bandwidth_hz": measured,
            "double_compression": double,
            "first_bitrate_kbps": first_kbps,
            "double_compression_reason": double_note,
            "encoder_delay_samples": lame.get("encoder_delay_samples"),
            "lame_tag_crc_ok": lame.get("tag_crc_ok"),
            "bytes_before_first_frame": s.get("leading_bytes"),
            "bytes_after_last_frame": s.get("trailing_bytes"),
            "damaged_regions": s.get("damaged_count", 0),
        }
        measurements["coding_chain"] = " -> ".join(filter(None, (
            "an MP4/M4A file (its brands are copied into the ID3 tag)" if _mp4_brand_frames(s) else None,
            f"a coding that ended the band at {measured:.0f} Hz" if double else None,
            f"MP3 by {measurements['encoder'] or 'an unnamed encoder'}, {mode} {mean_kbps:.0f} kbps (this file)")))
        if double is not False and expected and measured is not None:
            findings.append(_note(clip, (
                f"The audio's effective bandwidth is {measured:.0f} Hz; at this encoding "
                f"({mode}, {mean_kbps:.0f} kbps) the encoder keeps about {expected:.0f} Hz "
                f"({source}). {double_note}"), 0.6))
        findings += self._mp3_notes(s, clip, first)
        findings += _mp3_places(s, clip, starts, audio_kbps, audio_rates, audio_modes, skip, mode)
        tracks.append(self._bitrate_track(starts, frame_s, audio_kbps))
        return measurements, _mp3_tables(s), findings, tracks

    def _double_compression(self, expected_hz: float | None, measured_hz: float | None, channels: int,
                            rate_hz: int) -> tuple[bool | None, int | None, str]:
        """Whether the band ends well below what this encoding keeps (``double_compression``),
        the bit rate of a LAME encoding that would have left that band, and the reason in words.

        After D'Alessandro and Shi (2009): an encoder's low-pass is set by its bit rate, so a band
        narrower than the final encoder's low-pass was cut by an earlier, narrower coding. None
        when it cannot be judged, or when the band ends where a lower standard sample rate's
        resampler would end it (an upsampled recording reads the same).
        """
        if expected_hz is None:
            return None, None, "The encoder's low-pass is unknown (VBR without a LAME header)."
        if measured_hz is None:
            return None, None, "Too little signal to measure where the band ends."
        shortfall = expected_hz - measured_hz
        if measured_hz >= self.shortfall_fraction * expected_hz or shortfall < self.min_shortfall_hz:
            return False, None, (f"The band reaches {measured_hz:.0f} Hz, as this encoding keeps "
                                 f"(about {expected_hz:.0f} Hz): no narrower coding before it shows.")
        lower_rate = apparent_original_rate(measured_hz, rate_hz)
        if lower_rate is not None:
            return None, None, (
                f"The band ends {shortfall:.0f} Hz short of what this encoding keeps, at half of "
                f"{lower_rate} Hz: an earlier encoding at a lower rate, or a recording made at "
                f"{lower_rate} Hz and upsampled before this encoding, would both end it there; "
                "which one cannot be told from the band.")
        kbps = first_bitrate_kbps(measured_hz, channels, rate_hz)
        return True, kbps, (
            f"The band ends {shortfall:.0f} Hz short of what this encoding keeps: it was narrowed "
            f"before this encoding, by an earlier coding (a LAME MP3 at about {kbps} kbps leaves "
            "this band; AAC, Opus or a messenger's codec at a low rate can too), a filter, or a "
            f"source with nothing above {measured_hz:.0f} Hz.")

    def _mp3_notes(self, s: dict[str, Any], clip: Clip, first: dict[str, Any]) -> list[Finding]:
        notes = []
        lame = first.get("lame") or {}
        brands = _mp4_brand_frames(s)
        if brands:
            shown = ", ".join(f"{key} = '{value}'" for key, value in brands.items())
            notes.append(_note(clip, (
                f"The MP3's ID3 tag carries MP4 brand tags ({shown}): FFmpeg copies an MP4 "
                "source's brands into these frames, so this MP3 was converted from an MP4/M4A "
                "file (a video or an AAC recording)."), 0.7))
        counted = first.get("frames")
        if counted is not None and abs(counted - (len(s.get("frame_offsets", [])) - 1)) > 1:
            notes.append(_note(clip, (
                f"The {first['kind']} header counts {counted:,} frames; the stream holds "
                f"{len(s['frame_offsets']) - 1:,}: frames were added or removed after the header "
                "was written (a cut, a join, or a damaged copy)."), 0.7))
        if lame.get("tag_crc_ok") is False:
            notes.append(_note(clip, "The LAME header's checksum does not match its first frame: "
                                     "the header was edited or the frame rewritten after encoding.", 0.7))
        if s.get("leading_bytes"):
            notes.append(_note(clip, f"{s['leading_bytes']:,} bytes lie between the opening tags and "
                                     "the first MP3 frame: data that is neither tag nor audio.", 0.6))
        if s.get("trailing_bytes"):
            notes.append(_note(clip, f"{s['trailing_bytes']:,} bytes follow the last MP3 frame at byte "
                                     f"{s['trailing_offset']:,}, outside any tag: data that is not audio.",
                               0.6))
        return notes

    def _bitrate_track(self, starts: np.ndarray, frame_s: np.ndarray, kbps: np.ndarray) -> Track:
        """Mean bit rate (kbps) per ``track_window_s`` window, weighted by frame duration."""
        edges = np.arange(0.0, starts[-1] + frame_s[-1] + self.track_window_s, self.track_window_s)
        which = np.clip(np.searchsorted(edges, starts, side="right") - 1, 0, edges.size - 2)
        weight = np.bincount(which, frame_s, minlength=edges.size - 1)
        total = np.bincount(which, frame_s * kbps, minlength=edges.size - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(weight > 0, total / weight, np.nan)
        return Track("MP3 bit rate (kbps)", edges[:-1] + self.track_window_s / 2, values)


def _mp4_brand_frames(s: dict[str, Any]) -> dict[str, str]:
    """The ID3 frames holding an MP4 source's brands (:data:`MP4_BRAND_TAGS`), with their text."""
    frames = {frame["id"]: frame["text"] for tag in s.get("tags", []) for frame in tag["frames"]}
    return {key: frames[key] for key in MP4_BRAND_TAGS if key in frames}


def _note(clip: Clip, summary: str, strength: float) -> Finding:
    return Finding.whole_file(NOTE, clip.duration_s, strength, summary)


def _place(kind: str, at_s: float, clip: Clip, summary: str, details: dict[str, Any]) -> Finding:
    at_s = float(min(max(at_s, 0.0), clip.duration_s))
    return Finding(kind=kind, start_s=at_s, end_s=at_s, strength=1.0, flagged=True, summary=summary,
                   details=details)


def _bitrate_mode(vbr_method: str | None, header: str | None, kbps: np.ndarray) -> str:
    """CBR, ABR or VBR: from the LAME header when it says, else from the header's kind (an
    "Info" header marks a CBR stream, "Xing" a VBR one), else from the frames' bit rates."""
    for mode in ("CBR", "ABR", "VBR"):
        if vbr_method and vbr_method.startswith(mode):
            return mode
    if header in ("Info", "Xing"):
        return "CBR" if header == "Info" else "VBR"
    return "CBR" if np.all(kbps == kbps[0]) else "VBR"


def _mp3_places(s, clip, starts, kbps, rates, modes, skip, mode) -> list[Finding]:
    """Damaged regions, a second encoder header, and changes of sample rate, channel count or CBR
    bit rate mid-stream."""
    places = []
    frame_count = kbps.size
    for region in s.get("damaged", []):
        index = min(max(region["after_frame"] - skip, 0), frame_count - 1)
        at = starts[index] if region["after_frame"] - skip < frame_count else clip.duration_s
        places.append(_place("mp3_damaged_region", at, clip, (
            f"{region['size_bytes']:,} bytes at byte {region['offset']:,} are not MP3 frames; the "
            f"frame stream resumes after them (near {mmss(at)}): damage, or two streams joined."),
            {"offset": region["offset"], "size_bytes": region["size_bytes"]}))
    for frame in s.get("header_frames", []):
        index = frame - skip
        if 0 < index < frame_count:
            at = float(starts[index])
            places.append(_place("mp3_stream_join", at, clip, (
                f"Frame {frame:,} (near {mmss(at)}) carries an encoder's Xing/Info header, which an "
                "encoder writes into the first frame of its stream only: another encoding begins "
                "here, as when two MP3 files are joined without re-encoding."), {"frame": int(frame)}))
    mono = modes == 3
    changes = [("sample rate", rates, "Hz"), ("channel count", np.where(mono, 1, 2), "channels")]
    if mode == "CBR":
        changes.append(("constant bit rate", kbps, "kbps"))
    for label, values, unit in changes:
        for index in np.flatnonzero(np.diff(values) != 0)[:50] + 1:
            at = float(starts[index])
            places.append(_place("mp3_stream_change", at, clip, (
                f"The MP3 {label} changes from {values[index - 1]:g} to {values[index]:g} {unit} at "
                f"frame {index + skip:,} (near {mmss(at)}): the encoder settings change mid-file, as "
                "when two encodings are joined."),
                {"frame": int(index + skip), "what": label, "before": float(values[index - 1]),
                 "after": float(values[index])}))
    return places


def _mp3_tables(s: dict[str, Any]) -> list[dict[str, Any]]:
    tables = [_table("Tags in file order", ["Kind", "At byte", "Bytes", "Frames"], [
        [tag["kind"], tag["offset"], tag["size_bytes"],
         "; ".join(f"{f['id']}: {f['text'][:80]}" for f in tag["frames"][:12]) or "—"]
        for tag in s.get("tags", [])])]
    first = s.get("first_frame") or {}
    header = {k: v for k, v in first.items() if k != "lame"}
    header.update({f"LAME {k.replace('_', ' ')}": v for k, v in (first.get("lame") or {}).items()})
    if header:
        tables.append(_table("First frame: Xing/Info/VBRI and LAME header", ["Field", "Value"],
                             [[key, value] for key, value in header.items()]))
    if s.get("damaged"):
        tables.append(_table("Regions that are not MP3 frames", ["At byte", "Bytes", "After frame"], [
            [d["offset"], d["size_bytes"], d["after_frame"]] for d in s["damaged"]]))
    return [t for t in tables if t["rows"]]


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"title": title, "columns": columns, "rows": rows}


def _mp4(s: dict[str, Any], clip: Clip):
    atoms = s.get("atoms", [])
    ftyp = next((a for a in atoms if a["path"] == "ftyp"), {})
    handlers = [a.get("handler_name") for a in atoms if a["path"].endswith("hdlr") and a.get("handler_name")]
    tags = {a["tag"]: a["value"] for a in atoms if "tag" in a}
    created = sorted({a[k] for a in atoms for k in ("created", "modified") if a.get(k)})
    measurements = {
        "mp4_major_brand": ftyp.get("major_brand"),
        "mp4_compatible_brands": ftyp.get("compatible_brands"),
        "mp4_top_level_atoms": s.get("top_level"),
        "moov_before_mdat": s.get("moov_before_mdat"),
        "mp4_handler_names": handlers,
        "mp4_encoder": tags.get("©too"),
        "mp4_times": created,
        "mp4_atoms": s.get("atom_count"),
    }
    findings = []
    order = s.get("top_level") or []
    findings.append(_note(clip, (
        f"Top-level atoms in file order: {', '.join(order[:20])}; the index (moov) "
        f"{'precedes' if s.get('moov_before_mdat') else 'follows'} the audio data (mdat). Atom "
        "order and handler names depend on the program that wrote the file."), 0.3))
    if created:
        findings.append(_note(clip, f"The atoms give creation/modification times {', '.join(created[:6])} "
                                    "(UTC by the standard; many writers store local time). Compare them "
                                    "with the claimed time of recording.", 0.3))
    free = [a for a in atoms if a["path"].split("/")[-1] in ("free", "skip") and a.get("all_zero") is False]
    if free:
        findings.append(_note(clip, f"{len(free)} free/skip atom(s) hold non-zero bytes "
                                    f"(first at byte {free[0]['offset']:,}): left-over data from an "
                                    "earlier version of the file, or data hidden there.", 0.6))
    edits = [a for a in atoms if a["path"].endswith("elst") and a.get("entry_count", 0) > 1]
    if edits:
        findings.append(_note(clip, f"An edit list holds {edits[0]['entry_count']} entries: the "
                                    "track plays its media in pieces (an edit made without re-encoding).",
                              0.6))
    rows = [[a["path"], a["offset"], a["size_bytes"], _details(a, ("path", "offset", "size_bytes"))]
            for a in atoms]
    tables = [_table("Atoms in file order", ["Atom", "At byte", "Bytes", "What it holds"], rows)]
    return measurements, tables, findings, []


def _details(entry: dict[str, Any], leave: tuple[str, ...]) -> str:
    """The fields of a structure entry other than ``leave`` as 'key: value' text."""
    def show(value):
        if isinstance(value, list):
            return ", ".join(show(v) for v in value[:12])
        if isinstance(value, dict):
            return "; ".join(f"{k}: {show(v)}" for k, v in list(value.items())[:12])
        return str(value)
    return "; ".join(f"{k.replace('_', ' ')}: {show(v)}" for k, v in entry.items()
                     if k not in leave and v not in (None, "", [], {})) or "—"


def _ogg(s: dict[str, Any], clip: Clip):
    streams = s.get("streams", [])
    first = streams[0] if streams else {}
    measurements = {
        "ogg_streams": len(streams),
        "ogg_codec": first.get("codec"),
        "ogg_vendor": first.get("vendor"),
        "opus_pre_skip_samples": first.get("pre_skip_samples"),
        "opus_input_sample_rate_hz": first.get("input_sample_rate_hz"),
        "ogg_pages": s.get("pages"),
        "ogg_sequence_gaps": len(s.get("sequence_gaps", [])),
        "ogg_junk_bytes": sum(j["size_bytes"] for j in s.get("junk", [])),
    }
    findings = []
    by_serial = {st["serial"]: st for st in streams}
    for gap in s.get("sequence_gaps", []):
        at = _granule_s(by_serial.get(gap["serial"], {}), gap.get("granule_before"))
        findings.append(_place("ogg_page_gap", at if at is not None else 0.0, clip, (
            f"Ogg page sequence jumps from {gap['expected'] - 1} to {gap['found']} at byte "
            f"{gap['offset']:,}{f' (near {mmss(at)})' if at is not None else ''}: pages are missing "
            "or come from another stream."), gap))
    for stream in streams[1:]:
        at = _granule_s(first, first.get("last_granule"))
        findings.append(_place("ogg_stream_restart", at or 0.0, clip, (
            f"A second logical stream (serial {stream['serial']}, {stream.get('codec')}, vendor "
            f"'{stream.get('vendor')}') begins at byte {stream['first_page_offset']:,}: the file "
            "holds two encodings joined or multiplexed."), {"serial": stream["serial"]}))
    if s.get("junk"):
        findings.append(_note(clip, f"{measurements['ogg_junk_bytes']:,} bytes between or after the "
                                    "pages are not Ogg pages: damage, or data that is not audio.", 0.6))
    columns = ["Serial", "Codec", "Vendor", "Pages", "First page at byte", "Last granule",
               "Ends (EOS)", "Header fields and comments"]
    rows = [[st["serial"], st.get("codec"), st.get("vendor"), st["pages"], st["first_page_offset"],
             st.get("last_granule"), st["eos"],
             _details(st, ("serial", "codec", "vendor", "pages", "first_page_offset", "last_granule",
                           "eos", "last_page_offset"))] for st in streams]
    tables = [_table("Logical streams", columns, rows)]
    if s.get("sequence_gaps"):
        tables.append(_table("Page sequence gaps", ["Serial", "At byte", "Expected", "Found"], [
            [g["serial"], g["offset"], g["expected"], g["found"]] for g in s["sequence_gaps"]]))
    return measurements, tables, findings, []


def _granule_s(stream: dict[str, Any], granule: int | None) -> float | None:
    """A granule position as seconds of decoded audio (Opus counts at 48 kHz after pre-skip)."""
    if granule is None:
        return None
    if stream.get("codec") == "Opus":
        return max(0.0, (granule - stream.get("pre_skip_samples", 0)) / 48000)
    rate = stream.get("sample_rate_hz")
    return granule / rate if rate else None


def _wav(s: dict[str, Any], clip: Clip):
    chunks = s.get("chunks", [])
    ids = [c["id"] for c in chunks]
    bext = next((c for c in chunks if c["id"] == "bext"), {})
    measurements = {
        "wav_form": s.get("form"),
        "wav_chunks": ids[:50],
        "declared_size_bytes": s.get("declared_size_bytes"),
        "bytes_beyond_declared_size": s.get("bytes_beyond"),
        "bext_originator": bext.get("originator"),
        "bext_origination": " ".join(filter(None, (bext.get("origination_date"), bext.get("origination_time")))) or None,
        "bext_coding_history": bext.get("coding_history"),
    }
    findings = []
    if s.get("bytes_beyond"):
        findings.append(_note(clip, f"{s['bytes_beyond']:,} bytes follow the end the {s.get('form')} header "
                                    f"declares ({s['declared_size_bytes']:,} bytes): data appended "
                                    "after the file was written, which players ignore.", 0.7))
    if bext:
        findings.append(_note(clip, (
            f"Broadcast WAV 'bext' chunk: originator '{bext.get('originator')}', origination "
            f"{measurements['bext_origination'] or 'not given'}"
            f"{', coding history ' + repr(bext['coding_history'][:120]) if bext.get('coding_history') else ''}."
            " Compare them with the claimed recorder and time."), 0.4))
    padding = [c for c in chunks if "all_zero" in c and not c["all_zero"]]
    if padding:
        findings.append(_note(clip, f"A padding chunk ('{padding[0]['id']}' at byte {padding[0]['offset']:,}) "
                                    "holds non-zero bytes: left-over or hidden data.", 0.6))
    data_at = [i for i, c in enumerate(chunks) if c["id"] == "data"]
    if len(data_at) > 1:
        findings.append(_note(clip, f"The file holds {len(data_at)} 'data' chunks; players read only "
                                    "the first.", 0.7))
    rows = [[c["id"], c["offset"], c["size_bytes"], _details(c, ("id", "offset", "size_bytes"))]
            for c in chunks]
    return measurements, [_table("Chunks in file order", ["Chunk", "At byte", "Bytes", "What it holds"],
                                 rows)], findings, []
