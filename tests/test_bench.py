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


def test_a_run_that_fails_is_not_timed():
    """A peer that cannot import (exit 1) must not enter the table as a fast tool."""
    import sys

    import pytest

    with pytest.raises(RuntimeError, match="exited 1"):
        run._measure([sys.executable, "-c", "raise SystemExit(1)"])
    assert run._measure([sys.executable, "-c", "pass"])["wall_s"] > 0
