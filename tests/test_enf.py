import numpy as np
import pytest

from workbench.analyses import enf
from workbench.analyses.enf import Enf, parse_grid_log
from conftest import clip_of, flagged, lands_near
from workbench.material import plant
from fixtures import scenes
from workbench.core.clip import Clip
from workbench.core.errors import ParameterError


@pytest.mark.parametrize("rate", [8000, 44100])
@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_nominal_frequency_is_found_and_clean_hum_has_no_jump(rate, mains):
    fixture = scenes.clean(seed=71, duration_s=24.0, sample_rate_hz=rate, mains_hz=mains)
    result = Enf().run(clip_of(fixture))
    m = result.measurements
    assert m["enf_nominal_hz"] == mains and m["enf_snr_db"] > 20
    assert abs(m["enf_mean_hz"] - mains) < 0.05
    assert flagged(result, "enf_discontinuity") == []


@pytest.mark.parametrize("rate", [16000, 48000])
def test_no_hum_gives_null_and_no_flag(rate):
    fixture = scenes.clean(seed=72, duration_s=24.0, sample_rate_hz=rate, mains_hz=None)
    result = Enf().run(clip_of(fixture))
    assert result.measurements["enf_nominal_hz"] is None
    assert result.findings == []
    assert "no mains hum found" in result.measurements["summary"]


@pytest.mark.parametrize("rate, duration_s", [(16000, 30.0), (44100, 30.0), (44100, 30.011)])
def test_cut_leaves_a_phase_jump_where_it_was_made(rate, duration_s):
    """Also at a length whose 1 kHz analysis signal is a prime number of samples (30,011): the
    phase is then taken through a zero-padded FFT."""
    fixture = scenes.clean(seed=73, duration_s=duration_s, sample_rate_hz=rate, mains_hz=50.0)
    samples, truth = plant.enf_cut(fixture.samples, rate, at_s=13.37, phase_jump_rad=1.5)
    result = Enf().run(clip_of(scenes.Fixture(samples, rate)))
    hits = flagged(result, "enf_discontinuity")
    assert len(hits) == 1 and lands_near(hits, truth, tolerance_s=1.0)
    assert abs(abs(hits[0].details["phase_jump_rad"]) - 1.5) < 0.4


@pytest.mark.parametrize("rate", [16000, 44100])
def test_cut_is_found_under_a_noisy_room_and_the_clean_noisy_room_is_not_flagged(rate):
    """Room tone 6 dB above the hum (about 16 dB hum-to-noise in a 1 Hz band): a jump must be 12
    times the phase noise, the operating point chosen on real mains references."""
    from workbench.material.synth import recording

    base = recording(seed=74, duration_s=30.0, sample_rate_hz=rate, room_dbfs=-46.0).samples
    samples, truth = plant.enf_cut(base, rate, at_s=14.2, phase_jump_rad=1.2)
    hits = flagged(Enf().run(clip_of(scenes.Fixture(samples, rate))), "enf_discontinuity")
    assert len(hits) == 1 and lands_near(hits, truth, tolerance_s=1.0), hits
    assert flagged(Enf().run(clip_of(scenes.Fixture(base, rate))), "enf_discontinuity") == []


def test_two_cuts_eight_seconds_apart_are_two_findings():
    """The edges of an 8-s insertion recorded elsewhere: each is its own phase jump."""
    rate = 16000
    fixture = scenes.clean(seed=75, duration_s=40.0, sample_rate_hz=rate, mains_hz=50.0)
    samples, first = plant.enf_cut(fixture.samples, rate, at_s=14.0, phase_jump_rad=1.5)
    samples, second = plant.enf_cut(samples, rate, at_s=22.0, phase_jump_rad=-1.5)
    hits = flagged(Enf().run(clip_of(scenes.Fixture(samples, rate))), "enf_discontinuity")
    assert len(hits) == 2 and lands_near(hits, first, 1.0) and lands_near(hits, second, 1.0), hits


def test_grid_log_match_finds_the_known_offset(tmp_path):
    rng = np.random.default_rng(5)
    grid_t = np.arange(0, 600.0, 1.0)
    grid_f = 50 + np.cumsum(rng.normal(0, 0.01, grid_t.size))
    grid_f = 50 + (grid_f - grid_f.mean())
    csv = tmp_path / "grid.csv"
    csv.write_text("time_s,frequency_hz\n" + "".join(f"{t},{f}\n" for t, f in zip(grid_t, grid_f)))
    sr, offset, duration = 8000, 217.0, 90.0
    fixture = scenes.clean(seed=74, duration_s=duration, sample_rate_hz=sr, mains_hz=None)
    t = np.arange(fixture.samples.shape[0]) / sr
    freq = np.interp(t + offset, grid_t, grid_f)
    hum = 0.003 * np.sin(2 * np.pi * np.cumsum(freq) / sr)
    clip = Clip.from_array(fixture.samples[:, 0] + hum, sr)
    result = Enf(reference=str(csv)).run(clip)
    m = result.measurements
    assert abs(m["reference_offset_s"] - offset) <= 2.0
    assert m["reference_correlation"] > 0.8
    import hashlib
    assert m["reference_sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert [f.name for f in result.figures][-1] == "grid-match"


def test_bad_grid_logs_are_parameter_errors(tmp_path):
    with pytest.raises(ParameterError, match="no such file"):
        Enf(reference=str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("just one column\n1\n2\n")
    with pytest.raises(ParameterError, match="two columns"):
        parse_grid_log(bad.read_bytes(), str(bad))
    with pytest.raises(ParameterError, match="two columns"):
        Enf(reference=str(bad))


def test_a_grid_log_named_on_the_command_line_is_read_by_the_workbench_and_recorded_by_hash(tmp_path):
    import hashlib

    from workbench.registry import build

    log = tmp_path / "grid.csv"
    log.write_text("".join(f"{t},{50 + 0.01 * (t % 7)}\n" for t in range(60)))
    (enf,) = build(only=["enf"], params={"enf": {"reference": str(log)}})
    recorded = enf.parameters()["reference"]
    assert recorded == {"path": str(log), "sha256": hashlib.sha256(log.read_bytes()).hexdigest(),
                        "bytes": log.stat().st_size}
    assert Enf().parameters()["reference"] is None


def test_short_clip_is_skipped():
    assert Enf().run(Clip.from_array(np.zeros(16000), 8000)).status == "skipped"


@pytest.fixture(scope="module")
def one_hum_at_three_rates():
    """One recording of 50 Hz mains hum (wandering like the grid) with room noise, at 8 kHz and
    resampled to 1 kHz and 400 Hz (a mains reference recorder's rate)."""
    from workbench.material.synth import mains_hum
    from scipy import signal

    rng = np.random.default_rng(77)
    rate, frames = 8000, 8000 * 60
    x = mains_hum(frames=frames, sample_rate_hz=rate, rng=rng, level_dbfs=-30.0, wander_hz=0.05)
    x += rng.standard_normal(frames) * 10 ** (-60 / 20)
    versions = {8000: x, 1000: signal.resample_poly(x, 1, 8), 400: signal.resample_poly(x, 1, 20)}
    return {r: Enf().run(Clip.from_array(v, r)) for r, v in versions.items()}


def test_the_same_hum_at_400_hz_1_khz_and_8_khz_gives_the_same_nominal_and_trace(one_hum_at_three_rates):
    """A 400 Hz clip used to be read as if it were at 1 kHz: its 50 Hz hum appeared at 125 Hz."""
    traces = {}
    for rate, result in one_hum_at_three_rates.items():
        assert result.status == "ok", (rate, result.message)
        assert result.measurements["enf_nominal_hz"] == 50.0, rate
        assert result.measurements["enf_snr_db"] > 30, rate
        traces[rate] = result.tracks[0].values
    assert traces[400].size == traces[8000].size == traces[1000].size
    for rate in (400, 1000):
        assert np.nanmax(np.abs(traces[rate] - traces[8000])) < 0.005, rate
    assert np.nanstd(traces[8000]) > 0.01  # the trace wanders: agreeing is not trivial


def test_harmonics_above_the_clips_own_band_are_not_examined(one_hum_at_three_rates):
    """At 400 Hz nothing above 200 Hz exists: 50 Hz harmonics 1-3 are examined, not 4."""
    low = one_hum_at_three_rates[400].measurements
    assert sorted(low["harmonic_snr_db"]["50"]) == ["1", "2", "3"]
    assert low["harmonic_limit_hz"] == pytest.approx(180.0)
    assert sorted(one_hum_at_three_rates[8000].measurements["harmonic_snr_db"]["50"]) == ["1", "2", "3", "4"]


def test_a_rate_too_low_for_mains_hum_is_skipped_with_the_reason(rng):
    result = Enf().run(Clip.from_array(rng.standard_normal(100 * 30), 100))
    assert result.status == "skipped" and "100 Hz" in result.message


def _grid_and_hum(seed: int, offset_s: float, duration_s: float, sr: int = 8000, step_hz: float = 0.01):
    """A 600-s grid log wandering by ``step_hz`` (SD) a second, and a clip whose hum follows it
    from ``offset_s``."""
    rng = np.random.default_rng(seed)
    grid_t = np.arange(0, 600.0, 1.0)
    grid_f = 50 + np.cumsum(rng.normal(0, step_hz, grid_t.size))
    grid_f = 50 + (grid_f - grid_f.mean())
    fixture = scenes.clean(seed=74, duration_s=duration_s, sample_rate_hz=sr, mains_hz=None)
    t = np.arange(fixture.samples.shape[0]) / sr
    freq = np.interp(t + offset_s, grid_t, grid_f)
    hum = 0.003 * np.sin(2 * np.pi * np.cumsum(freq) / sr)
    return grid_t, grid_f, Clip.from_array(fixture.samples[:, 0] + hum, sr)


def test_an_iso_timestamped_log_gives_the_clock_time_and_the_significance(tmp_path):
    """A transmission operator's 1-second export: `dtm,f` with ISO-8601 times."""
    from datetime import datetime, timedelta, timezone

    grid_t, grid_f, clip = _grid_and_hum(5, 217.0, 90.0)
    start = datetime(2026, 3, 4, 12, 0, 0, tzinfo=timezone.utc)
    csv = tmp_path / "grid.csv"
    csv.write_text("dtm,f\n" + "".join(f"{(start + timedelta(seconds=float(t))).isoformat()},{f}\n"
                                      for t, f in zip(grid_t, grid_f)))
    m = Enf(reference=str(csv)).run(clip).measurements
    assert abs(m["reference_offset_s"] - 217.0) <= 2.0
    assert m["reference_start_clock"].startswith("2026-03-04T12:03:3")  # 12:03:37 +- 2 s
    assert m["reference_wrong_offsets"] > 300 and m["reference_z_vs_wrong_offsets"] > 2
    # The right offset stands clear of every wrong one (measured 0.12-0.31 over six seeds).
    assert m["reference_correlation"] - m["reference_best_wrong_correlation"] > 0.1


def test_a_log_shorter_than_the_clip_gives_no_offset_and_says_why(tmp_path):
    grid_t, grid_f, clip = _grid_and_hum(6, 0.0, 90.0)
    csv = tmp_path / "short.csv"
    csv.write_text("".join(f"{t},{f}\n" for t, f in zip(grid_t[:60], grid_f[:60])))
    result = Enf(reference=str(csv)).run(clip)
    m = result.measurements
    assert m["reference_offset_s"] is None and m["reference_correlation"] is None
    assert "cannot hold the whole clip" in m["reference_note"]
    assert "grid-match" not in [f.name for f in result.figures]


def test_an_unrelated_log_matches_no_better_than_its_wrong_offsets(tmp_path):
    """The hum follows one grid; the log is another: the best r is high (a wandering grid
    correlates with itself) but not clear of the wrong offsets (margin 0.02-0.08 over six seeds)."""
    _, _, clip = _grid_and_hum(7, 100.0, 90.0)
    other_t, other_f, _ = _grid_and_hum(8, 0.0, 5.0)
    csv = tmp_path / "other.csv"
    csv.write_text("".join(f"{t},{f}\n" for t, f in zip(other_t, other_f)))
    m = Enf(reference=str(csv)).run(clip).measurements
    assert m["reference_correlation"] - m["reference_best_wrong_correlation"] < 0.1


def test_a_clip_walked_in_many_pieces_reads_as_one(monkeypatch):
    """The 1 kHz mix is walked in pieces with margins; a cut 0.3 s before a piece boundary and
    the trace, spectrum and phase come out as when the whole clip is one piece."""
    rate = 8000
    fixture = scenes.clean(seed=76, duration_s=100.0, sample_rate_hz=rate, mains_hz=50.0)
    samples, truth = plant.enf_cut(fixture.samples, rate, at_s=39.7, phase_jump_rad=1.5)
    clip = clip_of(scenes.Fixture(samples, rate))
    whole = Enf().run(clip)
    monkeypatch.setattr(enf, "PIECE_S", 20)
    pieces = Enf().run(clip)
    assert [f.start_s for f in flagged(pieces, "enf_discontinuity")] == [
        f.start_s for f in flagged(whole, "enf_discontinuity")]
    assert lands_near(flagged(pieces, "enf_discontinuity"), truth, tolerance_s=1.0)
    np.testing.assert_allclose(pieces.tracks[0].values, whole.tracks[0].values, atol=1e-9)
    assert pieces.measurements["enf_snr_db"] == pytest.approx(whole.measurements["enf_snr_db"], abs=1e-9)


def test_reference_match_is_true_for_the_right_log_and_not_for_another(tmp_path):
    """The rule (correlation and absolute frequency at the best offset) says yes to the log the
    hum followed and no to a log of another grid stretch. The grid wanders 2 mHz a second, as
    real grids do (a 10 mHz walk moves faster than 16-s frames follow, by over 5 mHz RMS)."""
    grid_t, grid_f, clip = _grid_and_hum(9, 150.0, 90.0, step_hz=0.002)
    right, other = tmp_path / "right.csv", tmp_path / "other.csv"
    right.write_text("".join(f"{t},{f}\n" for t, f in zip(grid_t, grid_f)))
    other_t, other_f, _ = _grid_and_hum(10, 0.0, 5.0, step_hz=0.002)
    other.write_text("".join(f"{t},{f}\n" for t, f in zip(other_t, other_f)))
    m = Enf(reference=str(right)).run(clip).measurements
    assert m["reference_match"] is True and abs(m["reference_offset_s"] - 150.0) <= 2.0
    assert m["reference_match_rule"].startswith("correlation >= 0.8")
    assert Enf(reference=str(other)).run(clip).measurements["reference_match"] is False


def test_reference_match_is_not_judged_on_a_short_trace_or_without_hum(tmp_path):
    grid_t, grid_f, clip = _grid_and_hum(11, 80.0, 40.0, step_hz=0.002)
    log = tmp_path / "grid.csv"
    log.write_text("".join(f"{t},{f}\n" for t, f in zip(grid_t, grid_f)))
    m = Enf(reference=str(log)).run(clip).measurements
    assert m["reference_offset_s"] is not None and m["reference_match"] is None
    assert "under 60 s" in m["reference_note"]
    quiet = clip_of(scenes.clean(seed=72, duration_s=24.0, sample_rate_hz=16000, mains_hz=None))
    m = Enf(reference=str(log)).run(quiet).measurements
    assert m["reference_match"] is None and "no mains hum" in m["reference_note"]
