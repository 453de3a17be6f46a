"""``metadata``: observations on the container, codec and tags, read as untrusted text."""

from __future__ import annotations

import re
from pathlib import PurePath

import numpy as np

from workbench.analyses.common.comparable import Category
from workbench.core.analysis import Analysis, FigureOut, Finding, FindingKind, Result, param
from workbench.core.clip import Clip
from workbench.core.plotting import SMALL_PT, new_figure

EXPECTED_CONTAINERS = {
    ".wav": ("wav",),
    ".wave": ("wav",),
    ".rf64": ("wav", "rf64"),
    ".bwf": ("wav",),
    ".flac": ("flac",),
    ".mp3": ("mp3",),
    ".ogg": ("ogg",),
    ".oga": ("ogg",),
    ".opus": ("ogg",),
    ".m4a": ("mov,mp4,m4a,3gp,3g2,mj2",),
    ".mp4": ("mov,mp4,m4a,3gp,3g2,mj2",),
    ".mov": ("mov,mp4,m4a,3gp,3g2,mj2",),
    ".3gp": ("mov,mp4,m4a,3gp,3g2,mj2",),
    ".aac": ("aac",),
    ".webm": ("matroska,webm",),
    ".mkv": ("matroska,webm",),
    ".amr": ("amr",),
    ".aif": ("aiff",),
    ".aiff": ("aiff",),
}

SOFTWARE_PATTERNS = {
    "FFmpeg (libavformat/libavcodec)": re.compile(r"\b(lavf|lavc|ffmpeg)", re.IGNORECASE),
    "LAME MP3 encoder": re.compile(r"\blame", re.IGNORECASE),
    "SoX": re.compile(r"\bsox\b", re.IGNORECASE),
    "Audacity": re.compile(r"audacity", re.IGNORECASE),
    "Adobe Audition": re.compile(r"audition", re.IGNORECASE),
    "GoldWave": re.compile(r"goldwave", re.IGNORECASE),
    "Reaper": re.compile(r"\breaper\b", re.IGNORECASE),
    "libsndfile": re.compile(r"libsndfile", re.IGNORECASE),
    "a text-to-speech or voice tool": re.compile(
        r"\b(tts|elevenlabs|tortoise|coqui|bark|voicebox|vall-?e|resemble)\b", re.IGNORECASE
    ),
}
SOFTWARE_TAG_KEYS = re.compile(
    r"(^|\.)(encoder|encoded_by|software|isft|handler_name|tool|comment|icmt|originator|coding_history)$",
    re.IGNORECASE,
)
TIME_TAG_KEYS = re.compile(
    r"(^|\.)(creation_time|date|icrd|origination_date|origination_time|year|tdrc|encoded_date)$",
    re.IGNORECASE,
)
STANDARD_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000,
                     176400, 192000)
DECLARED_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32}
FLOAT_FORMATS = ("FLOAT", "DOUBLE")
MAX_BIT_SAMPLES = 5_000_000
"""The bit-usage count looks at no more than this many samples (spread over the clip)."""
BIT_CHUNK_SAMPLES = 500_000
"""Samples counted at a time (their 64-bit copies stay small)."""
LOSSY_CODECS = ("mp3", "aac", "opus", "vorbis", "amr_nb", "amr_wb", "gsm", "gsm_ms", "wmav2",
                "ac3", "eac3", "mp2", "speex", "adpcm")


def software_named(measurements: dict) -> str:
    """The encoders and programs recognised in the tags, sorted and joined ("none" if none)."""
    names = sorted({name for tag in measurements.get("software_tags") or [] for name in tag.get("recognised", [])})
    return ", ".join(names) or "none"


class Metadata(Analysis):
    """Container, codec and tag observations (``metadata_note`` findings)."""

    name = "metadata"
    version = "1.0"
    description = "Container vs extension, encoder and software strings, creation times, odd formats."
    measures = (
        "Whether the file's extension matches its real container; how many bits of the declared "
        "sample format the samples really use (a 24-bit or float file holding 16-bit values was "
        "converted from a 16-bit source); encoder and software strings "
        "in the tags (a muxer such as FFmpeg's Lavf shows the file was written or re-written by "
        "software, not necessarily by the recording device); creation and date tags; unusual "
        "sample rates or sample formats; a container duration that disagrees with the decoded audio."
    )
    cannot_show = (
        "Tags are written by whatever software last saved the file and can be edited by anyone: "
        "they are leads, not proof. Their absence shows nothing, since many apps and platforms "
        "strip them. A re-encoding or re-muxing note is expected for audio taken from a social "
        "media platform or messenger and does not by itself mean the content was changed."
    )

    kinds = (
        FindingKind("metadata_note", "fixed per kind of note: 0.8 a renamed file or a header that disagrees "
                    "with the file, 0.6 writing software or a duration that disagrees, 0.3-0.5 the rest",
                    flagged=False),
    )
    measurement_keys = (
        "codec", "container", "container_duration_s", "declared_bits", "effective_bits",
        "extension", "lossy_codec", "software_tags", "tag_count", "time_tags",
    )

    comparable = (
        Category("effective_bits", "Bits in use"),
        Category("software", "Encoder / software named in tags", read=software_named,
                 reads=("software_tags",)),
    )

    duration_tolerance_s: float = param(0.1, "Container duration and decoded length may differ by "
                                        "this much before it is noted.", at_least=0)

    def run(self, clip: Clip) -> Result:
        info = clip.info
        if info is None:
            return Result.skipped("the audio was not read from a file, so there is no metadata")
        notes: list[tuple[str, float]] = [(note, 0.8) for note in info.notes]
        extension = PurePath(info.path).suffix.lower()
        expected = EXPECTED_CONTAINERS.get(extension)
        if expected is not None and info.container not in expected:
            notes.append((
                f"The extension '{extension}' does not match the real container "
                f"'{info.container}': the file was renamed or written by software that mislabels it.",
                0.8,
            ))
        elif expected is None:
            notes.append((f"The extension '{extension or '(none)'}' is not a usual audio extension "
                          f"(real container: '{info.container}').", 0.3))
        software = []
        noted_values = set()
        for key, value in sorted(info.tags.items()):
            if SOFTWARE_TAG_KEYS.search(key):
                names = [name for name, pattern in SOFTWARE_PATTERNS.items() if pattern.search(value)]
                software.append({"tag": key, "value": value, "recognised": names})
                # Decoders expose one chunk under several names (ISFT as encoder and software).
                if names and value not in noted_values:
                    noted_values.add(value)
                    notes.append((
                        f"Tag '{key}' = '{value}' names {', '.join(names)}: the file was written "
                        "or re-written by that software.",
                        0.6,
                    ))
        times = {k: v for k, v in sorted(info.tags.items()) if TIME_TAG_KEYS.search(k)}
        for key, value in times.items():
            notes.append((f"Tag '{key}' gives a date or time: '{value}'. Compare it with the claimed "
                          "time of recording.", 0.3))
        if info.sample_rate_hz not in STANDARD_RATES_HZ:
            notes.append((f"The sample rate {info.sample_rate_hz} Hz is not a standard rate.", 0.5))
        lossy_codec = info.codec.startswith(LOSSY_CODECS)
        if lossy_codec and info.container in ("wav", "aiff"):
            notes.append((f"A '{info.container}' container holds lossy '{info.codec}' audio.", 0.5))
        if info.sample_format.upper() in ("FLOAT", "DOUBLE") and info.container == "wav":
            notes.append(("Floating-point WAV samples: written by editing or processing software "
                          "more often than by a recorder.", 0.4))
        if info.container_duration_s is not None and (
            abs(info.container_duration_s - info.duration_s) > self.duration_tolerance_s
        ):
            notes.append((
                f"The container states {info.container_duration_s:.3f} s but "
                f"{info.duration_s:.3f} s of audio were decoded: the file may be truncated or "
                "padded, or its header was rewritten.",
                0.6,
            ))
        bits = bit_usage(_spread_frames(clip, MAX_BIT_SAMPLES // clip.channels), info.sample_format)
        figures = []
        if bits is not None:
            declared, used, effective = bits
            figures.append(self._bit_figure(declared, used, effective, info.sample_format))
            if effective < declared:
                notes.append((
                    f"The file declares {declared}-bit samples ({info.sample_format}) but only "
                    f"{effective} bits are ever used: it was converted from a {effective}-bit "
                    "source or processed at that resolution.",
                    0.5,
                ))
        findings = [
            Finding(kind="metadata_note", start_s=0.0, end_s=clip.duration_s, strength=strength,
                    flagged=False, summary=summary)
            for summary, strength in notes
        ]
        measurements = {
            "extension": extension,
            "container": info.container,
            "codec": info.codec,
            "lossy_codec": lossy_codec,
            "tag_count": len(info.tags),
            "software_tags": software,
            "time_tags": times,
            "container_duration_s": info.container_duration_s,
            "declared_bits": bits[0] if bits else None,
            "effective_bits": bits[2] if bits else None,
        }
        return Result(measurements=measurements, findings=findings, figures=figures)

    def _bit_figure(self, declared: int, used: np.ndarray, effective: int, sample_format: str) -> FigureOut:
        fig, (ax,) = new_figure(height_in=2.8, sharex=False)
        positions = np.arange(declared)
        colors = ["#1f4e79" if u > 0 else "#d62728" for u in used]
        ax.bar(positions, used * 100, color=colors, width=0.8)
        ax.set_xticks(positions)
        ax.set_xticklabels([str(declared - p) for p in positions], fontsize=SMALL_PT)
        ax.set_xlabel(f"bit, from most to least significant (of {declared} declared, {sample_format})")
        ax.set_ylabel("samples with bit set (%)")
        ax.set_ylim(0, 60)
        ax.set_title(
            f"Bit usage: {effective} of {declared} bits carry signal (red: never set)", loc="left"
        )
        ax.grid(True, axis="y", alpha=0.3)
        return FigureOut(
            "bit-usage", fig,
            "Share of samples in which each bit of the magnitude is set. Ordinary recordings use "
            "every bit about half the time down to the least significant; low bits that are never "
            "set show the samples came from a lower-resolution source.",
        )


def _spread_frames(clip: Clip, count: int, stretches: int = 100) -> np.ndarray:
    """About ``count`` frames in ``stretches`` evenly spread runs (all frames of a short clip)."""
    if clip.frames <= count:
        return clip.read(0, clip.frames)
    length = max(1, count // stretches)
    starts = np.linspace(0, clip.frames - length, stretches).astype(int)
    return np.concatenate([clip.read(start, start + length) for start in starts])


def bit_usage(samples: np.ndarray, sample_format: str) -> tuple[int, np.ndarray, int] | None:
    """How many bits of the declared integer format the samples use.

    Parameters
    ----------
    samples : np.ndarray [shape=(frames, channels)]
        Decoded samples, full scale 1.0.
    sample_format : str
        libsndfile subtype (PCM_16, PCM_24, FLOAT, ...). Float files are checked against a 24-bit
        grid. Lossy or unknown formats give None.

    Returns
    -------
    (declared_bits, used, effective_bits) or None
        ``used[i]`` is the fraction of samples whose magnitude has bit ``declared_bits - 1 - i``
        set (most significant first); ``effective_bits`` counts down to the lowest bit ever set.
    """
    fmt = sample_format.upper()
    declared = DECLARED_BITS.get(fmt) or (24 if fmt in FLOAT_FORMATS else None)
    if declared is None:
        return None
    flat = samples.reshape(-1)
    if flat.size > MAX_BIT_SAMPLES:
        flat = flat[:: int(np.ceil(flat.size / MAX_BIT_SAMPLES))]
    counts = np.zeros(declared, dtype=np.int64)
    for first in range(0, flat.size, BIT_CHUNK_SAMPLES):
        scaled = flat[first : first + BIT_CHUNK_SAMPLES].astype(np.float64) * 2.0 ** (declared - 1)
        if fmt in FLOAT_FORMATS and not np.allclose(scaled, np.round(scaled), atol=1e-3):
            return None  # real float data, not integers on a grid: there is no bit depth to read
        magnitude = np.abs(np.round(scaled)).astype(np.int64)
        counts += [np.count_nonzero((magnitude >> bit) & 1) for bit in range(declared - 1, -1, -1)]
    used = counts / flat.size if flat.size else np.full(declared, np.nan)
    set_bits = np.flatnonzero(used > 0)
    lowest = declared - 1 - set_bits[-1] if set_bits.size else declared
    return declared, used, declared - lowest
