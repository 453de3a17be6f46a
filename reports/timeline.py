"""The report-level figure on one time axis: the spectrogram with every flagged finding marked and
numbered (numbers match the "places to listen to" table) and the analyses' tracks under it.
Each place's own close-up is drawn with its audio excerpt (:mod:`workbench.reports.excerpts`)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from workbench.core.analysis import Track
from workbench.core.clip import Clip
from workbench.core.model import Finding
from workbench.core.plotting import (
    SMALL_PT, add_colorbar, draw_spectrogram, format_time_axis, new_figure, plot_gappy, shade_findings,
)


def timeline_figure(clip: Clip, flagged: list[Finding], tracks: list[Track],
                    numbers: list[int] | None = None) -> Figure:
    """Spectrogram of ``clip`` with ``flagged`` (timeline order) as bands labelled with their
    place ``numbers`` (default 1, 2, ...; the members of a pattern share one), and one panel per
    track below it, all on the clip's time axis."""
    empty = [not np.isfinite(np.asarray(track.values, dtype=float)).any() for track in tracks]
    ratios = [3.0] + [0.3 if nothing else 1.0 for nothing in empty]
    fig, axes = new_figure(height_in=3.6 + sum(ratios[1:]) * 1.1, nrows=1 + len(tracks), height_ratios=ratios)
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
    for ax, track, nothing in zip(axes[1:], tracks, empty):
        values = np.asarray(track.values, dtype=float)
        ax.set_ylabel(track.label, rotation=0, ha="right", va="center", fontsize=SMALL_PT)
        if nothing:
            ax.set_yticks([])
            ax.text(0.5, 0.5, "nothing measured in this clip", transform=ax.transAxes, ha="center",
                    va="center", fontsize=SMALL_PT, color="#5b6470")
            continue
        if track.spans_s is None:
            plot_gappy(ax, track.times_s, values, color="#1f4e79", linewidth=0.9)
        else:
            half = np.broadcast_to(np.asarray(track.spans_s, dtype=float), values.shape) / 2
            times = np.asarray(track.times_s, dtype=float)
            ax.hlines(values, times - half, times + half, color="#1f4e79", linewidth=2.2)
        shade_findings(ax, flagged, label=False, min_width_s=min_width)
        ax.tick_params(axis="y", labelsize=SMALL_PT)
        ax.grid(True, alpha=0.3)
        finite = values[np.isfinite(values)]
        if finite.size and np.ptp(finite) == 0:
            ax.set_ylim(finite[0] - 1, finite[0] + 1)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    format_time_axis(axes[-1], clip.duration_s)
    return fig
