import csv
import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from workbench.material import plant
from fixtures import scenes
from workbench.cli import cli
from workbench.core.hashing import sha256_file
from workbench.registry import available
from workbench.validation.intervals import poisson_interval
from workbench.validation.real import (
    TUNING_SOURCES, background_dbfs, false_flag_rows, false_flags, genuine_recordings,
)

FIELDS = ["path", "source_repo", "source_path", "commit", "license", "label", "speaker_or_notes",
          "sample_rate", "channels", "duration_s", "sha256"]


def _corpus(tmp_path):
    """A small corpus: a clean recording in a tuning source, one with 0.3 s of digital silence
    planted at 6 s in a measuring source, a synthetic one, and a file whose hash is wrong."""
    root = tmp_path / "corpus"
    rows = []

    def add(relative, samples, rate, label="genuine", sha=None):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, samples, rate, subtype="PCM_16")
        rows.append({"path": relative, "label": label, "sample_rate": rate, "channels": 1,
                     "duration_s": len(samples) / rate, "sha256": sha or sha256_file(path)})

    clean = scenes.clean(seed=5, duration_s=12.0, sample_rate_hz=16000).samples[:, 0]
    add("realworld/fsdd/clean.wav", clean, 16000)
    silenced, _ = plant.digital_silence(clean[:, None].copy(), 16000, start_s=6.0, length_s=0.3)
    add("measured_source/edited.wav", silenced[:, 0], 16000)
    add("measured_source/tts.wav", clean, 16000, label="synthetic")
    add("measured_source/tampered.wav", clean, 16000, sha="0" * 64)
    for manifest_dir, prefix in ((root, ""), (root / "realworld", "realworld/")):
        mine = [r for r in rows if r["path"].startswith(prefix) and (prefix or not r["path"].startswith("realworld/"))]
        with (manifest_dir / "MANIFEST.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, FIELDS, extrasaction="ignore", restval="")
            writer.writeheader()
            writer.writerows([{**r, "path": r["path"][len(prefix):]} for r in mine])
    return root


def test_genuine_recordings_are_split_by_source(tmp_path):
    recordings = {r.path.name: r for r in genuine_recordings(_corpus(tmp_path))}
    assert sorted(recordings) == ["clean.wav", "edited.wav", "tampered.wav"]  # not the synthetic one
    assert recordings["clean.wav"].source == "realworld/fsdd" and "realworld/fsdd" in TUNING_SOURCES
    assert recordings["clean.wav"].half == "tuning"
    assert recordings["edited.wav"].source == "measured_source" and recordings["edited.wav"].half == "measuring"


def test_flags_on_genuine_recordings_land_in_their_half_and_a_bad_hash_is_left_out(tmp_path):
    analyses = {name: cls() for name, cls in available().items() if name == "levels"}
    measured = false_flags(genuine_recordings(_corpus(tmp_path)), analyses)
    assert [(f["kind"], f["half"]) for f in measured["flags"]] == [("digital_silence", "measuring")]
    assert abs(measured["flags"][0]["start_s"] - 6.0) < 0.05
    assert [item["path"].endswith("tampered.wav") for item in measured["left_out"]] == [True]
    assert "differs from the manifest" in measured["left_out"][0]["reason"]
    rows = {row["kind"]: row for row in false_flag_rows(measured, "measuring")}
    assert rows["digital_silence"]["flags"] == 1
    assert rows["digital_silence"]["hours"] == pytest.approx(12.0 / 3600)
    assert rows["digital_silence"]["per_hour"] == pytest.approx(300.0)
    assert rows["all kinds"]["flags"] == 1
    tuning = {row["kind"]: row for row in false_flag_rows(measured, "tuning")}
    assert tuning["all kinds"]["flags"] == 0 and tuning["all kinds"]["hours"] == pytest.approx(12.0 / 3600)
    assert tuning["enf_discontinuity"]["hours"] == 0 and tuning["enf_discontinuity"]["per_hour"] is None


@pytest.mark.parametrize("count, low, high", [(0, 0.0, 3.689), (1, 0.0253, 5.572), (10, 4.795, 18.39)])
def test_poisson_interval_is_the_exact_garwood_interval(count, low, high):
    """Reference values: Garwood (1936), as tabulated for 95 % two-sided intervals."""
    got = poisson_interval(count, 1.0)
    assert got == pytest.approx((low, high), abs=2e-3)
    assert poisson_interval(count, 0.5) == pytest.approx((2 * got[0], 2 * got[1]))


def test_background_level_is_read_in_the_quiet_frames_and_ignores_digital_zero(rng):
    x = np.concatenate([np.zeros(8000), rng.standard_normal(80000) * 10 ** (-50 / 20)])[:, None]
    x[40000:60000] += 0.3 * rng.standard_normal((20000, 1))
    assert abs(background_dbfs(x, 8000) - (-50.0)) < 1.5


def test_validate_with_a_corpus_writes_both_tables_and_reports_cite_the_real_row(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "validate", "--quick", "-o", str(out), "--corpus",
                                      str(_corpus(tmp_path))])
    assert result.exit_code == 0, result.output
    text = (out / "validation.md").read_text()
    assert "## Real recordings: flags on genuine recordings" in text
    assert "**Measuring half**" in text and "`measured_source`" in text and "`realworld/fsdd`" in text
    assert "| `digital_silence` | levels | 1 / 0.003 |" in text
    assert "## Real recordings: artifacts planted into genuine recordings" in text
    assert "**Target: fewer than 6 flagged places per hour, all kinds together, on the measuring half: not met**" in text
    assert "**Target: at least 90% of moderate artifacts of every kind found within 1 s" in text
    assert "## Real recordings: edits made of real material" in text and "stretch re-encoded, MP3 16 kbps" in text
    data = json.loads((out / "validation.json").read_text())
    cited = {row["kind"]: row for row in data["rows"] if not row["reference"]}
    assert cited["digital_silence"]["real_false_flags"] == 1
    assert cited["digital_silence"]["real_planted_moderate"] >= 1
    # The speaker analysis has no generated cases: its real false-flag rate gets a row of its own.
    assert cited["speaker_change"]["real_only"] and cited["speaker_change"]["real_false_flags"] == 0
    assert "detected_moderate" not in cited["speaker_change"]
    every = data["real"]["false_flags"]["measuring"][-1]
    assert every["kind"] == "all kinds" and every["flags"] >= 1
    assert cited["digital_silence"]["real_all_kinds_per_hour"] == every["per_hour"]
    assert "tampered.wav" in text
    # The countermeasure tables: the measuring half holds one genuine and one synthetic recording
    # (a family the back-end never saw); the tampered file is left out of them too.
    assert "## Genuine against synthetic speech: three countermeasures and a fitted back-end" in text
    measured = data["countermeasure"]
    assert measured["recordings"]["measuring"] == {"genuine": 1, "synthetic": 1}
    pooled = [r for c in measured["candidates"] for r in c["rows"]
              if r["half"] == "measuring" and r["view"] == "published" and r["group"] == "pooled"]
    assert len(pooled) == len(measured["candidates"]) and all(r["genuine"] == r["synthetic"] == 1 for r in pooled)
    assert any("tampered.wav" in r["path"] for r in measured["left_out"])
    assert (out / "countermeasure_backend.json").exists() and "countermeasure_score" in cited
    # The join detector is fitted first; this corpus's tuning half holds no two sources to join, so
    # the run says so and measures the shipped one. The rows cite the edits each kind speaks for.
    assert "The join detector was not fitted" in text and "two sources to make joins from" in text
    assert cited["channel_change"]["real_only"]
    assert {e["edit"] for e in cited["bandwidth_change"]["real_edits"]} >= {"stretch re-encoded, MP3 16 kbps, recordings at 16-31 kHz"}


def test_validate_refuses_a_missing_corpus_in_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["-q", "validate", "--quick", "-o", str(tmp_path / "o"),
                                      "--corpus", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_the_detection_target_says_which_kinds_miss_it_and_where_the_analysis_did_not_judge():
    from workbench.validation.real import _detection_target, detection_rows

    def case(kind, detected, judged):
        return {"kind": kind, "strength": "moderate", "half": "measuring", "detected": detected,
                "judged": judged, "error_s": 0.1 if detected else None}

    cases = ([case("digital_silence", True, True)] * 10
             + [case("noise_floor_change", True, True)] * 3 + [case("noise_floor_change", False, True)]
             + [case("noise_floor_change", False, False)] * 4)
    line = _detection_target(detection_rows(cases, "measuring"))
    assert "on the measuring half: not met.** Met by `digital_silence` 100% of 10;" in line
    assert "not met by `noise_floor_change` 38% of 8." in line
    assert "`noise_floor_change` judged 4 of 8, 75% found there." in line


def test_pause_share_counts_frames_well_under_the_loud_ones_and_the_table_bins_them(rng):
    from workbench.validation.real import noise_floor_by_pauses, pause_share

    rate = 16000
    loud = 0.3 * rng.standard_normal(rate * 8)
    loud[: rate * 2] *= 0.01  # 2 s of 40 dB quieter: a pause
    loud[rate * 2 : rate * 2 + 800] = 0.0  # exact zero is left out, not a pause
    assert pause_share(loud[:, None], rate) == pytest.approx(2 / 8 - 0.05 / 8, abs=0.01)
    cases = [{"kind": "noise_floor_change", "strength": "moderate", "half": "measuring", "pause_share": s,
              "judged": j, "detected": d} for s, j, d in ((0.05, True, True), (0.2, False, False), (0.2, True, False))]
    lines = noise_floor_by_pauses(cases)
    assert "| measuring | under 10 % | 1 | 1 | 1 | 100% |" in lines
    assert "| measuring | 10-25 % | 2 | 1 | 0 | 0% |" in lines and "| tuning | 25 % or more | 0 | 0 | 0 | n/a |" in lines
