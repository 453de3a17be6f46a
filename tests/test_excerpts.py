"""Audio excerpts at the places to listen to: where they are cut, that they are lossless, and
how the HTML embeds them."""

import base64
import hashlib
import re

import numpy as np
import pytest
import soundfile as sf

from workbench.material import plant
from fixtures import scenes
from workbench import registry
from workbench.evidence import open_evidence
from workbench.pipeline import Request, analyze_clip
from workbench.reports import excerpts as excerpts_module
from workbench.reports.excerpts import CONTEXT_S, excerpt_span

RATE = 16000


def _report(tmp_path, silences_s=(), duration_s=20.0):
    fixture = scenes.clean(seed=81, duration_s=duration_s, sample_rate_hz=RATE)
    samples = fixture.samples
    for start in silences_s:
        samples, _ = plant.digital_silence(samples, RATE, start_s=start, length_s=0.3)
    path = scenes.Fixture(samples, RATE).write(tmp_path / "clip.wav")
    report = analyze_clip(open_evidence(path), tmp_path / "out", Request(registry.build(only=["levels"]), "x"))
    return report, tmp_path / "out"


def test_each_place_gets_a_lossless_excerpt_with_context_either_side(tmp_path):
    report, out = _report(tmp_path, silences_s=(9.0,))
    (item,) = report.excerpts["items"]
    assert item["place"] == 1 and item["kind"] == "digital_silence"
    assert item["start_s"] == pytest.approx(item["place_start_s"] - CONTEXT_S)
    assert item["end_s"] == pytest.approx(item["place_end_s"] + CONTEXT_S)
    assert item["place_start_s"] == pytest.approx(9.0, abs=0.01)
    data = (out / item["path"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == item["sha256"] and len(data) == item["size_bytes"]
    audio, rate = sf.read(out / item["path"], dtype="float32", always_2d=True)
    first = int(round(item["start_s"] * RATE))
    assert rate == RATE and item["format"] == "FLAC 16-bit"
    evidence, _ = sf.read(tmp_path / "clip.wav", dtype="float32", always_2d=True)
    np.testing.assert_array_equal(audio, evidence[first:first + audio.shape[0]])  # bit for bit
    assert (out / item["figure"]).exists()
    html = (out / "report.html").read_text()
    assert "media-src data:" in html
    (uri,) = re.findall(r'<audio controls preload="none" src="data:audio/flac;base64,([^"]+)"', html)
    assert base64.b64decode(uri) == data
    manifest = (out / "manifest.json").read_text()
    assert item["path"] in manifest and item["figure"] in manifest


def test_a_clean_clip_has_no_excerpts(tmp_path):
    report, out = _report(tmp_path)
    assert report.timeline == [] and report.excerpts == {}
    assert not (out / "excerpts").exists() and "<audio" not in (out / "report.html").read_text()


def test_excerpts_beyond_the_pages_budget_are_named_not_embedded(tmp_path, monkeypatch):
    monkeypatch.setattr(excerpts_module, "EMBED_BUDGET_BYTES", 1)
    monkeypatch.setattr("workbench.reports.html.EMBED_BUDGET_BYTES", 1)
    report, out = _report(tmp_path, silences_s=(5.0, 14.0))
    assert len(report.excerpts["items"]) == 2
    for item in report.excerpts["items"]:  # every excerpt decodes and covers its place
        info = sf.info(out / item["path"])
        assert info.duration == pytest.approx(item["end_s"] - item["start_s"], abs=1 / RATE)
        assert item["start_s"] < item["place_start_s"] <= item["place_end_s"] < item["end_s"]
    html = (out / "report.html").read_text()
    assert "<audio" not in html and html.count("Not embedded here") == 2
    assert all(item["path"] in html for item in report.excerpts["items"])


def test_an_excerpt_span_stays_inside_the_clip_and_a_long_place_is_cut():
    assert excerpt_span(0.5, 0.7, 10.0) == (0.0, 0.7 + CONTEXT_S)
    assert excerpt_span(9.0, 9.9, 10.0) == (9.0 - CONTEXT_S, 10.0)
    assert excerpt_span(1.0, 60.0, 100.0) == (0.0, 1.0 + excerpts_module.MAX_PLACE_S + CONTEXT_S)
