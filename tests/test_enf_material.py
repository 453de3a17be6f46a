"""Real-hum material for the ENF tables: grid logs as published, hum driven by a reference's phase,
and cuts at a random sample of a pause."""

from pathlib import Path

import numpy as np

from workbench.analyses.enf import parse_grid_log
from workbench.validation.enf_material import FIRST_ROW_S, MainsReference, mains_phase
from workbench.validation.real_material import FRAME_S, Material, deletion_at_pause


def _reference(seconds: float = 300.0, rate: int = 400) -> tuple[MainsReference, np.ndarray]:
    """A reference whose grid frequency (Hz, one value per sample) is a known slow wander."""
    t = np.arange(int(seconds * rate)) / rate
    freq = 50 + 0.03 * np.sin(2 * np.pi * t / 97.0)
    phase = np.cumsum(freq) / rate
    return MainsReference("test_ref", "0" * 64, rate, phase, "tuning"), freq


def test_the_log_holds_the_mean_frequency_of_each_second_in_seconds_and_in_clock_times():
    reference, freq = _reference()
    rng = np.random.default_rng(1)
    for clock in (False, True):
        log = parse_grid_log(reference.log_csv(rng, clock=clock), "log.csv")
        reference_s = log.times_s + (FIRST_ROW_S if clock else 0)  # a clock log counts from its first row
        truth = np.interp(reference_s, np.arange(freq.size) / 400, freq)
        assert log.times_s.size == int(reference.duration_s - 0.5)
        assert np.std(log.freqs_hz - truth) < 0.002  # 1 mHz of meter noise
        assert (log.origin is not None) == clock


def test_the_hum_follows_the_reference_at_its_harmonics_only():
    reference, _ = _reference()
    rate = 8000
    hum = reference.hum(100.0, 20 * rate, rate, (0.0, 0.0, 0.01, 0.005), np.random.default_rng(2))
    spectrum = np.abs(np.fft.rfft(hum * np.hanning(hum.size)))
    freqs = np.fft.rfftfreq(hum.size, 1 / rate)
    level = {f: spectrum[np.abs(freqs - f) < 1].max() for f in (50, 100, 150, 200)}
    assert level[150] > 100 * level[50] and level[200] > 100 * level[100]
    # 20 s from 100 s into the wander: the mean frequency of that stretch, times three.
    centre = np.sum(spectrum[np.abs(freqs - 150) < 1] * freqs[np.abs(freqs - 150) < 1]) / np.sum(spectrum[np.abs(freqs - 150) < 1])
    t = np.arange(100 * 400, 120 * 400) / 400
    assert abs(centre / 3 - np.mean(50 + 0.03 * np.sin(2 * np.pi * t / 97.0))) < 0.01


def test_the_phase_of_a_mains_recording_is_recovered():
    rate = 400
    t = np.arange(60 * rate) / rate
    x = 0.3 * np.cos(2 * np.pi * (50.02 * t))
    phase = mains_phase(x, rate)
    assert abs(np.median(np.diff(phase)) * rate - 50.02) < 1e-4


def test_a_cut_anywhere_in_its_pause_frames_is_not_whole_frames_long():
    rate = 8000
    rng = np.random.default_rng(3)
    speech = np.where((np.arange(30 * rate) // (rate // 2)) % 3 == 0, 0.001, 0.2) * rng.standard_normal(30 * rate)
    material = Material(Path("x.wav"), "x", "tuning", rate, speech.astype(np.float32), -60.0)
    frame = int(FRAME_S * rate)
    whole = [deletion_at_pause(material, np.random.default_rng(k), 1.0)[1][0].details["removed_s"] for k in range(5)]
    anywhere = [deletion_at_pause(material, np.random.default_rng(k), 1.0, anywhere_in_frame=True)[1][0].details["removed_s"]
                for k in range(5)]
    assert all(round(r * rate) % frame == 0 for r in whole)
    assert sum(round(r * rate) % frame != 0 for r in anywhere) >= 4
    assert all(r >= 1.0 - FRAME_S for r in anywhere)


def test_a_clock_log_counts_from_its_first_row_and_the_truth_follows():
    reference, _ = _reference()
    rng = np.random.default_rng(4)
    seconds = parse_grid_log(reference.log_csv(rng, clock=False), "s.csv")
    clock = parse_grid_log(reference.log_csv(rng, clock=True), "c.csv")
    assert clock.times_s[0] == 0 and seconds.times_s[0] == 1
    for log, is_clock in ((seconds, False), (clock, True)):
        at = reference.log_time(100.0, clock=is_clock)
        assert abs(np.interp(at, log.times_s, log.freqs_hz) - np.interp(100.0, *reference.trace())) < 0.005
