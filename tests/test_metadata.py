import pytest

from workbench.analyses.metadata import Metadata
from fixtures import scenes
from workbench.evidence import open_evidence
from workbench.material.media import write_with_pyav


@pytest.fixture(scope="module")
def short_fixture():
    return scenes.clean(seed=31, duration_s=2.0, sample_rate_hz=16000)


def notes(path):
    result = Metadata().run(open_evidence(path))
    assert all(f.kind == "metadata_note" and not f.flagged for f in result.findings)
    return result, [f.summary for f in result.findings]


def test_clean_wav_without_tags_gives_no_note(short_fixture, tmp_path):
    result, summaries = notes(short_fixture.write(tmp_path / "plain.wav"))
    assert summaries == []
    assert result.measurements["container"] == "wav" and result.measurements["lossy_codec"] is False


def test_ffmpeg_muxer_string_is_noted_once(short_fixture, tmp_path):
    path = short_fixture.write(tmp_path / "remuxed.wav", tags={"software": "Lavf58.76.100"})
    _, summaries = notes(path)
    assert len([s for s in summaries if "FFmpeg" in s]) == 1


def test_extension_that_lies_about_the_container(short_fixture, tmp_path):
    path = short_fixture.write(tmp_path / "really-a-wav.wav")
    renamed = path.with_name("message.mp3")
    path.rename(renamed)
    _, summaries = notes(renamed)
    assert any("'.mp3' does not match the real container 'wav'" in s for s in summaries)


def test_dates_odd_rates_and_float_samples_are_noted(tmp_path):
    fixture = scenes.clean(seed=32, duration_s=1.0, sample_rate_hz=12345)
    path = fixture.write(tmp_path / "odd.wav", subtype="FLOAT", tags={"date": "2019-01-01"})
    _, summaries = notes(path)
    assert any("12345 Hz is not a standard rate" in s for s in summaries)
    assert any("Floating-point WAV" in s for s in summaries)
    assert any("'2019-01-01'" in s for s in summaries)


def test_m4a_from_ffmpeg_is_lossy_and_noted(short_fixture, tmp_path):
    path = write_with_pyav(tmp_path / "voice.m4a", short_fixture.samples[:, 0], 16000, codec="aac")
    result, summaries = notes(path)
    assert result.measurements["lossy_codec"] is True
    assert any("FFmpeg" in s for s in summaries)


def test_bit_usage_of_a_true_16_bit_file(short_fixture, tmp_path):
    result, summaries = notes(short_fixture.write(tmp_path / "full.wav"))
    assert (result.measurements["declared_bits"], result.measurements["effective_bits"]) == (16, 16)
    assert [f.name for f in result.figures] == ["bit-usage"]


def test_24_bit_file_holding_16_bit_values_is_noted(short_fixture, tmp_path):
    import numpy as np

    quantised = np.round(short_fixture.samples * 32768) / 32768
    padded = scenes.Fixture(quantised.astype("float32"), 16000)
    result, summaries = notes(padded.write(tmp_path / "padded.wav", subtype="PCM_24"))
    assert (result.measurements["declared_bits"], result.measurements["effective_bits"]) == (24, 16)
    assert any("declares 24-bit samples (PCM_24) but only 16 bits" in s for s in summaries)


def test_lossy_file_has_no_bit_depth(short_fixture, tmp_path):
    path = write_with_pyav(tmp_path / "v.m4a", short_fixture.samples[:, 0], 16000, codec="aac")
    result, _ = notes(path)
    assert result.measurements["effective_bits"] is None and result.figures == []


def test_bit_usage_counts_across_chunks_as_in_one_pass(rng, monkeypatch):
    import numpy as np

    from workbench.analyses import metadata

    samples = (np.round(rng.uniform(-1, 1, (metadata.BIT_CHUNK_SAMPLES * 2 + 7, 1)) * 2**11) * 2**4 / 2**15).astype(np.float32)
    declared, used, effective = metadata.bit_usage(samples, "PCM_16")
    assert (declared, effective) == (16, 12)  # values on a 12-bit grid: the 4 lowest bits never set
    monkeypatch.setattr(metadata, "BIT_CHUNK_SAMPLES", samples.size)
    np.testing.assert_array_equal(metadata.bit_usage(samples, "PCM_16")[1], used)
