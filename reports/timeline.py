"""Report-level figures on one time axis: the spectrogram with every flagged finding marked and
numbered (numbers match the "places to listen to" table), the analyses' tracks under it, and
for long recordings a zoom on each of the strongest flagged places."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from reports.model import Finding
from workbench.analysis import Track
from workbench.clip import Clip, Spectrogram
from reports.plotting import (
    FIGURE_WIDTH_IN, SCREEN_DPI, add_colorbar, draw_spectrogram, format_time_axis, mmss,
    new_figure, shade_findings,
)

ZOOM_FROM_S = 60.0
"""Recordings at least this long also get zoomed figures around the strongest flagged places."""
ZOOM_HALF_WIDTH_S = 3.0
MAX_ZOOMS = 4


def timeline_figure(clip: Clip, flagged: list[Finding], tracks: list[Track],
                    numbers: list[int] | None = None) -> Figure:
    """Spectrogram of ``clip`` with ``flagged`` (timeline order) as bands labelled with their
    place ``numbers`` (default 1, 2, ...; the members of a pattern share one), and one panel per
    track below it, all on the clip's time axis."""
    ratios = [3.0] + [1.0] * len(tracks)
    fig, axes = new_figure(height_in=3.6 + 1.1 * len(tracks), nrows=1 + len(tracks), height_ratios=ratios)
    ax_spec = axes[0]
    image = draw_spectrogram(ax_spec, clip.spectrogram, duration_s=clip.duration_s)
    min_width = clip.duration_s / 250
    shade_findings(ax_spec, flagged, min_width_s=min_width, numbers=numbers)
    count = len(set(numbers)) if numbers else len(flagged)
    ax_spec.set_title(
        f"Timeline: {count} flagged place{'s' if count != 1 else ''} to listen to "
        "(red, numbered as in the table)" if count else "Timeline: no flagged places",
        loc="left",
    )
    add_colorbar(fig, image, ax_spec)
    for ax, track in zip(axes[1:], tracks):
        values = np.asarray(track.values, dtype=float)
        ax.plot(track.times_s, values, color="#1f4e79", linewidth=0.9)
        shade_findings(ax, flagged, label=False, min_width_s=min_width)
        ax.set_ylabel(track.label, rotation=0, ha="right", va="center", fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(True, alpha=0.3)
        finite = values[np.isfinite(values)]
        if finite.size and np.ptp(finite) == 0:
            ax.set_ylim(finite[0] - 1, finite[0] + 1)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    format_time_axis(axes[-1], clip.duration_s)
    return fig


def zoom_figures(clip: Clip, timeline: list[Finding],
                 numbers: list[int] | None = None) -> list[tuple[int, Figure]]:
    """For recordings of ``ZOOM_FROM_S`` or more: a spectrogram +-3 s around each of the
    ``MAX_ZOOMS`` strongest flagged places (the strongest member of a pattern), as
    (place number, figure) pairs."""
    if clip.duration_s < ZOOM_FROM_S or not timeline:
        return []
    strongest_of: dict[int, Finding] = {}
    for number, finding in zip(numbers or range(1, len(timeline) + 1), timeline):
        if number not in strongest_of or finding.strength > strongest_of[number].strength:
            strongest_of[number] = finding
    strongest = sorted(strongest_of.items(), key=lambda item: -item[1].strength)[:MAX_ZOOMS]
    figures = []
    for number, finding in sorted(strongest, key=lambda item: item[1].start_s):
        lo = max(0.0, finding.start_s - ZOOM_HALF_WIDTH_S)
        hi = min(clip.duration_s, finding.end_s + ZOOM_HALF_WIDTH_S)
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 2.6), dpi=SCREEN_DPI, layout="constrained")
        ax = fig.subplots()
        part = _slice(clip.spectrogram, lo, hi)
        image = draw_spectrogram(ax, part, duration_s=hi - lo)
        image.set_extent((lo, hi, *image.get_extent()[2:]))
        ax.set_xlim(lo, hi)
        shade_findings(ax, [finding], label=False)
        ax.set_title(f"Place {number}: {finding.kind} at {mmss(finding.start_s)}", loc="left")
        ax.set_xlabel("time (s)")
        add_colorbar(fig, image, ax)
        figures.append((number, fig))
    return figures


def _slice(spec: Spectrogram, lo_s: float, hi_s: float) -> Spectrogram:
    keep = (spec.times_s >= lo_s) & (spec.times_s <= hi_s)
    return Spectrogram(spec.magnitude[:, keep], spec.freqs_hz, spec.times_s[keep], spec.n_fft,
                       spec.hop_length, spec.sample_rate_hz)
