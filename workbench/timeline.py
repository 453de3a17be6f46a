"""The report-level timeline figure: the spectrogram with every flagged finding marked and numbered.

The numbers match the "places to listen to" table of the report (timeline order).
"""

from __future__ import annotations

from matplotlib.figure import Figure

from reports.model import Finding
from workbench.clip import Clip
from workbench.plotting import (
    add_colorbar, draw_spectrogram, draw_waveform, format_time_axis, new_figure, shade_findings,
)


def timeline_figure(clip: Clip, flagged: list[Finding]) -> Figure:
    """Waveform and spectrogram of ``clip`` with ``flagged`` (timeline order) marked as bands."""
    fig, (ax_wave, ax_spec) = new_figure(height_in=4.8, nrows=2, height_ratios=[1, 2.4])
    draw_waveform(ax_wave, clip.mono, clip.sample_rate_hz)
    image = draw_spectrogram(ax_spec, clip.spectrogram, duration_s=clip.duration_s)
    min_width = clip.duration_s / 250
    shade_findings(ax_wave, flagged, min_width_s=min_width)
    shade_findings(ax_spec, flagged, label=False, min_width_s=min_width)
    count = len(flagged)
    ax_wave.set_title(
        f"Timeline: {count} flagged place{'s' if count != 1 else ''} to listen to "
        "(red, numbered as in the table)" if count else "Timeline: no flagged places",
        loc="left",
    )
    add_colorbar(fig, image, [ax_wave, ax_spec])
    format_time_axis(ax_spec, clip.duration_s)
    ax_wave.set_xlabel("")
    return fig
