"""The ``c2pa`` analysis on files signed here with a test certificate chain: integrity and trust
kept apart, a changed byte of audio detected, an absent manifest neutral, bad input named."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from workbench.analyses.content_credentials import ContentCredentials
from fixtures.credentials import GENERATIVE, make_chain, sign
from workbench.core.errors import ParameterError
from workbench.core.params import InputFile
from workbench.evidence import open_evidence
from workbench.material.media import write_with_pyav

RATE = 16000


@pytest.fixture(scope="module")
def chain():
    return make_chain("Field recorder 7")


@pytest.fixture()
def wav(tmp_path):
    samples = (0.2 * np.sin(2 * np.pi * 220 * np.arange(2 * RATE) / RATE)).astype(np.float32)
    path = tmp_path / "plain.wav"
    sf.write(path, samples, RATE, subtype="PCM_16")
    return path


def _anchors(tmp_path, pem: bytes, name: str = "anchors.pem") -> InputFile:
    path = tmp_path / name
    path.write_bytes(pem)
    return InputFile.read(path)


def _run(path, anchors=None):
    return ContentCredentials(trust_anchors=anchors).run(open_evidence(path))


def _notes(result):
    return {round(f.strength, 1): f.summary for f in result.findings}


def test_an_unsigned_file_is_neutral(wav):
    result = _run(wav)
    assert result.status == "ok"
    assert result.measurements["c2pa_manifest"] == "absent"
    assert "neutral" in result.measurements["c2pa_reading"]
    assert result.findings == []


def test_a_signed_file_is_read_and_its_declaration_reported(tmp_path, wav, chain):
    signed = sign(wav, tmp_path / "signed.wav", chain, "audio/wav", source_type=GENERATIVE,
                  generator="Voice studio\x1b[31m")
    result = _run(signed)
    m = result.measurements
    assert (m["c2pa_manifest"], m["c2pa_integrity"]) == ("present", "intact")
    assert m["c2pa_trust"].startswith("not checked")
    assert m["c2pa_signer"] == "Field recorder 7"
    assert m["c2pa_declared_source_types"] == ["trainedAlgorithmicMedia"]
    assert "\\x1b[31m" in m["c2pa_claim_generator"] and "\x1b" not in m["c2pa_claim_generator"]
    notes = _notes(result)
    assert "trainedAlgorithmicMedia" in notes[0.8] and "signer's statement" in notes[0.8]
    assert 1.0 not in notes
    assert all(not f.flagged for f in result.findings)


def test_trust_is_judged_only_against_the_supplied_anchors(tmp_path, wav, chain):
    signed = sign(wav, tmp_path / "signed.wav", chain, "audio/wav")
    trusted = _run(signed, _anchors(tmp_path, chain.root_pem))
    assert trusted.measurements["c2pa_trust"].startswith("trusted")
    assert trusted.measurements["c2pa_validation_state"] == "Trusted"
    other = _run(signed, _anchors(tmp_path, make_chain().root_pem, "other.pem"))
    assert other.measurements["c2pa_trust"].startswith("not trusted")
    # Untrusted is not broken: integrity stays a separate answer.
    assert other.measurements["c2pa_integrity"] == "intact"
    assert 1.0 not in _notes(other)


def test_one_changed_byte_of_audio_breaks_integrity(tmp_path, wav, chain):
    signed = sign(wav, tmp_path / "signed.wav", chain, "audio/wav")
    data = bytearray(signed.read_bytes())
    at = data.find(b"data") + 8 + 4000  # inside the samples, 2000 samples in
    data[at] ^= 0x01
    tampered = tmp_path / "tampered.wav"
    tampered.write_bytes(bytes(data))
    result = _run(tampered, _anchors(tmp_path, chain.root_pem))
    assert result.measurements["c2pa_integrity"] == "broken"
    assert result.measurements["c2pa_trust"].startswith("trusted")  # the signer is still who it was
    failures = [row[1] for table in result.measurements["tables"] for row in table["rows"]
                if table["title"].startswith("Validation") and row[0] == "failure"]
    assert "assertion.dataHash.mismatch" in failures
    assert "assertion.dataHash.mismatch" in _notes(result)[1.0]


@pytest.mark.parametrize("suffix, mime, codec", [("mp3", "audio/mpeg", "libmp3lame"),
                                                 ("m4a", "audio/mp4", "aac"), ("flac", "audio/flac", None)])
def test_mp3_m4a_and_flac_credentials_are_read(tmp_path, chain, suffix, mime, codec):
    samples = (0.2 * np.sin(2 * np.pi * 330 * np.arange(2 * 44100) / 44100)).astype(np.float32)
    source = tmp_path / f"plain.{suffix}"
    if codec is None:
        sf.write(source, samples, 44100)
    else:
        write_with_pyav(source, samples, 44100, codec=codec, bit_rate=128000)
    signed = sign(source, tmp_path / f"signed.{suffix}", chain, mime)
    result = _run(signed, _anchors(tmp_path, chain.root_pem))
    assert result.measurements["c2pa_integrity"] == "intact"
    assert result.measurements["c2pa_trust"].startswith("trusted")
    assert result.measurements["c2pa_declared_source_types"] == ["digitalCapture"]


def test_a_damaged_manifest_store_is_said_unreadable_not_absent(tmp_path, wav, chain):
    signed = sign(wav, tmp_path / "signed.wav", chain, "audio/wav")
    data = bytearray(signed.read_bytes())
    at = data.find(b"jumb")
    assert at > 0
    data[at + 40:at + 240] = bytes(200)  # zero the store's description boxes
    damaged = tmp_path / "damaged.wav"
    damaged.write_bytes(bytes(data))
    result = _run(damaged)
    assert result.measurements["c2pa_manifest"] == "unreadable"
    assert result.measurements["c2pa_error"]
    assert [f.strength for f in result.findings] == [0.6]


def test_anchors_that_are_not_pem_certificates_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="holds no PEM certificate"):
        ContentCredentials(trust_anchors=_anchors(tmp_path, b"not a certificate\n"))


def test_a_format_without_c2pa_audio_is_skipped_with_the_reason(tmp_path):
    samples = (0.2 * np.sin(2 * np.pi * 330 * np.arange(48000) / 48000)).astype(np.float32)
    path = write_with_pyav(tmp_path / "voice.ogg", samples, 48000, codec="libopus", bit_rate=32000)
    result = _run(path)
    assert result.status == "skipped" and "ogg" in result.message


def test_the_run_records_the_anchors_it_read_in_report_and_manifest(tmp_path, wav, chain):
    from click.testing import CliRunner

    from workbench.cli import cli

    signed = sign(wav, tmp_path / "signed.wav", chain, "audio/wav")
    anchors = _anchors(tmp_path, chain.root_pem)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["analyze", str(signed), "-o", str(out), "--only", "c2pa",
                                      "--param", f"c2pa.trust_anchors={anchors.path}"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    entry = next(a for a in report["analyses"] if a["name"] == "c2pa")
    assert entry["measurements"]["c2pa_trust"].startswith("trusted")
    named = json.loads((out / "manifest.json").read_text())["named_files"]
    assert named == [{"parameter": "c2pa.trust_anchors", "path": anchors.path, "sha256": anchors.sha256}]
    summary = (out / "report.html").read_text()
    assert "C2PA manifest present: integrity intact, trust trusted" in summary
    assert "Perth watermark: not read (its analysis was not run)." in summary
    assert CliRunner().invoke(cli, ["verify", str(out)]).exit_code == 0
    Path(anchors.path).write_bytes(chain.root_pem + b"\n")  # the anchors changed after the run
    changed = CliRunner().invoke(cli, ["verify", str(out)])
    assert changed.exit_code != 0 and "named as c2pa.trust_anchors by the run, changed" in changed.output
