import matplotlib
import numpy as np
import pytest

from workbench.analyses.channels import Channels
from workbench.analyses.levels import Levels
from workbench.analyses.overview import Overview
from conftest import clip_of
from fixtures import scenes
from workbench.core.plotting import mmss, new_figure, plot_gappy, si_label, time_tick_step


@pytest.mark.parametrize(
    "seconds, decimals, text",
    [(0, 1, "0:00.0"), (5.84, 1, "0:05.8"), (59.96, 1, "1:00.0"), (75, 0, "1:15"),
     (3725.25, 1, "1:02:05.2"), (-1.5, 1, "-0:01.5")],
)
def test_mmss(seconds, decimals, text):
    assert mmss(seconds, decimals=decimals) == text


@pytest.mark.parametrize("duration, step", [(3, 0.5), (12, 1), (30, 5), (600, 60), (3600, 300), (10800, 900)])
def test_time_ticks_fall_on_clock_friendly_steps(duration, step):
    assert time_tick_step(duration) == step


def test_si_labels():
    assert [si_label(v) for v in (20, 500, 1000, 2500, 20000)] == ["20", "500", "1k", "2.5k", "20k"]


def test_no_figure_shows_raw_math_text():
    """Math text is off (hostile strings), so every tick label must be plain text."""
    fixture = scenes.level_artifacts(seed=3, duration_s=24.0, sample_rate_hz=16000, channels=2)
    clip = clip_of(fixture)
    with matplotlib.rc_context({"text.parse_math": False}):
        figures = [f for a in (Overview(), Levels(), Channels()) for f in a.run(clip).figures]
        for out in figures:
            out.figure.canvas.draw()
            labels = [t.get_text() for ax in out.figure.axes
                      for t in (*ax.get_xticklabels(), *ax.get_yticklabels())]
            assert labels and not any("$" in text or "mathdefault" in text for text in labels), out.name


def test_figures_are_drawn_from_pixel_sized_arrays():
    clip = clip_of(scenes.clean(seed=2, duration_s=60.0, sample_rate_hz=8000))
    (out, *_rest) = Overview().run(clip).figures
    image = out.figure.axes[1].get_images()[0].get_array()
    assert image.shape[1] <= 1100 and image.shape[0] <= 320
    assert np.isfinite(image).all()


def test_only_flagged_findings_are_marked():
    """A candidate below the flag threshold is no numbered red band."""
    from matplotlib.figure import Figure

    from workbench.core.model import Finding
    from workbench.core.plotting import shade_findings

    ax = Figure().subplots()
    ax.set_xlim(0, 10)
    artists = shade_findings(ax, [Finding("discontinuity", 2.0, 2.0, 0.2, False, "candidate"),
                                  Finding("discontinuity", 6.0, 6.0, 0.9, True, "flagged")])
    assert len(artists) == 1 and [t.get_text() for t in ax.texts] == ["1"]


def test_a_point_measured_alone_between_gaps_is_drawn():
    """A line needs two neighbours: a lone measured window (noise floor, ENF) must still show."""
    fig, (ax,) = new_figure(height_in=2.0)
    times = np.arange(8.0)
    values = np.array([1.0, 2.0, np.nan, 5.0, np.nan, np.nan, 3.0, 4.0])
    plot_gappy(ax, times, values, color="C1")
    dots = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert len(dots) == 1
    np.testing.assert_array_equal(dots[0].get_xdata(), [3.0])
    np.testing.assert_array_equal(dots[0].get_ydata(), [5.0])
    assert dots[0].get_color() == ax.get_lines()[0].get_color()
    fig2, (ax2,) = new_figure(height_in=2.0)
    plot_gappy(ax2, times, np.arange(8.0))
    assert len(ax2.get_lines()) == 1  # nothing alone: the line only
