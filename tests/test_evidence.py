import hashlib
import os

import numpy as np
import pytest
import soundfile as sf

from fixtures import scenes
from workbench.core.errors import EvidenceError
from workbench.core.hashing import sha256_file
from workbench.evidence import clean_text, finish_evidence, open_evidence
from workbench.material.media import write_with_pyav


def test_wav_intake_describes_the_file(clean_wav):
    clip = open_evidence(clean_wav)
    info = clip.info
    assert info.sha256 == hashlib.sha256(clean_wav.read_bytes()).hexdigest()
    assert info.size_bytes == clean_wav.stat().st_size
    assert (info.container, info.codec, info.sample_format) == ("wav", "pcm_s16le", "PCM_16")
    assert (info.sample_rate_hz, info.channels) == (16000, 1)
    assert info.frames == 12 * 16000 and info.duration_s == pytest.approx(12.0)
    assert info.decoder.startswith("soundfile")
    assert finish_evidence(clip) and info.sha256_after == info.sha256


def test_native_rate_and_all_channels_are_kept(tmp_path):
    fixture = scenes.clean(seed=1, duration_s=2.0, sample_rate_hz=22050, channels=3)
    path = fixture.write(tmp_path / "three.flac", subtype="PCM_24")
    clip = open_evidence(path)
    assert clip.samples.shape == (44100, 3) and clip.sample_rate_hz == 22050
    assert clip.info.container == "flac" and clip.info.sample_format == "PCM_24"
    np.testing.assert_allclose(clip.samples, fixture.samples, atol=2 ** -22)


def test_tags_are_read_as_untrusted_text(tmp_path):
    fixture = scenes.clean(seed=1, duration_s=1.0, sample_rate_hz=16000)
    path = fixture.write(tmp_path / "tagged.wav", tags={"title": "<script>x</script>", "software": "Lavf60.3.100"})
    tags = open_evidence(path).info.tags
    assert "<script>x</script>" in tags.values()
    assert any(value.startswith("Lavf60.3.100") for value in tags.values())


def test_m4a_is_decoded_by_pyav_with_encoder_tags(tmp_path):
    sr = 44100
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    path = write_with_pyav(tmp_path / "message.m4a", tone, sr, codec="aac", tags={"title": "voice note"})
    clip = open_evidence(path)
    assert clip.info.decoder.startswith("PyAV")
    assert clip.info.codec == "aac" and clip.info.sample_rate_hz == sr
    assert clip.info.tags.get("title") == "voice note"
    assert any("Lavf" in value for value in clip.info.tags.values())
    assert abs(clip.frames - sr) < 3 * 1024  # encoder priming and padding only
    assert 0.25 < np.max(np.abs(clip.samples)) < 0.35


def test_pyav_decode_goes_through_a_scratch_file_that_is_not_left_behind(tmp_path, monkeypatch):
    """A long AAC or video soundtrack must not have to fit in memory (or pass through a pipe):
    it is decoded to a temporary file, unlinked at once and read back through its descriptor."""
    import tempfile

    from workbench.core.clip import DecodedFileSource

    sr = 16000
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(2 * sr) / sr)
    path = write_with_pyav(tmp_path / "call.m4a", tone, sr, codec="aac")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    clip = open_evidence(path)
    assert isinstance(clip.source, DecodedFileSource)
    assert list(scratch.iterdir()) == []
    assert 0.25 < np.max(np.abs(clip.samples)) < 0.35


def test_a_stream_that_decodes_to_too_much_is_refused(tmp_path, monkeypatch):
    import tempfile

    from workbench import evidence

    sr = 16000
    path = write_with_pyav(tmp_path / "bomb.m4a", 0.1 * np.ones(2 * sr), sr, codec="aac")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(evidence, "MAX_DECODED_BYTES", sr * 4)
    with pytest.raises(EvidenceError, match="decodes to more than"):
        open_evidence(path)
    assert list(scratch.iterdir()) == []


def _file(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda d: d / "missing.wav", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: _file(d / "empty.wav", b""), "is empty"),
        (lambda d: _file(d / "notes.wav", b"not audio at all\n" * 50), "not a recognised audio"),
        (lambda d: _file(d / "noise.mp3", bytes(range(256)) * 40), "not a recognised audio"),
    ],
    ids=["missing", "directory", "empty", "text", "random-bytes"],
)
def test_bad_input_raises_evidence_error_with_reason(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(EvidenceError, match=reason):
        open_evidence(path)


def test_unreadable_file(tmp_path, clean_wav, monkeypatch):
    path = tmp_path / "locked.wav"
    path.write_bytes(clean_wav.read_bytes())
    path.chmod(0)
    # Root can read any file, so the permission check is exercised through os.access itself.
    monkeypatch.setattr(os, "access", lambda p, mode: False)
    with pytest.raises(EvidenceError, match="permission denied"):
        open_evidence(path)


def test_sha256_is_streamed_over_all_bytes(tmp_path):
    path = tmp_path / "big.bin"
    data = os.urandom(3 * (1 << 20) + 17)
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_clean_text_keeps_information_and_bounds_length():
    assert clean_text(b"caf\xe9") == "caf\\xe9"
    assert clean_text("a\udcffb") == "a\\udcffb"
    long = clean_text("x" * 10000)
    assert len(long) < 4200 and long.endswith("more characters]")


def test_evidence_is_not_modified_by_intake(clean_wav):
    before = (clean_wav.read_bytes(), clean_wav.stat().st_mtime_ns)
    clip = open_evidence(clean_wav)
    _ = clip.spectrogram
    assert (clean_wav.read_bytes(), clean_wav.stat().st_mtime_ns) == before


def test_float_wav_is_read_without_rescaling(tmp_path):
    samples = np.array([[0.0], [1.5], [-2.0], [0.25]] * 100, dtype=np.float32)
    path = tmp_path / "float.wav"
    sf.write(path, samples, 8000, subtype="FLOAT")
    clip = open_evidence(path)
    assert clip.info.sample_format == "FLOAT"
    assert clip.samples.max() == 1.5 and clip.samples.min() == -2.0


def test_without_a_writable_tmpdir_only_pyav_files_fail_and_say_why(tmp_path, monkeypatch, clean_wav):
    import tempfile

    sr = 16000
    m4a = write_with_pyav(tmp_path / "call.m4a", 0.3 * np.sin(np.arange(sr) / 5), sr, codec="aac")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    assert open_evidence(clean_wav).frames > 0
    with pytest.raises(EvidenceError, match="needs a temporary file to be decoded.*set TMPDIR"):
        open_evidence(m4a)


def test_decoded_file_source_reads_any_range_back(tmp_path):
    import os

    from workbench.core.clip import DecodedFileSource

    frames = np.arange(3000, dtype=np.float32).reshape(1000, 3)
    path = tmp_path / "decoded.f32"
    path.write_bytes(frames.tobytes())
    source = DecodedFileSource(os.open(path, os.O_RDONLY), frames=1000, channels=3, sample_rate_hz=8000)
    path.unlink()
    assert np.array_equal(source.read(0, 1000), frames)
    assert np.array_equal(source.read(250, 251), frames[250:251])
    assert source.read(5, 5).shape == (0, 3)
    part = source.read(10, 20)
    part *= 2  # callers get their own writable copy
    assert np.array_equal(source.read(10, 20), frames[10:20])
