"""The shared spectrogram reads the same whether its magnitudes stay in memory or go to a file."""

import dataclasses
import os

import numpy as np
import pytest

from workbench.analyses.bandwidth import Bandwidth
from workbench.analyses.noise_floor import NoiseFloor
from workbench.analyses.voice import ltas_bands
from conftest import clip_of
from workbench.material import plant
from fixtures import scenes
from workbench.core import spectrogram
from workbench.core.clip import Clip


def _both(samples, rate, monkeypatch):
    """The same audio's spectrogram kept in memory and spilled to a file."""
    kept = Clip.from_array(samples, rate).spectrogram
    monkeypatch.setattr(spectrogram, "SPILL_FROM_BYTES", 0)
    spilled = Clip.from_array(samples, rate).spectrogram
    monkeypatch.undo()
    assert type(kept._store).__name__ == "_InMemory" and type(spilled._store).__name__ == "_InFile"
    return kept, spilled


def test_a_spilled_spectrogram_reads_back_what_memory_holds(rng, monkeypatch):
    kept, spilled = _both(rng.standard_normal(16000 * 80).astype(np.float32), 16000, monkeypatch)
    assert spilled.n_frames == kept.n_frames > spectrogram.STFT_BLOCK_FRAMES
    np.testing.assert_array_equal(spilled.frame_power, kept.frame_power)
    np.testing.assert_array_equal(spilled.bin_power, kept.bin_power)
    for start, stop in [(0, 10), (4090, 4100), (kept.n_frames - 3, kept.n_frames + 5)]:
        np.testing.assert_array_equal(spilled.frames(start, stop), kept.frames(start, stop))
    for (a, x), (b, y) in zip(spilled.blocks(1000), kept.blocks(1000), strict=True):
        assert a == b
        np.testing.assert_array_equal(x, y)
    # Runs of near frames and lone far ones, across a block boundary.
    columns = np.array([0, 1, 2, 50, 300, 301, 4095, 4096, 4097, kept.n_frames - 1])
    np.testing.assert_array_equal(spilled.columns(columns), kept.columns(columns))
    np.testing.assert_array_equal(spilled.db_columns(columns), kept.db_columns(columns))
    # Sums in float64 may differ in the last bit with the arrays' alignment in memory.
    np.testing.assert_allclose(spilled.mean_power_db(columns), kept.mean_power_db(columns), rtol=1e-12)
    np.testing.assert_array_equal(spilled.pooled_max(700), kept.pooled_max(700))


def test_frames_spread_over_a_long_file_are_read_a_block_at_most_at_a_time(rng, monkeypatch):
    kept, spilled = _both(rng.standard_normal(16000 * 200).astype(np.float32), 16000, monkeypatch)
    assert spilled.n_frames > 2 * spectrogram.STFT_BLOCK_FRAMES
    spans = []
    read = type(spilled._store).frames

    def recording(store, start, stop):
        spans.append(stop - start)
        return read(store, start, stop)

    monkeypatch.setattr(type(spilled._store), "frames", recording)
    columns = np.arange(0, spilled.n_frames, 13)  # closer than COLUMN_GAP_FRAMES: one run by gap alone
    np.testing.assert_array_equal(spilled.columns(columns), kept.columns(columns))
    assert max(spans) <= spectrogram.STFT_BLOCK_FRAMES and len(spans) >= spilled.n_frames // spectrogram.STFT_BLOCK_FRAMES


def test_pooled_columns_are_the_maxima_of_their_frames(rng):
    spec = Clip.from_array(rng.standard_normal(16000 * 40).astype(np.float32), 16000).spectrogram
    width = 333
    pooled = spec.pooled_max(width)
    edges = np.linspace(0, spec.n_frames, width + 1).astype(int)
    whole = spec.frames(0, spec.n_frames)
    for cell in (0, 1, 166, width - 1):
        np.testing.assert_array_equal(pooled[:, cell], whole[:, edges[cell] : edges[cell + 1]].max(axis=1))
    assert spec.pooled_max(width) is pooled


def test_forked_processes_read_the_spilled_file(rng, monkeypatch):
    monkeypatch.setattr(spectrogram, "SPILL_FROM_BYTES", 0)
    spec = Clip.from_array(rng.standard_normal(16000 * 5).astype(np.float32), 16000).spectrogram
    expected = spec.frames(5, 40).sum()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reads through the same descriptor, at its own offsets
        os.write(write, np.float32(spec.frames(5, 40).sum()).tobytes())
        os._exit(0)
    os.waitpid(pid, 0)
    assert np.frombuffer(os.read(read, 4), dtype=np.float32)[0] == pytest.approx(expected)


@pytest.mark.parametrize("rate", [8000, 44100])
def test_analyses_find_the_same_on_a_spilled_spectrogram(rate, monkeypatch):
    fixture = scenes.clean(seed=61, duration_s=30.0, sample_rate_hz=rate)
    samples, _ = plant.noise_floor_change(fixture.samples, rate, start_s=11.3, length_s=8.0, level_dbfs=-45.0)
    samples, _ = plant.band_limit(samples, rate, start_s=20.0, length_s=6.0, cutoff_hz=rate / 8)
    results = {}
    for spill in (False, True):
        if spill:
            monkeypatch.setattr(spectrogram, "SPILL_FROM_BYTES", 0)
        clip = clip_of(scenes.Fixture(samples, rate))
        results[spill] = [analysis.run(clip) for analysis in (NoiseFloor(), Bandwidth())]
        results[spill].append(ltas_bands(clip.spectrogram))
    for kept, spilled in zip(results[False][:2], results[True][:2]):
        assert spilled.measurements == kept.measurements
        assert [dataclasses.asdict(f) for f in spilled.findings] == [dataclasses.asdict(f) for f in kept.findings]
    assert any(f.flagged for result in results[True][:2] for f in result.findings)
    for a, b in zip(results[False][2], results[True][2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_no_room_for_the_file_keeps_the_magnitudes_in_memory(rng, monkeypatch):
    """A full or read-only temporary folder costs memory, not the analysis."""
    import errno
    import tempfile

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    samples = rng.standard_normal(16000 * 5).astype(np.float32)
    kept = Clip.from_array(samples, 16000).spectrogram
    monkeypatch.setattr(spectrogram, "SPILL_FROM_BYTES", 0)
    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    fallback = Clip.from_array(samples, 16000).spectrogram
    assert type(fallback._store).__name__ == "_InMemory"
    np.testing.assert_array_equal(fallback.frames(0, fallback.n_frames), kept.frames(0, kept.n_frames))


def test_a_file_that_cannot_be_given_its_space_is_closed_and_refused(monkeypatch):
    import errno

    def no_space(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_space)
    monkeypatch.setattr(spectrogram, "SPILL_FROM_BYTES", 0)
    with pytest.raises(OSError):
        spectrogram._InFile(10, 1000)
    assert type(spectrogram._store(10, 1000)).__name__ == "_InMemory"
