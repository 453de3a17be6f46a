"""Smoke test of the performance harness on a 10-second clip (timings are not asserted)."""

from benchmarks import run


def test_harness_runs_and_writes_its_table(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "CACHE", tmp_path)
    text = run.main(["--minutes", str(10 / 60), "--aac-minutes", str(10 / 60), "--no-peers",
                     "--batch-clips", "1", "--output", str(tmp_path / "results.md")])
    assert "| 0.166667 min |" in text or "| 0.1667 min |" in text
    assert "| 0.166667 min AAC |" in text
    assert "| levels |" in text and (tmp_path / "results.md").exists()
    assert "| 1 | 2 |" in text  # the batch row: one message, two jobs
    assert "| figures, timeline and report writing |" in text
    assert "Figures of a 15-s voice message" in text


def test_batch_costs_split_each_run_into_its_analyses_and_the_rest(tmp_path):
    import json

    for i, (run_s, analyses) in enumerate(((10.0, {"a": 4.0, "b": 1.0}), (6.0, {"a": 2.0, "b": 3.0}))):
        (tmp_path / str(i)).mkdir()
        (tmp_path / str(i) / "report.json").write_text(json.dumps({
            "run": {"wall_time_s": run_s},
            "analyses": [{"name": k, "wall_time_s": v} for k, v in analyses.items()]}))
    costs = run.batch_costs(tmp_path)
    assert list(costs) == ["a", "b", "figures, timeline and report writing"]
    assert costs == {"a": 3.0, "b": 2.0, "figures, timeline and report writing": 3.0}


def test_a_run_that_fails_is_not_timed():
    """A peer that cannot import (exit 1) must not enter the table as a fast tool."""
    import sys

    import pytest

    with pytest.raises(RuntimeError, match="exited 1"):
        run._measure([sys.executable, "-c", "raise SystemExit(1)"])
    assert run._measure([sys.executable, "-c", "pass"])["wall_s"] > 0
