"""Audio excerpts at the places to listen to.

Each numbered place of the timeline (a pattern's strongest member) is cut from the evidence with
``CONTEXT_S`` either side and written losslessly beside the report (``excerpts/place-NN.flac``),
with a small figure of its waveform and spectrogram with the place marked. The HTML embeds them
as data URIs up to a stated size; ``workbench excerpt`` cuts the same spans again from the
evidence. The report records each span, format and SHA-256, so an excerpt can be checked
against the evidence it came from.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from workbench.core.atomic import atomic_write_bytes
from workbench.core.clip import Clip
from workbench.core.plotting import FIGURE_WIDTH_IN, FLAG_COLOR, SCREEN_DPI, SMALL_PT, mmss

CONTEXT_S = 2.0
"""Seconds of audio kept before and after each place."""
MAX_PLACE_S = 10.0
"""Of a longer place, its first ``MAX_PLACE_S`` seconds are excerpted."""
MAX_EXCERPTS = 12
"""At most this many places (the strongest) get an excerpt; the report says when there are more."""
EMBED_BUDGET_BYTES = 1_000_000
"""The HTML embeds excerpts, the strongest places first, while their files fit in this many bytes
in all (a third more as base64), so that the self-contained page of a 30-s clip stays under 3 MB;
the others are named with their files, and the page says so."""
SIXTEEN_BIT = ("PCM_S8", "PCM_U8", "PCM_16", "ULAW", "ALAW", "IMA_ADPCM", "MS_ADPCM", "GSM610", "G721_32",
               "G723_24", "G723_40", "DWVW_12", "DWVW_16", "VOX_ADPCM", "s16", "s16p", "u8", "u8p")
"""Sample formats whose every value a 16-bit FLAC holds exactly; anything else is written in 24 bits."""


def excerpt_span(start_s: float, end_s: float, duration_s: float) -> tuple[float, float]:
    """The excerpt (s) around a place: ``CONTEXT_S`` either side of its first ``MAX_PLACE_S``."""
    end_s = min(max(end_s, start_s), start_s + MAX_PLACE_S)
    return max(0.0, start_s - CONTEXT_S), min(duration_s, end_s + CONTEXT_S)


def excerpt_subtype(sample_format: str) -> str:
    """The FLAC subtype that keeps a clip of ``sample_format``: PCM_16 or PCM_24."""
    return "PCM_16" if sample_format in SIXTEEN_BIT else "PCM_24"


def excerpt_bytes(clip: Clip, lo_s: float, hi_s: float, *, container: str | None = None) -> bytes:
    """Frames ``[lo_s, hi_s)`` of every channel as a ``container`` ("FLAC" or "WAV"; by default
    FLAC, WAV above 8 channels) file, in memory."""
    import io

    import soundfile as sf

    start, stop = int(round(lo_s * clip.sample_rate_hz)), int(round(hi_s * clip.sample_rate_hz))
    samples = np.clip(clip.read(start, stop), -1.0, 1.0)
    sample_format = str((clip.info.sample_format if clip.info else "") or "")
    buffer = io.BytesIO()
    container = container or ("FLAC" if clip.channels <= 8 else "WAV")
    sf.write(buffer, samples, clip.sample_rate_hz, format=container, subtype=excerpt_subtype(sample_format))
    return buffer.getvalue()


def strongest_by_place(timeline: list[Any], numbers: list[int]) -> dict[int, Any]:
    """The strongest finding of each place, by place number (``numbers`` as
    :func:`workbench.reports.patterns.place_numbers` gives them for ``timeline``)."""
    strongest: dict[int, Any] = {}
    for number, finding in zip(numbers, timeline):
        if number not in strongest or finding.strength > strongest[number].strength:
            strongest[number] = finding
    return strongest


def places_to_excerpt(timeline: list[Any], numbers: list[int]) -> list[tuple[int, Any]]:
    """(place number, finding) for the strongest member of each place, the ``MAX_EXCERPTS``
    strongest places, in place order."""
    strongest = strongest_by_place(timeline, numbers)
    chosen = sorted(strongest.items(), key=lambda item: -item[1].strength)[:MAX_EXCERPTS]
    return sorted(chosen, key=lambda item: item[0])


def write_excerpts(clip: Clip, timeline: list[Any], numbers: list[int], outdir: Path,
                   save_figure) -> dict[str, Any]:
    """Write an excerpt and its figure for each place chosen by :func:`places_to_excerpt`.

    Returns
    -------
    dict
        ``context_s``, ``places`` (how many numbered places there are), ``items`` (one per
        excerpt: place number, kind, the place's and the excerpt's span in s, file, format,
        SHA-256, size, figure) and ``left_out`` (place numbers without an excerpt).
    """
    chosen = places_to_excerpt(timeline, numbers)
    items = []
    for number, finding in chosen:
        lo, hi = excerpt_span(finding.start_s, finding.end_s, clip.duration_s)
        if hi - lo <= 0:
            continue
        data = excerpt_bytes(clip, lo, hi)
        relative = f"excerpts/place-{number:02d}.flac" if clip.channels <= 8 else f"excerpts/place-{number:02d}.wav"
        atomic_write_bytes(outdir / relative, data)
        figure = f"figures/excerpt-{number:02d}.png"
        save_figure(excerpt_figure(clip, lo, hi, finding, number), outdir / figure)
        items.append({
            "place": number, "kind": finding.kind, "place_start_s": finding.start_s,
            "place_end_s": finding.end_s, "start_s": lo, "end_s": hi, "path": relative,
            "format": f"{'FLAC' if relative.endswith('.flac') else 'WAV'} "
                      f"{excerpt_subtype(str(clip.info.sample_format if clip.info else ''))[4:]}-bit",
            "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data), "figure": figure,
        })
    excerpted = {item["place"] for item in items}
    return {"context_s": CONTEXT_S, "places": len(set(numbers)), "items": items,
            "left_out": sorted(set(numbers) - excerpted)}


def excerpt_figure(clip: Clip, lo_s: float, hi_s: float, finding: Any, number: int) -> Figure:
    """Waveform over spectrogram of ``[lo_s, hi_s)`` with the place shaded, on one time axis."""
    import librosa

    start, stop = int(lo_s * clip.sample_rate_hz), int(hi_s * clip.sample_rate_hz)
    y = clip.mono_range(start, stop)
    t = lo_s + np.arange(y.size) / clip.sample_rate_hz
    fig = Figure(figsize=(FIGURE_WIDTH_IN * 0.62, 2.7), dpi=SCREEN_DPI, layout="constrained")
    ax_wave, ax_spec = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2]})
    step = max(1, y.size // 1400)
    pooled_t = t[: y.size // step * step : step]
    shaped = y[: y.size // step * step].reshape(-1, step) if step > 1 else y[:, None]
    ax_wave.fill_between(pooled_t, shaped.min(axis=1), shaped.max(axis=1), color="#1f4e79", linewidth=0.5)
    ax_wave.set_ylim(-1.05, 1.05)
    ax_wave.set_ylabel("FS", fontsize=SMALL_PT)
    n_fft = 512 if clip.sample_rate_hz <= 16000 else 1024
    if y.size >= n_fft:
        db = librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=n_fft, hop_length=n_fft // 4)), ref=np.max,
                                     top_db=90)
        ax_spec.imshow(db, origin="lower", aspect="auto", cmap="magma", interpolation="nearest",
                       extent=(lo_s, hi_s, 0, clip.sample_rate_hz / 2000))
    ax_spec.set_ylabel("kHz", fontsize=SMALL_PT)
    ax_spec.set_xlabel("time in the recording (m:ss)", fontsize=SMALL_PT)
    ax_spec.set_xlim(lo_s, hi_s)
    ticks = np.linspace(lo_s, hi_s, 5)
    ax_spec.set_xticks(ticks)
    ax_spec.set_xticklabels([mmss(v, decimals=2) for v in ticks])
    for ax in (ax_wave, ax_spec):
        end = max(finding.end_s, finding.start_s + (hi_s - lo_s) / 200)
        ax.axvspan(finding.start_s, end, color=FLAG_COLOR, alpha=0.3, linewidth=0)
        ax.axvline(finding.start_s, color=FLAG_COLOR, linewidth=1.0)
        ax.tick_params(labelsize=SMALL_PT)
    ax_wave.set_title(f"Place {number}: {finding.kind} at {mmss(finding.start_s, decimals=2)} "
                      f"(excerpt {mmss(lo_s, decimals=2)} to {mmss(hi_s, decimals=2)})", loc="left", fontsize=SMALL_PT + 0.5)
    return fig
