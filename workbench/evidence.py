"""Evidence intake: open a file read-only, hash it, describe it and hand back a :class:`Clip`.

Nothing here writes to the evidence. Every string read from the file (tags, encoder names)
is kept as untrusted text: it is made valid UTF-8 and otherwise left as the file had it;
escaping is the renderers' job.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.clip import Clip, DecodedFileSource, EvidenceInfo, SoundFileSource
from workbench.core.containers import read_structure
from workbench.core.errors import EvidenceError
from workbench.core.hashing import sha256_file
from workbench.core.sandbox import run_limited
from workbench.core.untrusted import clean_text

MAX_DECODED_BYTES = 8 << 30
"""Refuse to decode a file to more than this many bytes of float32 samples (claimed by its header,
or written while decoding a compressed stream)."""

DECODE_TIMEOUT_S = 60.0
DECODE_S_PER_MIB = 2.0
"""Decoding may take 60 s plus 2 s per MiB of file before it is stopped as hung."""


def _check_readable(path: Path) -> os.stat_result:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise EvidenceError("no such file") from None
    except OSError as exc:
        raise EvidenceError(f"cannot be examined: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise EvidenceError("is a directory, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise EvidenceError("is not a regular file")
    if st.st_size == 0:
        raise EvidenceError("is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise EvidenceError("cannot be read: permission denied")
    return st


def _probe_pyav(path: Path) -> dict[str, Any] | None:
    """Container, codec and tags as FFmpeg sees them, or None when FFmpeg cannot open the file."""
    import av

    try:
        with av.open(str(path), mode="r") as container:
            tags = {clean_text(k): clean_text(v) for k, v in container.metadata.items()}
            audio = container.streams.audio
            probe: dict[str, Any] = {
                "container": clean_text(container.format.name),
                "tags": tags,
                "has_audio": bool(audio),
                "container_duration_s": (
                    container.duration / 1_000_000 if container.duration else None
                ),
            }
            if audio:
                stream = audio[0]
                ctx = stream.codec_context
                probe["codec"] = clean_text(ctx.name)
                probe["sample_format"] = clean_text(ctx.format.name) if ctx.format else "unknown"
                for key, value in stream.metadata.items():
                    tags[f"stream.{clean_text(key)}"] = clean_text(value)
            return probe
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OSError):
        return None


def _decode_pyav(path: Path, scratch: Path) -> tuple[int, int, int, bool, list[float]]:
    """Decode the first audio stream at its native rate and channel count into ``scratch`` as
    interleaved float32 frames, so a long recording never has to fit in memory.

    Packets are decoded one at a time, so a damaged packet is skipped and decoding resumes at the
    next one (as a player does) instead of ending the stream there.

    Returns
    -------
    rate, channels, frames : int
    complete : bool
        False when reading the container stopped with an error before its end.
    skipped_at_s : list of float
        Decoded time (s) at which each packet that could not be decoded was skipped.
    """
    import av

    rate, channels, frames, skipped_at_s = 0, 0, 0, []
    with open(scratch, "wb") as out:
        try:
            with av.open(str(path), mode="r") as container:
                if not container.streams.audio:
                    raise EvidenceError("has no audio stream")
                stream = container.streams.audio[0]
                rate = int(stream.codec_context.sample_rate or 0)
                first_error = None
                for packet in container.demux(stream):
                    try:
                        decoded = [_frame_to_float(frame) for frame in packet.decode()]
                    except av.FFmpegError as exc:
                        skipped_at_s.append(frames / rate if rate else 0.0)
                        first_error = first_error or exc
                        continue
                    for chunk in decoded:
                        if channels and chunk.shape[1] != channels:
                            raise EvidenceError("changes its channel count mid-stream, which is not supported")
                        channels = chunk.shape[1]
                        frames += chunk.shape[0]
                        if frames * channels * 4 > MAX_DECODED_BYTES:
                            raise EvidenceError(
                                f"decodes to more than {MAX_DECODED_BYTES / (1 << 30):g} GiB of samples, "
                                "more than this tool will decode")
                        out.write(chunk.tobytes())
            if not frames and first_error is not None:
                raise first_error
            complete = True
        except av.FFmpegError as exc:
            if not frames:
                raise EvidenceError(f"could not be decoded ({clean_text(exc)})") from None
            complete = False  # keep what was decoded before the error; the report says so
    if not frames or rate <= 0:
        raise EvidenceError("contains no decodable audio samples")
    return rate, channels, frames, complete, skipped_at_s


_INT_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "s64": 9223372036854775808.0}


def _frame_to_float(frame: Any) -> np.ndarray:
    """Convert one PyAV audio frame to float32 of shape (samples, channels), full scale 1.0."""
    name = frame.format.name
    base = name.rstrip("p")
    channels = len(frame.layout.channels)
    data = frame.to_ndarray()
    if frame.format.is_planar:
        data = data.T
    else:
        data = data.reshape(-1, channels)
    if base in ("flt", "dbl"):
        return data.astype(np.float32)
    if base == "u8":
        return ((data.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    if base in _INT_SCALE:
        return (data.astype(np.float64) / _INT_SCALE[base]).astype(np.float32)
    raise EvidenceError(f"uses an unsupported decoded sample format '{name}'")


def _header_notes(extra_info: str) -> tuple[list[str], bool]:
    """What libsndfile noticed about the header: fields that disagree with the file's real size.

    Returns the notes and whether the audio data is shorter than the header declares.
    """
    notes, truncated = [], False
    for line in extra_info.splitlines():
        match = re.match(r"\s*(\w[\w ]*?)\s*:\s*(\d+)\s*\(should be (\d+)\)", line)
        if not match:
            continue
        field, declared, actual = match.group(1), int(match.group(2)), int(match.group(3))
        notes.append(f"The '{field}' size field declares {declared:,} bytes but the file holds "
                     f"{actual:,}.")
        if field == "data" and declared > actual:
            truncated = True
    if truncated:
        notes.append("The audio data is shorter than the header declares: the file is truncated "
                     "(or its header was altered). What is there was analysed.")
    return notes, truncated


def _inspect(path: Path, scratch: Path | None) -> dict[str, Any]:
    """Probe and fully decode an evidence file once; runs in a limited child process.

    For a file libsndfile reads, the decode is a trial pass in blocks (nothing is kept; the
    parent later reads on demand). Otherwise PyAV decodes it into the file ``scratch`` and the
    shape of what it wrote is returned.
    """
    structure = read_structure(path)
    probe = _probe_pyav(path)
    found = _inspect_soundfile(path, probe)
    if found is None:
        found = _inspect_pyav(path, probe, scratch)
    return {**found, "structure": structure}


def _inspect_soundfile(path: Path, probe: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a trial decode by libsndfile finds (nothing is kept), or None when it cannot read the file."""
    import soundfile as sf

    try:
        sf_info = sf.info(str(path))
        with sf.SoundFile(str(path), mode="r") as handle:
            if handle.samplerate <= 0 or handle.channels <= 0:
                raise EvidenceError("has a header with no valid sample rate or channel count")
            if handle.frames * handle.channels * 4 > MAX_DECODED_BYTES:
                raise EvidenceError(
                    f"claims {handle.frames} frames x {handle.channels} channels, more than this "
                    "tool will decode")
            decoded = 0
            for block in handle.blocks(blocksize=1 << 18, dtype="float32", always_2d=True):
                decoded += block.shape[0]
        notes, truncated = _header_notes(sf_info.extra_info)
        tags = dict(probe["tags"]) if probe else {}
        for key, value in _soundfile_tags(path).items():
            tags.setdefault(key, value)
        return {
            "decoder": f"soundfile {sf.__version__} (libsndfile {sf.__libsndfile_version__})",
            "container": probe["container"] if probe else sf_info.format.lower(),
            "codec": probe.get("codec", sf_info.subtype) if probe else sf_info.subtype,
            "sample_format": sf_info.subtype, "tags": tags, "decoded_frames": decoded,
            "notes": notes, "truncated": truncated,
            "container_duration_s": probe["container_duration_s"] if probe else None,
        }
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None


def _inspect_pyav(path: Path, probe: dict[str, Any] | None, scratch: Path | None) -> dict[str, Any]:
    """Decode with PyAV into the file ``scratch``; return the shape of what was written."""
    if probe is None:
        raise EvidenceError("is not a recognised audio or video file")
    if not probe["has_audio"]:
        raise EvidenceError(f"has no audio stream (container '{probe['container']}')")
    import av

    if scratch is None:
        raise EvidenceError(f"needs a temporary file to be decoded, and none could be made in "
                            f"{clean_text(tempfile.gettempdir())} (set TMPDIR to a writable folder)")
    rate, channels, frames, complete, skipped_at_s = _decode_pyav(path, scratch)
    notes = [] if complete else [
        "The decoder stopped with an error before the end of the stream: the file is damaged or "
        "truncated. What could be decoded was analysed."]
    if skipped_at_s:
        times = ", ".join(f"{t:.2f} s" for t in skipped_at_s[:10])
        notes.append(
            f"{len(skipped_at_s)} damaged packet(s) could not be decoded and were skipped, at "
            f"{times}{' ...' if len(skipped_at_s) > 10 else ''} of the decoded audio: what "
            "they held is missing there, and later times are earlier by as much.")
    return {
        "decoder": f"PyAV {av.__version__}", "container": probe["container"],
        "codec": probe.get("codec", "unknown"), "sample_format": probe.get("sample_format", "unknown"),
        "tags": dict(probe["tags"]), "decoded": (frames, channels), "rate": rate, "notes": notes,
        "truncated": not complete, "container_duration_s": probe["container_duration_s"],
    }


def open_evidence(path: str | os.PathLike, *, role: str = "disputed") -> Clip:
    """Open one evidence file read-only and return a :class:`Clip` with its :class:`EvidenceInfo`.

    The file is hashed, then probed and decoded once in a child process with a time and memory
    limit (:func:`workbench.core.sandbox.run_limited`), so a hostile file cannot hang or exhaust the run.
    A file libsndfile reads is then read from on demand; any other (AAC, video containers) is
    decoded into a temporary file (in ``TMPDIR``), unlinked at once and read back through an open
    descriptor.

    Parameters
    ----------
    path : path-like
        The evidence file. It is never written to.
    role : {"disputed", "reference"}
        How the report lists it.

    Raises
    ------
    EvidenceError
        When the file is missing, unreadable, empty, not audio or cannot be decoded.
    """
    path = Path(path)
    st = _check_readable(path)
    try:
        digest = sha256_file(path)
    except OSError as exc:
        raise EvidenceError(f"cannot be read: {exc.strerror or exc}") from None
    source, found = _decoded(path, timeout_s=DECODE_TIMEOUT_S + st.st_size / (1 << 20) * DECODE_S_PER_MIB)
    if source.frames <= 0:
        raise EvidenceError("contains no audio samples")
    info = EvidenceInfo(
        path=clean_text(os.fspath(path)), sha256=digest, size_bytes=st.st_size,
        container=found["container"], codec=found["codec"], sample_rate_hz=source.sample_rate_hz,
        channels=source.channels, frames=source.frames, duration_s=source.frames / source.sample_rate_hz,
        sample_format=found["sample_format"], decoder=found["decoder"], tags=found["tags"],
        container_duration_s=found["container_duration_s"], mtime_ns=st.st_mtime_ns, role=role,
        notes=found["notes"], truncated=found["truncated"], structure=found["structure"],
    )
    return Clip(source, info=info)


def _decoded(path: Path, *, timeout_s: float) -> tuple[SoundFileSource | DecodedFileSource, dict[str, Any]]:
    """Probe and decode the file in a limited child (:func:`_inspect`); return the source the
    clip reads from and what the child found."""
    try:
        handle, scratch = tempfile.mkstemp(prefix="workbench-decoded-", suffix=".f32")
    except OSError:
        handle, scratch = None, None  # only a file PyAV must decode needs it; _inspect says so
    try:
        said: list[str] = []
        found = run_limited(_inspect, path, scratch and Path(scratch), timeout_s=timeout_s, messages=said)
        if said:
            found["notes"].append(
                f"While reading the file the decoder printed {len(said)} message(s), for example "
                f"'{clean_text(said[0])[:160]}': the stream holds data it had to skip or repair.")
        if "decoded" in found:
            frames, channels = found["decoded"]
            # Read back through this descriptor; the name is unlinked below, so nothing is left
            # behind on any exit.
            source: SoundFileSource | DecodedFileSource = DecodedFileSource(
                os.dup(handle), frames=frames, channels=channels, sample_rate_hz=found["rate"])
        else:
            source = SoundFileSource(path)
    finally:
        if scratch is not None:
            os.close(handle)
            os.unlink(scratch)
    return source, found


def _soundfile_tags(path: Path) -> dict[str, str]:
    """Tags libsndfile reads (RIFF INFO, BWF, Vorbis comments), as untrusted text."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(path), mode="r") as handle:
            meta = handle.copy_metadata()
    except (sf.LibsndfileError, RuntimeError):
        return {}
    return {clean_text(k): clean_text(v) for k, v in meta.items()}


def finish_evidence(clip: Clip) -> bool:
    """Hash the evidence again after analysis and record it; return True when unchanged."""
    info = clip.info
    try:
        info.sha256_after = sha256_file(info.path)
    except OSError as exc:
        info.sha256_after = f"unreadable after analysis: {exc.strerror or exc}"
    return info.sha256_after == info.sha256
