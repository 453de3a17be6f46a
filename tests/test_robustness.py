"""The robustness table: broken, odd and hostile evidence. Every case ends in a report or in one
clear line with a documented exit code, and the evidence file is byte-identical afterwards."""

import json
import struct

import av
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from workbench.cli import cli
from workbench.material.media import write_with_pyav

SR = 16000


def tone(seconds=1.0, rate=SR, channels=1, amplitude=0.3):
    t = np.arange(int(seconds * rate)) / rate
    x = amplitude * np.sin(2 * np.pi * 440 * t) + 0.001 * np.random.default_rng(0).standard_normal(t.size)
    return np.repeat(x[:, None], channels, axis=1).astype(np.float32)


def wav_bytes(tmp_path, **kwargs):
    path = tmp_path / "base.wav"
    sf.write(path, tone(**kwargs), kwargs.get("rate", SR), subtype="PCM_16")
    return path.read_bytes()


def patched_header(tmp_path, offset, fmt, value):
    data = bytearray(wav_bytes(tmp_path))
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


def video_file(path, with_audio):
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = container.add_stream("aac", rate=SR) if with_audio else None
        if audio:
            audio.layout = "mono"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 20, np.uint8), format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        if audio:
            samples = tone(1.0)[:, 0]
            for start in range(0, samples.size, 1024):
                frame = av.AudioFrame.from_ndarray(samples[None, start:start + 1024].copy(), format="fltp", layout="mono")
                frame.sample_rate, frame.pts = SR, start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode(None):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
    return path


BROKEN = {
    "empty": lambda d: ("empty.wav", b"", "is empty"),
    "truncated-header": lambda d: ("hdr.wav", wav_bytes(d)[:30], "not a recognised audio"),
    "random-bytes": lambda d: ("noise.wav", np.random.default_rng(1).bytes(5000), "not a recognised audio"),
    "text-as-mp3": lambda d: ("notes.mp3", b"Meeting notes, not audio.\n" * 40, "not a recognised audio"),
    "absurd-channels": lambda d: ("chan.wav", patched_header(d, 22, "<H", 65535), "could not be decoded"),
    "absurd-rate": lambda d: ("rate.wav", patched_header(d, 24, "<I", 4_000_000_000), "not a recognised audio"),
}


def run(args):
    return CliRunner().invoke(cli, ["-q", *map(str, args)])


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_input_exits_3_with_one_line_and_no_folder(tmp_path, case, clean_wav):
    name, data, reason = BROKEN[case](tmp_path)
    bad = tmp_path / name
    bad.write_bytes(data)
    before = (bad.read_bytes(), bad.stat().st_mtime_ns)
    out = tmp_path / "out"
    result = run(["analyze", bad, clean_wav, "-o", out, "--only", "levels"])  # the intake is under test
    assert result.exit_code == 3, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("workbench: error:")]
    assert len(lines) == 1 and name in lines[0] and reason in lines[0], result.output
    assert "Traceback" not in result.output
    assert not (out / bad.stem).exists()
    assert (out / clean_wav.stem / "report.json").exists()
    assert (bad.read_bytes(), bad.stat().st_mtime_ns) == before


def test_video_without_audio_is_named(tmp_path):
    path = video_file(tmp_path / "silent-film.mp4", with_audio=False)
    result = run(["analyze", path, "-o", tmp_path / "out"])
    assert result.exit_code == 3 and "has no audio stream" in result.output


def test_directory_and_missing_path(tmp_path):
    assert "is a directory" in run(["analyze", tmp_path, "-o", tmp_path / "o"]).output
    assert "no such file" in run(["analyze", tmp_path / "gone.wav", "-o", tmp_path / "o"]).output


def test_truncated_data_is_analysed_and_said(tmp_path):
    data = wav_bytes(tmp_path, seconds=2.0)
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 2])
    result = run(["analyze", path, "-o", tmp_path / "out"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["evidence"]["truncated"] is True
    assert report["evidence"]["duration_s"] == pytest.approx(1.0, abs=0.01)
    assert any("truncated" in n for n in report["evidence"]["notes"])
    assert "truncated" in (tmp_path / "out" / "report.html").read_text()


def test_absurd_data_length_is_clamped_not_allocated(tmp_path):
    path = tmp_path / "len.wav"
    data = bytearray(wav_bytes(tmp_path))
    struct.pack_into("<I", data, 40, 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    result = run(["analyze", path, "-o", tmp_path / "out"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["evidence"]["frames"] == SR and report["evidence"]["notes"]


def write_sf(path, samples, rate, subtype, fmt=None):
    sf.write(path, samples, rate, subtype=subtype, format=fmt)
    return path


VALID = {
    "10ms": lambda d: write_sf(d / "short.wav", tone(0.01), SR, "PCM_16"),
    "all-silence": lambda d: write_sf(d / "zeros.wav", np.zeros((SR, 1)), SR, "PCM_16"),
    "8bit": lambda d: write_sf(d / "u8.wav", tone(), SR, "PCM_U8"),
    "24bit": lambda d: write_sf(d / "s24.wav", tone(), SR, "PCM_24"),
    "32bit": lambda d: write_sf(d / "s32.wav", tone(), SR, "PCM_32"),
    "float32": lambda d: write_sf(d / "f32.wav", tone(), SR, "FLOAT"),
    "float64": lambda d: write_sf(d / "f64.wav", tone(), SR, "DOUBLE"),
    "8kHz": lambda d: write_sf(d / "r8k.wav", tone(rate=8000), 8000, "PCM_16"),
    "192kHz": lambda d: write_sf(d / "r192k.wav", tone(rate=192000), 192000, "PCM_24"),
    "8ch": lambda d: write_sf(d / "eight.wav", tone(channels=8), SR, "PCM_16"),
    "rf64": lambda d: write_sf(d / "big.wav", tone(), SR, "PCM_16", "RF64"),
    "flac": lambda d: write_sf(d / "a.flac", tone(), SR, "PCM_16"),
    "ogg-vorbis": lambda d: write_sf(d / "a.ogg", tone(), SR, "VORBIS"),
    "opus": lambda d: write_with_pyav(d / "a.opus", tone(rate=48000)[:, 0], 48000, codec="libopus", container_format="ogg"),
    "mp3": lambda d: write_with_pyav(d / "a.mp3", tone(rate=44100)[:, 0], 44100, codec="libmp3lame"),
    "m4a": lambda d: write_with_pyav(d / "a.m4a", tone()[:, 0], SR, codec="aac"),
    "webm": lambda d: write_with_pyav(d / "a.webm", tone(rate=48000)[:, 0], 48000, codec="libopus"),
    "mp4-video": lambda d: video_file(d / "clip.mp4", with_audio=True),
}


@pytest.mark.parametrize("case", sorted(VALID))
def test_odd_but_valid_audio_gets_a_report(tmp_path, case):
    path = VALID[case](tmp_path)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    out = tmp_path / "out"
    result = run(["analyze", path, "-o", out])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["evidence"]["sha256"] == report["evidence"]["sha256_after"]
    for analysis in report["analyses"]:
        assert analysis["status"] in ("ok", "skipped"), (analysis["name"], analysis["message"])
        if analysis["status"] == "skipped":
            assert analysis["message"]
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert not list(out.rglob("*.tmp"))


def test_nan_and_inf_are_reported_and_contained(tmp_path):
    samples = tone(2.0)
    samples[SR // 2 : SR // 2 + 10] = np.nan
    samples[SR] = np.inf
    path = write_sf(tmp_path / "nan.wav", samples, SR, "FLOAT")
    result = run(["analyze", path, "-o", tmp_path / "out"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    levels = next(a for a in report["analyses"] if a["name"] == "levels")
    assert levels["measurements"]["nonfinite_samples"] == 11
    hits = [t for t in report["timeline"] if t["kind"] == "nonfinite_samples"]
    assert len(hits) == 2 and abs(hits[0]["start_s"] - 0.5) < 0.01
    text = (tmp_path / "out" / "report.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"report.json holds {name}"))


HOSTILE_TAGS = {
    "title": "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>",
    "artist": "\u202egnp.exe\u202c evil \x07\x1b[31m red",
    "comment": "x" * 20000,
}


def test_hostile_tags_are_escaped_readable_and_bounded(tmp_path):
    path = tmp_path / "hostile.wav"
    with sf.SoundFile(path, "w", SR, 1, "PCM_16") as handle:
        for key, value in HOSTILE_TAGS.items():
            setattr(handle, key, value)
        handle.write(tone())
    out = tmp_path / "out"
    assert run(["analyze", path, "-o", out]).exit_code == 0
    html = (out / "report.html").read_text()
    assert "<script" not in html and "<img src=x" not in html
    assert "\u202e" not in html and "\x1b" not in html and "\x07" not in html
    assert "\\u202e" in html and "\\x1b" in html
    assert "more characters]" in html


def test_interrupt_leaves_no_temp_files(tmp_path, clean_wav, monkeypatch):
    from workbench import pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "write_report", interrupted)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["analyze", str(clean_wav), "-o", str(out)])
    assert result.exit_code == 130
    assert "interrupted" in result.output
    assert not list(out.rglob("*.tmp")) and not (out / "report.json").exists()


def test_hanging_decoder_costs_one_clip(tmp_path, clean_wav, monkeypatch):
    import time

    from workbench import evidence
    from workbench.core.errors import EvidenceError

    def hang(*args):
        time.sleep(30)

    monkeypatch.setattr(evidence, "_inspect", hang)
    monkeypatch.setattr(evidence, "DECODE_TIMEOUT_S", 1.0)
    monkeypatch.setattr(evidence, "DECODE_S_PER_MIB", 0.0)
    with pytest.raises(EvidenceError, match="did not finish within 1 s"):
        evidence.open_evidence(clean_wav)


def test_exploding_decoder_is_stopped_by_the_memory_limit(clean_wav, monkeypatch):
    from workbench import evidence
    from workbench.core import sandbox
    from workbench.core.errors import EvidenceError

    def explode(*args):
        return bytearray(1 << 31)

    monkeypatch.setattr(evidence, "_inspect", explode)
    monkeypatch.setattr(sandbox, "DEFAULT_MEMORY_BYTES", 256 << 20)
    with pytest.raises(EvidenceError, match="more memory than allowed"):
        evidence.open_evidence(clean_wav)
