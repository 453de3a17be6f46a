from pathlib import Path

import numpy as np
import pytest

from fixtures import scenes
from workbench.core.clip import Clip
from workbench.registry import available
from workbench.validation.real import background_dbfs
from workbench.validation.real_material import (
    Material, _frame_db, _lag, join_point, material_rows, mp3_round_trip, reencoded_stretch, room_tone,
    room_tone_mixed, run_material, join_between, deletion_at_pause,
)


def _material(name, samples, rate, source="s", half="measuring"):
    x = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    return Material(Path(name), source, half, rate, x.mean(axis=1).astype(np.float32), background_dbfs(x, rate))


def _speech(seed, rate=16000, duration_s=12.0):
    return scenes.clean(seed=seed, duration_s=duration_s, sample_rate_hz=rate).samples[:, 0]


@pytest.mark.parametrize("where", ["pause", "word"])
def test_a_join_between_recordings_joins_them_where_asked(where):
    first, second = _material("a.wav", _speech(1), 16000), _material("b.wav", 0.5 * _speech(2), 16000)
    samples, (truth,) = join_between(first, second, np.random.default_rng(0), where, 0.0)
    i = int(round(truth.start_s * 16000))
    j = second.mono.size - (samples.shape[0] - i)
    assert 0.3 <= i / first.mono.size < 0.6 and 0.2 <= j / second.mono.size < 0.5
    assert np.array_equal(samples[:i, 0], first.mono[:i])
    gain = samples[i:, 0] / second.mono[j:].astype(np.float64)
    assert np.allclose(gain[np.abs(second.mono[j:]) > 1e-3], 2.0, rtol=0.05)  # level-matched to the first
    for m, k in ((first, i), (second, j)):
        db, frame = _frame_db(m.mono, 16000)
        level = db[k // frame]
        if where == "pause":
            assert level <= np.percentile(db, 10) + 3.0
        else:
            assert level >= np.percentile(db, 80)


def test_a_join_between_rates_resamples_and_crossfades_over_its_length():
    first, second = _material("a.wav", _speech(1), 16000), _material("b.wav", _speech(2, rate=8000), 8000, source="t")
    samples, (truth,) = join_between(first, second, np.random.default_rng(0), "word", 0.01)
    i = int(round((truth.start_s - 0.005) * 16000))  # the crossfade's first sample
    assert np.array_equal(samples[:i, 0], first.mono[:i])
    assert not np.allclose(samples[i : i + 160, 0], first.mono[i : i + 160])
    spectrum = np.abs(np.fft.rfft(samples[i + 320 :, 0])) ** 2
    freqs = np.fft.rfftfreq(samples.shape[0] - i - 320, 1 / 16000)
    assert spectrum[freqs > 4200].sum() < 1e-3 * spectrum.sum()  # the second half keeps its 4 kHz band


def test_a_deletion_removes_audio_between_two_pauses():
    m = _material("a.wav", _speech(4, duration_s=20.0), 16000)
    samples, (truth,) = deletion_at_pause(m, np.random.default_rng(0), 1.0)
    removed = m.mono.size - samples.shape[0]
    assert removed / 16000 == pytest.approx(truth.details["removed_s"]) and 1.0 <= removed / 16000 < 3.0
    i = int(round(truth.start_s * 16000))
    assert np.array_equal(samples[:i, 0], m.mono[:i]) and np.array_equal(samples[i:, 0], m.mono[i + removed:])


def test_no_join_point_in_digital_zero():
    assert join_point(np.zeros(16000, np.float32), 16000, np.random.default_rng(0), "pause", (0.3, 0.6)) is None


def test_room_tone_is_the_donors_background_not_its_loud_part(rng):
    rate = 16000
    quiet = rng.standard_normal(rate * 6) * 0.001  # white background
    loud = 0.5 * np.sin(2 * np.pi * 440 * np.arange(rate * 2) / rate)
    donor = _material("donor.wav", np.concatenate([quiet[: rate * 3], loud, quiet[rate * 3:]]), rate)
    tone = room_tone(donor, 8000, 40000)
    assert tone.size == 40000 and np.sqrt(np.mean(tone**2)) == pytest.approx(1.0)
    spectrum = np.abs(np.fft.rfft(tone)) ** 2
    freqs = np.fft.rfftfreq(tone.size, 1 / 8000)
    near_440 = spectrum[(freqs > 430) & (freqs < 450)].mean()
    assert near_440 < 2 * spectrum[(freqs > 600) & (freqs < 3000)].mean()  # no 440 Hz from the loud part
    # Joined and looped without clicks: no sample step far beyond the noise's own
    assert np.max(np.abs(np.diff(tone))) < 8 * np.std(np.diff(tone))


def test_room_tone_mixed_raises_the_background_of_its_stretch_only(rng):
    rate = 16000
    recording = _material("r.wav", _speech(3, duration_s=24.0), rate)
    donor = _material("d.wav", rng.standard_normal(rate * 5) * 0.01, rate, source="other")
    samples, truths = room_tone_mixed(recording, donor, np.random.default_rng(1), 12.0)
    start, stop = (int(round(t.start_s * rate)) for t in truths)
    added = samples[:, 0] - recording.mono
    assert np.allclose(added[:start], 0, atol=1e-6) and np.allclose(added[stop:], 0, atol=1e-6)
    assert 20 * np.log10(np.sqrt(np.mean(added[start:stop] ** 2))) == pytest.approx(
        recording.background_dbfs + 12.0, abs=0.2)
    assert truths[1].start_s - truths[0].start_s == pytest.approx(8.0, abs=1e-3)


def test_lag_finds_a_decoders_delay(rng):
    x = rng.standard_normal(16000)
    assert _lag(x, np.concatenate([np.zeros(529), x]), 16000) == 529
    assert _lag(x, x, 16000) == 0


def test_mp3_round_trip_stays_aligned_and_a_reencoded_stretch_replaces_only_its_stretch():
    rate = 44100
    recording = _material("r.wav", _speech(4, rate=rate, duration_s=20.0), rate)
    back = mp3_round_trip(recording.mono.astype(np.float64), rate, 64)
    assert back.size == recording.mono.size
    assert np.corrcoef(back, recording.mono)[0, 1] > 0.9
    samples, truths = reencoded_stretch(recording, np.random.default_rng(2), 32)
    start, stop = (int(round(t.start_s * rate)) for t in truths)
    assert np.array_equal(samples[:start, 0], recording.mono[:start].astype(np.float64))
    assert np.array_equal(samples[stop:, 0], recording.mono[stop:].astype(np.float64))
    assert not np.allclose(samples[start:stop, 0], recording.mono[start:stop], atol=1e-4)


def test_a_reencoded_stretch_is_found_where_it_was_planted_and_a_clean_recording_is_not_flagged():
    rate = 44100
    hiss = np.random.default_rng(9).standard_normal(rate * 20) * 0.01  # a room that fills the band
    recordings = [_material(f"r{k}.wav", _speech(10 + k, rate=rate, duration_s=20.0) + hiss, rate) for k in range(2)]
    analyses = {name: cls() for name, cls in available().items() if name == "bandwidth"}
    cases = run_material(recordings, analyses, ("bandwidth",))
    strong = [c for c in cases if c["variant"] == "stretch re-encoded, MP3 32 kbps, recordings at 32 kHz or more"]
    assert len(strong) == 4 and all(c["detected"] and c["error_s"] < 0.5 for c in strong)
    assert {c["kind"] for c in cases} == {"channel_change", "noise_floor_change", "bandwidth_change"}
    # the joins and room tone are not bandwidth's kind: never "found" by it
    assert not any(c["detected"] for c in cases if c["kind"] != "bandwidth_change")
    clean = analyses["bandwidth"].run(Clip.from_array(recordings[0].mono[:, None], rate))
    assert not [f for f in clean.findings if f.flagged]
    rows = {row["variant"]: row for row in material_rows(cases, "measuring")}
    assert rows["stretch re-encoded, MP3 32 kbps, recordings at 32 kHz or more"]["n"] == 4
    assert rows["stretch re-encoded, MP3 32 kbps, recordings at 32 kHz or more"]["detected"] == 1.0
