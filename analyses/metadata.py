"""``metadata``: observations on the container, codec and tags, read as untrusted text."""

from __future__ import annotations

import re
from pathlib import PurePath

from workbench.analysis import Analysis, Finding, Result, require
from workbench.clip import Clip

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
LOSSY_CODECS = ("mp3", "aac", "opus", "vorbis", "amr_nb", "amr_wb", "gsm", "gsm_ms", "wmav2",
                "ac3", "eac3", "mp2", "speex", "adpcm")


class Metadata(Analysis):
    """Container, codec and tag observations (``metadata_note`` findings).

    Parameters
    ----------
    duration_tolerance_s : float >= 0
        Container duration and decoded length may differ by this much before it is noted.
    """

    name = "metadata"
    version = "1.0"
    description = "Container vs extension, encoder and software strings, creation times, odd formats."
    measures = (
        "Whether the file's extension matches its real container; encoder and software strings "
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

    def __init__(self, *, duration_tolerance_s: float = 0.1):
        require(duration_tolerance_s >= 0, "metadata.duration_tolerance_s must be >= 0")
        self.duration_tolerance_s = float(duration_tolerance_s)

    def run(self, clip: Clip) -> Result:
        info = clip.info
        if info is None:
            return Result.skipped("the audio was not read from a file, so there is no metadata")
        notes: list[tuple[str, float]] = []
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
        lossy_in_pcm_container = info.container in ("wav", "aiff") and any(
            info.codec.startswith(c) for c in LOSSY_CODECS
        )
        if lossy_in_pcm_container:
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
        findings = [
            Finding(kind="metadata_note", start_s=0.0, end_s=clip.duration_s, strength=strength,
                    flagged=False, summary=summary)
            for summary, strength in notes
        ]
        measurements = {
            "extension": extension,
            "container": info.container,
            "codec": info.codec,
            "lossy_codec": any(info.codec.startswith(c) for c in LOSSY_CODECS),
            "tag_count": len(info.tags),
            "software_tags": software,
            "time_tags": times,
            "container_duration_s": info.container_duration_s,
        }
        return Result(measurements=measurements, findings=findings)
