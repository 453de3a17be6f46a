import json

import numpy as np
import pytest
from click.testing import CliRunner

from workbench.analyses.voice import Voice
from conftest import clip_of
from fixtures import scenes
from workbench.analyses.common.comparable import Side
from workbench.analyses.comparison import compare as compare_declared, declarations
from workbench.cli import cli
from workbench.core.hashing import sha256_file
from workbench.core.model import jsonable
from workbench.registry import build


def compare(disputed, references):
    """The comparison over every built-in analysis's declarations."""
    return compare_declared(disputed, references, declarations(build()))


def _side(name, voice_result, **evidence):
    return Side(name, {"duration_s": 20.0, "container": "wav", "codec": "pcm_s16le", **evidence},
                {"voice": jsonable(voice_result.measurements)})


@pytest.fixture(scope="module")
def voices():
    """Voice results of four recordings of speaker a and one of speaker b (20 s each)."""
    run = lambda name, seed: Voice().run(clip_of(scenes.speaker(name, seed=seed, duration_s=20.0)))
    return {"refs": [run("a", seed) for seed in (71, 72, 73)], "a": run("a", 74), "b": run("b", 75)}


def _rows(result):
    return {row["measure"]: row for row in result.measurements["rows"]}


def test_a_clip_of_the_same_speaker_lands_inside_the_references(voices):
    refs = [_side(f"r{i}", r) for i, r in enumerate(voices["refs"])]
    result = compare(_side("a", voices["a"]), refs)
    assert result.status == "ok"
    outside = [row["measure"] for row in result.measurements["rows"] if row["outside"]]
    assert outside == []
    assert [f for f in result.findings if f.kind == "reference_mismatch"] == []
    f0 = _rows(result)["voice.f0_median_hz"]
    assert f0["n_refs"] == 3 and f0["ref_min"] <= f0["ref_median"] <= f0["ref_max"]
    assert f0["z"] is not None and 0 <= f0["percentile"] <= 100


def test_another_speaker_is_outside_on_f0_formants_and_spectrum(voices):
    refs = [_side(f"r{i}", r) for i, r in enumerate(voices["refs"])]
    result = compare(_side("b", voices["b"]), refs)
    rows = _rows(result)
    # Formants are 15 % higher: beyond the 10 % tolerance, F3 (least vowel-dependent) shows it.
    for measure in ("voice.f0_median_hz", "voice.f3_median_hz", "ltas.distance_db"):
        assert rows[measure]["outside"] and rows[measure]["strength"] > 0.5, rows[measure]
    mismatches = {f.details["measure"]: f for f in result.findings}
    assert "voice.f0_median_hz" in mismatches
    finding = mismatches["voice.f0_median_hz"]
    assert finding.kind == "reference_mismatch" and not finding.flagged and finding.details["whole_clip"]
    assert "F0 median" in finding.summary
    assert {fig.name for fig in result.figures} == {"measures", "curves"}


def test_a_category_no_reference_has_is_a_mismatch(voices):
    refs = [_side(f"r{i}", r, container="wav") for i, r in enumerate(voices["refs"])]
    rows = _rows(compare(_side("a", voices["a"], container="mp4"), refs))
    assert rows["evidence.container"]["outside"] and rows["evidence.container"]["references"] == ["wav"] * 3
    assert not rows["evidence.codec"]["outside"]


def test_one_reference_gives_no_yardstick_for_distances(voices):
    result = compare(_side("b", voices["b"]), [_side("r0", voices["refs"][0])])
    row = _rows(result)["ltas.distance_db"]
    assert row["n_refs"] == 1 and row["ref_min"] is None and not row["outside"]  # one reference, no yardstick
    assert _rows(result)["voice.f0_median_hz"]["z"] is None


def test_no_references_is_skipped(voices):
    assert compare(_side("a", voices["a"]), []).status == "skipped"


@pytest.fixture(scope="module")
def rooms():
    """Noise-floor results of one generated room recorded at 8 kHz, at 48 kHz, and at 48 kHz with
    white noise 10 dB over the room tone added throughout."""
    from workbench.analyses.noise_floor import NoiseFloor

    run = lambda rate, seed: NoiseFloor().run(clip_of(scenes.clean(seed=seed, duration_s=20.0, sample_rate_hz=rate)))
    noisy = scenes.clean(seed=83, duration_s=20.0, sample_rate_hz=48000)
    noisy.samples = noisy.samples + np.random.default_rng(0).standard_normal(noisy.samples.shape) * 10 ** (-52 / 20)
    return {"phone": run(8000, 81), "refs": [run(48000, seed) for seed in (82, 84)],
            "noisy": NoiseFloor().run(clip_of(noisy))}


def _room(name, result):
    return Side(name, {"duration_s": 20.0}, {"noise_floor": jsonable(result.measurements)})


def test_noise_floor_is_compared_over_the_bands_every_recording_has(rooms):
    """An 8 kHz clip has fewer noise-floor bands than 48 kHz references (its top band ends below
    its Nyquist); the comparison sums the bands all of them measured, not each one's own set."""
    refs = [_room(f"r{i}", r) for i, r in enumerate(rooms["refs"])]
    phone = rooms["phone"].measurements
    assert len(phone["band_edges_hz"]) < len(rooms["refs"][0].measurements["band_edges_hz"])
    row = _rows(compare(_room("phone", rooms["phone"]), refs))["noise_floor.band_floor_dbfs_median"]
    assert "2 bands, 894-2675 Hz" in row["note"], row
    assert not row["outside"] and abs(row["disputed"] - row["ref_median"]) < 2.0, row
    noisy = _rows(compare(_room("noisy", rooms["noisy"]), refs))["noise_floor.band_floor_dbfs_median"]
    assert noisy["outside"] and noisy["disputed"] - noisy["ref_max"] > 6.0, noisy


def test_every_measure_panel_shows_each_reference(voices, rooms):
    """One grey dot per reference value in each panel, derived measures (noise floor) included."""
    sides = [Side(f"r{i}", {"duration_s": 20.0}, {"voice": jsonable(v.measurements),
                                                 "noise_floor": jsonable(n.measurements)})
             for i, (v, n) in enumerate(zip(voices["refs"], [*rooms["refs"], rooms["noisy"]]))]
    result = compare(sides[0], sides[1:])
    numeric = [row for row in result.measurements["rows"] if row["kind"] == "numeric"]
    assert "noise_floor.band_floor_dbfs_median" in {row["measure"] for row in numeric}
    panels = [ax for ax in result.figures[0].figure.axes if ax.get_visible()]
    assert len(panels) == len(numeric)
    for ax, row in zip(panels, numeric):
        grey = ax.lines[0].get_ydata()
        assert len(grey) == row["n_refs"] == 2 and sorted(grey) == sorted(row["ref_values"]), row["measure"]


def _unit(v):
    return (v / np.linalg.norm(v)).tolist()


def test_a_segment_unlike_the_references_is_flagged_where_it_is():
    rng = np.random.default_rng(5)
    speaker, other = rng.random(256), rng.random(256)
    near = lambda v: _unit(v + 0.05 * rng.random(256))
    refs = [Side(f"r{i}", {}, {"speaker": {"embedding": near(speaker), "segments": [
        {"start_s": 2.0 * k, "end_s": 2.0 * k + 2.0, "embedding": near(speaker)} for k in range(5)]}})
        for i in range(3)]
    segments = [{"start_s": 2.0 * k, "end_s": 2.0 * k + 2.0,
                 "embedding": _unit((other if k == 6 else speaker) + 0.05 * rng.random(256))} for k in range(10)]
    disputed = Side("clip", {"duration_s": 20.0},
                    {"speaker": {"embedding": _unit(speaker), "segments": segments}})
    result = compare(disputed, refs)
    flagged = [f for f in result.findings if f.flagged]
    assert [(f.start_s, f.end_s) for f in flagged] == [(12.0, 14.0)]
    assert "speaker" in {fig.name for fig in result.figures}
    assert not _rows(result)["speaker.similarity"]["outside"]


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refs")
    refs = [scenes.speaker("a", seed=80 + i, duration_s=12.0).write(folder / f"ref{i}.wav") for i in range(2)]
    clip = scenes.speaker("b", seed=90, duration_s=12.0).write(folder / "disputed.wav")
    bad = folder / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    hashes = {p: sha256_file(p) for p in [*refs, clip]}
    out = folder / "out"
    args = ["-q", "analyze", str(clip), "-o", str(out), "--only", "voice,bandwidth,metadata"]
    result = CliRunner().invoke(cli, [*args, *(a for r in [*refs, bad] for a in ("-r", str(r)))])
    return {"result": result, "out": out, "refs": refs, "clip": clip, "hashes": hashes}


def test_references_are_hashed_analysed_and_listed(reference_run):
    out = reference_run["out"]
    report = json.loads((out / "report.json").read_text())
    assert [r["sha256"] for r in report["references"]] == [sha256_file(p) for p in reference_run["refs"]]
    assert all(r["sha256_after"] == r["sha256"] for r in report["references"])
    assert report["references"][0]["report"] == "references/ref0/report.html"
    for name in ("ref0", "ref1"):
        ref_report = json.loads((out / "references" / name / "report.json").read_text())
        assert ref_report["evidence"]["role"] == "reference"
    comparison = next(a for a in report["analyses"] if a["name"] == "comparison")
    assert comparison["status"] == "ok"
    assert any(f["details"]["measure"] == "voice.f0_median_hz" for f in comparison["findings"])
    html = (out / "report.html").read_text()
    assert "Reference recordings" in html and "The clip beside the references" in html
    for path, digest in reference_run["hashes"].items():
        assert sha256_file(path) == digest


def test_an_unreadable_reference_is_named_and_the_rest_go_on(reference_run):
    result = reference_run["result"]
    assert result.exit_code == 3
    assert "reference" in result.output and "broken.wav" in result.output
    assert "Traceback" not in result.output


def test_references_cannot_be_given_with_a_case(tmp_path):
    result = CliRunner().invoke(cli, ["analyze", "--case", str(tmp_path), "-r", str(tmp_path / "x.wav")])
    assert result.exit_code == 2 and "--reference" in result.output


def _scored(name, scores):
    windows = [{"start_s": 4.0 * i, "end_s": 4.0 * i + 4.04, "score": s} for i, s in enumerate(scores)]
    return Side(name, {"duration_s": 40.0}, {"synthesis": {"window_scores": windows}})


def test_countermeasure_windows_are_set_among_the_references_windows():
    refs = [_scored("r0", [-3.0, -2.5, -2.8]), _scored("r1", [-2.0, -3.2, -2.6, -2.9])]
    inside = _rows(compare(_scored("like", [-2.7, -2.9, -2.4]), refs))["synthesis.window_scores"]
    assert not inside["outside"] and inside["n_refs"] == 2 and inside["ref_max"] == -2.0
    assert "among 7 windows of 2 reference(s); 0 of its windows above every reference window" in inside["note"]
    high = _rows(compare(_scored("unlike", [0.5, 1.2, -2.5, 0.9]), refs))["synthesis.window_scores"]
    assert high["outside"] and high["percentile"] == 100.0
    assert high["disputed"] == pytest.approx(0.7)
    assert "3 of its windows above every reference window" in high["note"]


def test_the_n_of_a_distance_row_counts_references_not_pairs(voices):
    result = compare(_side("b", voices["b"]), [_side(f"r{i}", r) for i, r in enumerate(voices["refs"])])
    row = _rows(result)["ltas.distance_db"]
    assert row["n_refs"] == len(voices["refs"])
