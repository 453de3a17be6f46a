"""Figure helpers shared by analyses: object-API matplotlib only, arrays the size of the picture.

Everything here draws into an ``ax`` the caller owns and returns the artist. Spectrograms and
waveforms are reduced to the figure's pixel grid before drawing (max-pooling, so short events stay
visible), which keeps rendering time and memory flat however long the clip is.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MultipleLocator, NullFormatter

from workbench.core.clip import Clip
from workbench.core.model import Finding
from workbench.core.spectrogram import Spectrogram

FIGURE_WIDTH_IN = 11.0
PRINT_WIDTH_IN = 186 / 25.4
"""Width of the PDF's text column (A4 less its 12 mm margins): an 11-in figure prints at 0.67."""
SMALL_PT = 10.6
"""The smallest text in a figure: 10.6 pt in an 11-in figure prints at 7 pt on A4."""
FIGURE_RC = {
    "text.parse_math": False, "text.usetex": False, "font.size": 11.0, "axes.titlesize": 11.5,
    "axes.labelsize": 11.0, "xtick.labelsize": SMALL_PT, "ytick.labelsize": SMALL_PT,
    "legend.fontsize": SMALL_PT,
}
"""Matplotlib settings every figure is drawn with: no math text from untrusted strings, and text
that stays legible in print."""
SCREEN_DPI = 110
PLOT_WIDTH_PX = 1100
FLAG_COLOR = "#d62728"
TIME_TICK_STEPS_S = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900,
                     1800, 3600)
LOG_FREQ_TICKS_HZ = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)


def new_figure(
    *, height_in: float, nrows: int = 1, sharex: bool = True, height_ratios: Sequence[float] | None = None
) -> tuple[Figure, list]:
    """Return a Figure (no pyplot) and its list of axes, stacked vertically."""
    fig = Figure(figsize=(FIGURE_WIDTH_IN, height_in), dpi=SCREEN_DPI, layout="constrained")
    axes = fig.subplots(
        nrows, 1, sharex=sharex, squeeze=False, gridspec_kw={"height_ratios": height_ratios}
    )
    return fig, list(axes[:, 0])


def plot_gappy(ax, times, values, **style):
    """Plot a track whose unmeasured points are NaN: lines where neighbours were measured, and a
    dot of the same colour for a point measured alone, which a line cannot draw. Returns the
    line artist (the one that carries ``label``)."""
    times, values = np.asarray(times, dtype=float), np.asarray(values, dtype=float)
    (line,) = ax.plot(times, values, **style)
    finite = np.isfinite(values)
    alone = finite & ~np.r_[False, finite[:-1]] & ~np.r_[finite[1:], False]
    if alone.any():
        ax.plot(times[alone], values[alone], linestyle="none", marker="o", markersize=2.5,
                color=line.get_color())
    return line


def mmss(seconds: float, *, decimals: int = 1) -> str:
    """Format seconds as ``m:ss.s`` (``h:mm:ss.s`` from one hour on)."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(float(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    width = 3 + decimals if decimals else 2
    text = f"{secs:0{width}.{decimals}f}"
    if text.startswith("60"):
        minutes, text = minutes + 1, f"{0:0{width}.{decimals}f}"
    if hours:
        return f"{sign}{int(hours)}:{int(minutes):02d}:{text}"
    return f"{sign}{int(minutes)}:{text}"


def time_tick_step(duration_s: float, *, max_ticks: int = 12) -> float:
    """The smallest clock-friendly tick step (s) that puts at most ``max_ticks`` ticks on the axis."""
    for step in TIME_TICK_STEPS_S:
        if duration_s / step <= max_ticks:
            return step
    return 3600.0 * np.ceil(duration_s / 3600.0 / max_ticks)


def format_time_axis(ax, duration_s: float) -> None:
    """Limit ``ax`` to the clip and label its x axis in m:ss at clock-friendly steps."""
    step = time_tick_step(duration_s)
    decimals = 0 if step >= 1 else (1 if step >= 0.1 else 2)
    ax.set_xlim(0, duration_s)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: mmss(x, decimals=decimals)))
    ax.set_xlabel("time (m:ss)")


def _pool_max(values: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Max-pool ``values`` along ``axis`` down to at most ``n_out`` cells."""
    n_in = values.shape[axis]
    if n_in <= n_out:
        return values
    edges = np.linspace(0, n_in, n_out + 1).astype(int)
    return np.maximum.reduceat(values, edges[:-1], axis=axis)


def draw_waveform(ax, clip: Clip, *, color: str = "#1f4e79"):
    """Draw the min/max envelope of the clip's mono mix (full scale 1.0) against time, one
    column per pixel; return the artist."""
    low, high = clip.envelope(PLOT_WIDTH_PX)
    t = np.linspace(0, clip.duration_s, low.size)
    artist = ax.fill_between(t, low, high, color=color, linewidth=0.6, step="mid")
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("amplitude (FS)")
    ax.grid(True, alpha=0.3)
    return artist


def draw_spectrogram(
    ax, spec: Spectrogram, *, duration_s: float, log_freq: bool = False, fmin_hz: float = 20.0,
    height_px: int = 200, dynamic_range_db: float = 100.0, top_hz: float | None = None,
):
    """Draw a spectrogram reduced to the plot's pixel grid; return the image artist.

    With ``log_freq`` the rows are log-spaced from ``fmin_hz`` to Nyquist and the y axis is
    labelled in Hz at decade steps. ``top_hz`` ends the picture at the first bin at or above it
    instead of at Nyquist.
    """
    keep = spec.n_bins if top_hz is None else int(np.searchsorted(spec.freqs_hz, top_hz)) + 1
    freqs = spec.freqs_hz[:keep]
    db = 20.0 * np.log10(np.maximum(spec.pooled_max(PLOT_WIDTH_PX)[:keep], 1e-10) / (spec.n_fft / 4))
    nyquist = float(freqs[-1])
    if log_freq:
        rows = np.geomspace(fmin_hz, nyquist, height_px + 1)
        index = np.clip(np.searchsorted(freqs, rows), 0, len(freqs) - 1)
        image = np.stack(
            [db[index[i] : max(index[i + 1], index[i] + 1)].max(axis=0) for i in range(height_px)]
        )
        extent = (0, duration_s, np.log10(fmin_hz), np.log10(nyquist))
    else:
        image = _pool_max(db, height_px, axis=0)
        extent = (0, duration_s, 0, nyquist / 1000.0)
    vmax = float(np.percentile(image, 99.9)) if image.size else 0.0
    artist = ax.imshow(
        image, origin="lower", aspect="auto", extent=extent, cmap="magma",
        vmin=vmax - dynamic_range_db, vmax=vmax, interpolation="nearest",
    )
    if log_freq:
        ticks = [f for f in LOG_FREQ_TICKS_HZ if fmin_hz <= f <= nyquist]
        ax.set_yticks(np.log10(ticks))
        ax.set_yticklabels([f"{f / 1000:g}k" if f >= 1000 else f"{f:g}" for f in ticks])
        ax.set_ylabel("frequency (Hz, log)")
    else:
        ax.set_ylabel("frequency (kHz)")
    return artist


def si_label(value: float) -> str:
    """A tick label without math text: 20, 500, 1k, 2.5k, 10k, 1M."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


def plain_log_axis(axis, *, ticks: Sequence[float] | None = None) -> None:
    """Label a log-scaled axis with plain numbers (math text is off for safety, so the default
    ``10^k`` labels would show as raw TeX). ``ticks`` fixes the tick positions."""
    if ticks is not None:
        axis.set_ticks(list(ticks))
    else:
        axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: si_label(v)))
    axis.set_minor_formatter(NullFormatter())


def legend_outside(ax):
    """Put the legend to the right of ``ax``, where it hides no data."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=SMALL_PT, borderaxespad=0)


def add_colorbar(fig: Figure, artist, ax, *, label: str = "dB re full-scale sine"):
    """Attach a slim colour bar for ``artist`` beside ``ax``."""
    bar = fig.colorbar(artist, ax=ax, pad=0.01, fraction=0.03)
    bar.set_label(label)
    return bar


def shade_findings(ax, findings: Iterable[Finding], *, label: bool = True, min_width_s: float = 0.0,
                   numbers: Iterable[int] | None = None):
    """Mark flagged findings as translucent bands, each labelled with its number and kind.

    Bands narrower than ``min_width_s`` are widened to it so they stay visible. Unflagged
    findings (candidates below a flag threshold, notes) are not marked: a numbered red band
    reads as a place to listen to. ``numbers`` label the flagged findings in order (default
    1, 2, ...); a number already drawn is not drawn again (the members of one pattern).
    """
    artists = []
    findings = list(findings)
    if numbers is None:
        pairs = list(enumerate((f for f in findings if f.flagged), start=1))
    else:
        pairs = [(n, f) for n, f in zip(numbers, findings) if f.flagged]
    findings = [f for _, f in pairs]
    drawn: set[int] = set()
    span = ax.get_xlim()[1] - ax.get_xlim()[0] if findings else 1.0
    previous_label_s, tier = -np.inf, 0
    for number, finding in pairs:
        start, end = finding.start_s, max(finding.end_s, finding.start_s)
        if end - start < min_width_s:
            middle = (start + end) / 2
            start, end = middle - min_width_s / 2, middle + min_width_s / 2
        artists.append(ax.axvspan(start, end, color=FLAG_COLOR, alpha=0.25, linewidth=0))
        ax.axvline(finding.start_s, color=FLAG_COLOR, linewidth=1.0, alpha=0.9)
        if label and number not in drawn:
            drawn.add(number)
            # Labels of close places step down in tiers so their numbers do not overlap.
            tier = (tier + 1) % 3 if start - previous_label_s < 0.025 * span else 0
            previous_label_s = start
            ax.annotate(
                f"{number}", xy=(start, 1.0), xycoords=("data", "axes fraction"),
                xytext=(2, -2 - 16 * tier), textcoords="offset points", va="top", ha="left",
                fontsize=SMALL_PT, color="white", fontweight="bold",
                bbox={"boxstyle": "round,pad=0.15", "fc": FLAG_COLOR, "ec": "none"},
            )
    return artists
