"""The ``container`` analysis and its structure readers, on files written by real encoders
(LAME through PyAV, libopus, FFmpeg's AAC and MP4 muxer, libsndfile) with planted damage."""

import struct

import numpy as np
import pytest
import soundfile as sf

from workbench.analyses.container import Container, lame_lowpass_hz
from workbench.core.containers import mp3, read_structure
from workbench.evidence import open_evidence
from workbench.material.media import write_with_pyav

RATE = 44100


def _noise(seconds: float, seed: int = 0, rate: int = RATE) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * rate)) * 0.1).astype(np.float32)


def _mp3(path, samples, kbps, **tags):
    return write_with_pyav(path, samples, RATE, codec="libmp3lame", bit_rate=kbps * 1000, tags=tags)


def _run(path):
    clip = open_evidence(path)
    return Container().run(clip), clip


def _places(result, kind=None):
    return [f for f in result.findings if f.flagged and (kind is None or f.kind == kind)]


def test_a_cbr_mp3_gives_its_bit_rate_mode_and_frame_count_and_no_place(tmp_path):
    result, clip = _run(_mp3(tmp_path / "cbr.mp3", _noise(4.0), 128))
    m = result.measurements
    assert m["container_format"] == "mp3" and m["mp3_bitrate_mode"] == "CBR"
    assert m["mp3_bitrate_kbps"] == pytest.approx(128)
    assert abs(m["mp3_frames"] - 4.0 * RATE / 1152) <= 2
    assert m["damaged_regions"] == 0 and _places(result) == []
    (track,) = result.tracks
    assert np.nanmin(track.values) == pytest.approx(128) and np.nanmax(track.values) == pytest.approx(128)


def test_two_mp3_encodings_joined_give_a_stream_change_where_they_meet(tmp_path):
    first = _mp3(tmp_path / "a.mp3", _noise(3.0, 1), 128).read_bytes()
    second = _mp3(tmp_path / "b.mp3", _noise(2.0, 2), 64).read_bytes()
    second_frames = second[mp3._id3v2_tags(second)[1]:]  # the second file without its ID3 tag
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(first + second_frames)
    result, _ = _run(joined)
    (change,) = _places(result, "mp3_stream_change")
    assert change.details["before"] == 128 and change.details["after"] == 64
    assert change.start_s == pytest.approx(3.0, abs=0.1)


def test_bytes_that_are_not_frames_are_a_damaged_region_at_their_offset(tmp_path):
    data = _mp3(tmp_path / "clean.mp3", _noise(4.0, 3), 96).read_bytes()
    offsets = read_structure(tmp_path / "clean.mp3")["frame_offsets"]
    cut = int(offsets[80])  # frame 80 of the file: frame 79 of the audio, after the Info frame
    junk = bytes(np.random.default_rng(4).integers(0, 255, 2000, dtype=np.uint8)).replace(b"\xff", b"\x00")
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(data[:cut] + junk + data[cut:])
    result, clip = _run(damaged)
    (place,) = _places(result, "mp3_damaged_region")
    assert place.details == {"offset": cut, "size_bytes": len(junk)}
    assert place.start_s == pytest.approx(79 * 1152 / RATE, abs=0.03)
    # the decoder skips the damaged packet and reads on: at most two frames of 4 s are lost
    assert clip.duration_s > 4.0 - 2 * 1152 / RATE and not clip.info.truncated
    (note,) = [n for n in clip.info.notes if "could not be decoded and were skipped" in n]
    skipped_at = float(note.split(" at ")[1].split(" s ")[0])
    assert skipped_at == pytest.approx(79 * 1152 / RATE, abs=2 * 1152 / RATE)  # the encoder's delay trimmed
    clean, _ = _run(tmp_path / "clean.mp3")
    assert _places(clean) == []


def test_bytes_after_the_last_frame_are_counted_and_noted(tmp_path):
    data = _mp3(tmp_path / "clean.mp3", _noise(2.0, 5), 128).read_bytes()
    padded = tmp_path / "padded.mp3"
    padded.write_bytes(data + b"hidden message " * 20)
    result, _ = _run(padded)
    assert result.measurements["bytes_after_last_frame"] == 300
    assert any("300 bytes follow the last MP3 frame" in f.summary for f in result.findings)


def test_mp4_brand_tags_inside_an_mp3_say_it_was_converted_from_mp4(tmp_path):
    converted, _ = _run(_mp3(tmp_path / "c.mp3", _noise(2.0, 6), 128, major_brand="isom",
                             compatible_brands="isomiso2mp41"))
    assert any("converted from an MP4/M4A" in f.summary for f in converted.findings)
    assert converted.measurements["coding_chain"].startswith("an MP4/M4A file")
    plain, _ = _run(_mp3(tmp_path / "p.mp3", _noise(2.0, 6), 128))
    assert not any("MP4" in f.summary for f in plain.findings)


def test_a_band_far_below_the_encoders_low_pass_is_noted_with_both_numbers(tmp_path):
    spectrum = np.fft.rfft(_noise(6.0, 7))
    spectrum[np.fft.rfftfreq(int(6.0 * RATE), 1 / RATE) > 4000] = 0  # a brick-wall band limit
    narrow = np.fft.irfft(spectrum, int(6.0 * RATE)).astype(np.float32)
    result, _ = _run(_mp3(tmp_path / "narrow.mp3", narrow, 128))
    m = result.measurements
    assert m["expected_lowpass_hz"] == lame_lowpass_hz(128, 1, RATE) == 20500
    assert 3500 < m["measured_bandwidth_hz"] < 5000
    (note,) = [f for f in result.findings if "effective bandwidth" in f.summary]
    assert f"{m['measured_bandwidth_hz']:.0f} Hz" in note.summary and "20500 Hz" in note.summary
    full, _ = _run(_mp3(tmp_path / "full.mp3", _noise(6.0, 7), 128))
    assert not any("effective bandwidth" in f.summary for f in full.findings)


def _recoded(path, samples, first_kbps, final_kbps):
    """``samples`` encoded at ``first_kbps``, decoded, and encoded again at ``final_kbps``."""
    if first_kbps is not None:
        first = _mp3(path.with_suffix(".first.mp3"), samples, first_kbps)
        samples = sf.read(first, dtype="float32")[0]
    return _mp3(path, samples, final_kbps)


@pytest.mark.parametrize("first_kbps", [24, 32])
def test_an_earlier_lower_rate_encoding_is_double_compression_with_its_rate(tmp_path, first_kbps):
    result, _ = _run(_recoded(tmp_path / "double.mp3", _noise(5.0, 15), first_kbps, 128))
    m = result.measurements
    assert m["double_compression"] is True and m["first_bitrate_kbps"] == first_kbps
    assert "narrowed before this encoding" in m["double_compression_reason"]
    assert m["coding_chain"].startswith("a coding that ended the band at") and "CBR 128 kbps" in m["coding_chain"]


@pytest.mark.parametrize("first_kbps", [None, 160])
def test_one_encoding_or_a_first_one_at_a_higher_rate_is_not_double_compression(tmp_path, first_kbps):
    m = _run(_recoded(tmp_path / "single.mp3", _noise(5.0, 16), first_kbps, 128))[0].measurements
    assert m["double_compression"] is False and m["first_bitrate_kbps"] is None


def test_a_band_ending_where_a_lower_sample_rate_ends_it_is_not_called_double_compression(tmp_path):
    """A 16 kHz recording upsampled to 44.1 kHz and encoded once ends its band at 8 kHz, where an
    earlier MP3 near 40 kbps would too: the analysis says it cannot tell."""
    import librosa

    upsampled = librosa.resample(_noise(5.0, 17, 16000), orig_sr=16000, target_sr=RATE)  # soxr
    m = _run(_mp3(tmp_path / "up.mp3", upsampled, 128))[0].measurements
    assert m["double_compression"] is None and "16000 Hz" in m["double_compression_reason"]


def test_two_mp3_files_of_one_setting_joined_give_a_join_at_the_second_header(tmp_path):
    first = _mp3(tmp_path / "a.mp3", _noise(3.0, 18), 128).read_bytes()
    second = _mp3(tmp_path / "b.mp3", _noise(2.0, 19), 128).read_bytes()
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(first + second[mp3._id3v2_tags(second)[1]:])
    result, _ = _run(joined)
    (join,) = _places(result, "mp3_stream_join")
    assert join.start_s == pytest.approx(3.0, abs=0.06)
    assert _places(result, "mp3_stream_change") == []
    assert _places(_run(tmp_path / "a.mp3")[0]) == []


def test_lame_table_follows_the_channel_count_and_sample_rate():
    assert lame_lowpass_hz(64, 2, 44100) == 11000 and lame_lowpass_hz(64, 1, 44100) == 16500
    assert lame_lowpass_hz(32, 1, 8000) == 4000 and lame_lowpass_hz(130, 2, 44100) == 17000


def test_the_lame_header_is_read_and_an_edit_of_it_breaks_its_checksum(tmp_path):
    """libsndfile's LAME writes a VBR stream with a LAME header; mutagen reads the header, the
    CRC-16 over the first frame is checked here."""
    path = tmp_path / "v.mp3"
    sf.write(path, _noise(3.0, 8), RATE, format="MP3", subtype="MPEG_LAYER_III")
    result, _ = _run(path)
    m = result.measurements
    assert m["mp3_bitrate_mode"] == "VBR" and m["encoder"].startswith("LAME 3.")
    assert m["encoder_lowpass_hz"] == m["expected_lowpass_hz"] > 10000 and m["lame_tag_crc_ok"] is True
    data = bytearray(path.read_bytes())
    data[data.find(b"LAME") + 10] += 1  # the low-pass byte (units of 100 Hz)
    (tmp_path / "edited.mp3").write_bytes(bytes(data))
    result, _ = _run(tmp_path / "edited.mp3")
    assert result.measurements["lame_tag_crc_ok"] is False
    assert result.measurements["encoder_lowpass_hz"] == m["encoder_lowpass_hz"] + 100
    assert any("checksum does not match" in f.summary for f in result.findings)


def _pages(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of every Ogg page."""
    pages, at = [], 0
    while at < len(data):
        segments = data[at + 26]
        length = 27 + segments + sum(data[at + 27:at + 27 + segments])
        pages.append((at, length))
        at += length
    return pages


def test_an_opus_file_gives_vendor_pre_skip_and_a_missing_page_is_a_place(tmp_path):
    rate = 48000
    path = write_with_pyav(tmp_path / "v.opus", _noise(8.0, 9, rate), rate, codec="libopus",
                           container_format="ogg")
    result, _ = _run(path)
    m = result.measurements
    assert m["ogg_codec"] == "Opus" and m["ogg_streams"] == 1 and m["opus_pre_skip_samples"] > 0
    assert m["ogg_vendor"] and _places(result) == []
    data = path.read_bytes()
    pages = _pages(data)
    drop_at, drop_len = pages[len(pages) // 2]
    granule_before = struct.unpack("<q", data[pages[len(pages) // 2 - 1][0] + 6:][:8])[0]
    cut = tmp_path / "cut.opus"
    cut.write_bytes(data[:drop_at] + data[drop_at + drop_len:])
    result, _ = _run(cut)
    (gap,) = _places(result, "ogg_page_gap")
    assert gap.details["offset"] == drop_at
    assert gap.start_s == pytest.approx((granule_before - m["opus_pre_skip_samples"]) / rate, abs=1e-6)


def _chunk(key: bytes, body: bytes) -> bytes:
    return key + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def _with_bext(wav: bytes, originator: str) -> bytes:
    body = bytearray(602)
    body[256:256 + len(originator)] = originator.encode()
    body[320:330] = b"2026-04-12"
    body[330:338] = b"10:31:07"
    chunks = wav[12:] + _chunk(b"bext", bytes(body)) + _chunk(b"JUNK", b"left over")
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def test_wav_chunks_bext_and_data_beyond_the_riff_size(tmp_path):
    plain = tmp_path / "plain.wav"
    sf.write(plain, _noise(1.0, 10), RATE, subtype="PCM_16")
    result, _ = _run(plain)
    assert result.measurements["wav_chunks"] == ["fmt ", "data"] and result.findings == []
    tagged = tmp_path / "tagged.wav"
    tagged.write_bytes(_with_bext(plain.read_bytes(), "ZOOM H5") + b"appended after")
    result, _ = _run(tagged)
    m = result.measurements
    assert m["wav_chunks"] == ["fmt ", "data", "bext", "JUNK"]
    assert m["bext_originator"] == "ZOOM H5" and m["bext_origination"] == "2026-04-12 10:31:07"
    assert m["bytes_beyond_declared_size"] == len(b"appended after")
    summaries = " ".join(f.summary for f in result.findings)
    assert "14 bytes follow the end" in summaries and "'JUNK'" in summaries


def test_a_wav_header_declaring_more_than_the_file_holds_is_an_error_in_the_structure(tmp_path):
    plain = tmp_path / "plain.wav"
    sf.write(plain, _noise(1.0, 11), RATE, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(plain.read_bytes()[:-1000])
    errors = read_structure(cut)["errors"]
    assert any("declares" in e and "'data'" in e for e in errors)


def test_an_m4a_gives_its_atom_tree_in_file_order(tmp_path):
    path = write_with_pyav(tmp_path / "a.m4a", _noise(2.0, 12), RATE, codec="aac")
    result, _ = _run(path)
    m = result.measurements
    assert m["container_format"] == "mp4" and m["mp4_top_level_atoms"][0] == "ftyp"
    assert m["moov_before_mdat"] is False and "SoundHandler" in m["mp4_handler_names"]
    assert m["mp4_encoder"].startswith("Lavf")
    (table,) = m["tables"]
    paths = [row[0] for row in table["rows"]]
    assert "moov/trak/mdia/hdlr" in paths and paths.index("mdat") < paths.index("moov")
    assert _places(result) == []


def test_hostile_tag_text_is_escaped_in_the_structure(tmp_path):
    result, _ = _run(_mp3(tmp_path / "h.mp3", _noise(1.0, 13), 128, title="\u202eevil\x1b[31m"))
    (tags,) = [t for t in result.measurements["tables"] if t["title"] == "Tags in file order"]
    text = tags["rows"][0][3]
    assert "\\u202e" in text and "\\x1b" in text and "\u202e" not in text


def test_a_file_of_no_family_read_here_is_skipped_with_the_reason(tmp_path):
    path = tmp_path / "a.flac"
    sf.write(path, _noise(1.0, 14), RATE, format="FLAC")
    result, _ = _run(path)
    assert result.status == "skipped" and "flac" in result.message
