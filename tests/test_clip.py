import numpy as np
import pytest

from workbench.core.clip import Clip
from workbench.core.errors import ParameterError
from workbench.core.spectrogram import stft_sizes


def test_blocks_cover_every_frame_once_without_overlap(rng):
    samples = rng.standard_normal((10007, 2)).astype(np.float32)
    clip = Clip.from_array(samples, 1000)
    blocks = list(clip.blocks(block_s=3.0))
    assert [b.start for b in blocks] == [0, 3000, 6000, 9000]
    np.testing.assert_array_equal(np.concatenate([b.samples for b in blocks]), samples)


def test_blocks_with_overlap_step_back(rng):
    clip = Clip.from_array(rng.standard_normal(5000), 1000)
    starts = [b.start for b in clip.blocks(block_s=2.0, overlap_s=0.5)]
    assert starts == [0, 1500, 3000]
    with pytest.raises(ParameterError):
        list(clip.blocks(block_s=1.0, overlap_s=1.0))


def test_mono_is_the_mean_of_channels():
    clip = Clip.from_array(np.array([[1.0, 0.0], [0.5, -0.5]]), 8000)
    np.testing.assert_allclose(clip.mono_range(0, clip.frames), [0.5, 0.0])


@pytest.mark.parametrize("rate, n_fft", [(8000, 512), (16000, 1024), (44100, 2048), (48000, 2048), (96000, 4096)])
def test_stft_size_scales_with_rate(rate, n_fft):
    assert stft_sizes(rate) == (n_fft, n_fft // 4)
    assert stft_sizes(rate, duration_s=3600.0) == (n_fft, n_fft // 2)


def test_spectrogram_is_computed_once_and_finds_a_tone():
    sr = 16000
    tone = np.sin(2 * np.pi * 1000 * np.arange(sr * 2) / sr)
    clip = Clip.from_array(tone, sr)
    spec = clip.spectrogram
    assert clip.spectrogram is spec
    peak_hz = spec.freqs_hz[np.argmax(spec.bin_power)]
    assert abs(peak_hz - 1000) <= sr / spec.n_fft
    assert spec.times_s[-1] == pytest.approx(2.0, abs=spec.hop_length / sr)


def test_a_clip_shorter_than_one_window_still_has_a_spectrogram():
    clip = Clip.from_array(np.ones(100), 16000)
    assert clip.spectrogram.n_frames >= 1


def test_nonfinite_samples_read_as_zero():
    clip = Clip.from_array(np.array([0.5, np.nan, np.inf, -np.inf]), 8000)
    np.testing.assert_array_equal(clip.samples[:, 0], [0.5, 0, 0, 0])
    assert clip.nonfinite_count == 3


def test_spans_tile_the_frames_with_margins_inside_the_clip():
    from workbench.core.clip import spans

    cut = list(spans(1000, 300, before=20, after=30))
    assert [(s.start, s.stop) for s in cut] == [(0, 300), (300, 600), (600, 900), (900, 1000)]
    assert [(s.lo, s.hi) for s in cut] == [(0, 330), (280, 630), (580, 930), (880, 1000)]
    assert cut[1].core == slice(20, 320)
    joined = list(spans(1000, 300, join_tail=True))
    assert [(s.start, s.stop) for s in joined] == [(0, 300), (300, 600), (600, 1000)]
    assert list(spans(0, 300)) == []


def test_the_waveform_envelope_is_each_span_s_minimum_and_maximum_across_block_edges():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((130 * 8000, 2)).astype(np.float32)  # three 60-s blocks, two channels
    low, high = Clip.from_array(x, 8000).envelope(777)
    y = x.mean(axis=1, dtype=np.float32)
    edges = np.linspace(0, y.size, 778).astype(int)
    assert np.array_equal(low, [y[a:b].min() for a, b in zip(edges[:-1], edges[1:])])
    assert np.array_equal(high, [y[a:b].max() for a, b in zip(edges[:-1], edges[1:])])
