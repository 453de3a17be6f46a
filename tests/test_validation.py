import json

import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.rates import FORMAT_NAME, FORMAT_VERSION
from workbench.validation.generated import PLANTERS, summary_rows


def test_quick_validation_runs_and_every_kind_has_a_row(tmp_path):
    result = CliRunner().invoke(cli, ["-q", "validate", "--quick", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "validation.json").read_text())
    assert [row["kind"] for row in data["rows"] if not row["reference"]] == list(PLANTERS)
    assert [row["kind"] for row in data["rows"] if row["reference"]] == ["discontinuity"]
    strong = {row["kind"]: row["detected_strong"] for row in data["rows"]}
    # Strong artifacts at 16 kHz in quiet speech are all found; the set must be able to fail.
    assert all(rate == 1.0 for rate in strong.values()), strong
    assert "| `digital_silence` | levels |" in (tmp_path / "validation.md").read_text()
    rates = json.loads((tmp_path / "rates.json").read_text())  # what make validate ships
    assert (rates["format"], rates["format_version"]) == (FORMAT_NAME, FORMAT_VERSION)
    assert rates["rows"] == data["rows"] and rates["tool_version"] == data["tool_version"]


def test_the_shipped_rates_are_read_by_kind_and_another_format_is_not(tmp_path, monkeypatch):
    from workbench import rates

    shipped = rates.rates_by_kind()
    assert set(PLANTERS) <= set(shipped) and all(not row.get("reference") for row in shipped.values())
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / rates.RATES_FILE).write_text(json.dumps({"format": "other", "format_version": 1, "rows": [{"kind": "clipping", "analysis": "levels"}]}))
    monkeypatch.setattr(rates, "files", lambda package: tmp_path)
    rates.rates_by_kind.cache_clear()
    try:
        assert rates.rates_by_kind() == {}
    finally:
        rates.rates_by_kind.cache_clear()


def test_summary_counts_detections_and_false_flags():
    cases = [
        {"kind": "clipping", "strength": "moderate", "rate": 8000, "detected": True, "error_s": 0.2},
        {"kind": "clipping", "strength": "moderate", "rate": 8000, "detected": False, "error_s": None},
        {"kind": "clipping", "strength": "moderate", "rate": 48000, "detected": True, "error_s": 0.1},
        {"kind": "clipping", "strength": "weak", "rate": 8000, "detected": False, "error_s": None},
        {"kind": "discontinuity", "strength": "moderate", "rate": 8000, "detected": True, "error_s": 0.0,
         "reference": True},
    ]
    every = summary_rows(cases, {"clipping": 3}, clean_hours=0.5)
    rows = {r["kind"]: r for r in every if not r["reference"]}
    assert rows["clipping"]["detected_moderate"] == 2 / 3 and rows["clipping"]["detected_weak"] == 0.0
    assert rows["clipping"]["detected_moderate_by_rate"] == {"8000": 0.5, "48000": 1.0}
    assert rows["clipping"]["median_error_s"] == pytest.approx(0.15) and rows["clipping"]["false_flags_per_hour"] == 6.0
    assert rows["digital_silence"]["detected_moderate"] is None
    assert rows["discontinuity"]["detected_moderate"] is None  # the reference case is its own row
    assert [r["detected_moderate"] for r in every if r["reference"]] == [1.0]


def test_a_splice_planted_by_visibility_has_that_visibility_at_every_rate():
    """Visibility: the departure at the join over the local prediction-error RMS, the same
    yardstick at 8 and 48 kHz (a fixed departure is not)."""
    import numpy as np

    from workbench.validation.planters import splice_by_visibility
    from workbench.validation.generated import Condition, _base

    for rate in (8000, 48000):
        condition = Condition(rate, "speech", "noisy", 3)
        base = _base(condition, 20.0, 1)
        _, (truth,) = splice_by_visibility(base, rate, np.random.default_rng(1), 20.0, 10.0, condition)
        assert abs(truth.details["visibility"] - 10.0) <= 1.0, (rate, truth.details)


def test_reports_cite_the_measured_rates(clean_wav, tmp_path):
    CliRunner().invoke(cli, ["-q", "analyze", str(clean_wav), "-o", str(tmp_path), "--only", "levels"])
    report = json.loads((tmp_path / "report.json").read_text())
    kinds = [row["kind"] for row in report["analyses"][0]["validation"]]
    assert kinds == ["digital_silence", "clipping", "dc_offset_change"]
    assert "Measured error rates" in (tmp_path / "report.html").read_text()
