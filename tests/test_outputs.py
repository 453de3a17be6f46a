"""Outputs are never lost: another recording's report is not replaced, an unwritable folder is
one line and exit 6, a killed run leaves nothing that verifies, two runs never mix."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import scenes
from workbench.cli import cli
from workbench.outfolder import claimed


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_folder_holding_another_recordings_report_is_not_replaced(tmp_path, clean_wav, artifacts_wav):
    out = tmp_path / "out"
    assert invoke("-q", "analyze", clean_wav, "-o", out, "--only", "levels").exit_code == 0
    before = (out / "report.json").read_bytes()
    result = invoke("-q", "analyze", artifacts_wav, "-o", out, "--only", "levels")
    assert result.exit_code == 2
    assert "holds the report of another recording (clean.wav" in result.output and "--force" in result.output
    assert (out / "report.json").read_bytes() == before and invoke("verify", out).exit_code == 0
    assert invoke("-q", "analyze", artifacts_wav, "-o", out, "--only", "levels", "--force").exit_code == 0
    assert json.loads((out / "report.json").read_text())["evidence"]["path"].endswith("artifacts.wav")


def test_a_rerun_leaves_no_figure_or_excerpt_of_the_earlier_run_and_touches_nothing_else(tmp_path, artifacts_wav):
    out = tmp_path / "out"
    assert invoke("-q", "analyze", artifacts_wav, "-o", out, "--only", "levels,channels").exit_code == 0
    assert list((out / "figures").glob("levels-*"))
    (out / "notes.txt").write_text("the examiner's own file")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["../outside.txt"] = "0" * 64  # a manifest is data: never followed out
    (tmp_path / "outside.txt").write_text("keep")
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert invoke("-q", "analyze", artifacts_wav, "-o", out, "--only", "channels", "--force").exit_code == 0
    names = set(json.loads((out / "manifest.json").read_text())["files"])
    assert not any(n.startswith("figures/levels-") for n in names)
    assert not list((out / "figures").glob("levels-*"))
    assert (out / "notes.txt").exists() and (tmp_path / "outside.txt").exists()


@pytest.mark.parametrize("where", ["under-a-file", "proc", "read-only"])
def test_an_output_folder_that_cannot_be_made_or_written_is_one_line_and_exit_6(tmp_path, clean_wav, where):
    if where == "under-a-file":
        (tmp_path / "a-file").write_text("x")
        out = tmp_path / "a-file" / "out"
    elif where == "proc":
        out = Path("/proc/workbench-out")
    else:
        out = tmp_path / "ro"
        out.mkdir()
        out.chmod(0o555)
        # root writes into any folder; a read-only mount stops root too
        if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(out)],
                                                capture_output=True).returncode:
            pytest.skip("root, and a read-only tmpfs cannot be mounted here")
    try:
        result = invoke("-q", "analyze", clean_wav, "-o", out, "--only", "levels")
    finally:
        if where == "read-only" and os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(out)], capture_output=True)
    assert result.exit_code == 6, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: ") and "Traceback" not in result.output


@pytest.fixture
def small_disk(tmp_path):
    """A 300 kB tmpfs mounted in the test's own folder (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a size-limited tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_is_one_line_exit_6_and_leaves_no_manifest(small_disk, clean_wav):
    out = small_disk / "out"
    result = invoke("-q", "analyze", clean_wav, "-o", out)
    assert result.exit_code == 6, result.output
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert not (out / "manifest.json").exists()
    assert invoke("verify", out).exit_code == 2  # no manifest: nothing there is accepted as a report


def test_a_run_killed_half_way_leaves_nothing_that_verifies(tmp_path):
    clip = scenes.clean(seed=8, duration_s=90.0, sample_rate_hz=44100).write(tmp_path / "long.wav")
    out = tmp_path / "out"
    assert invoke("-q", "analyze", clip, "-o", out, "--only", "levels").exit_code == 0
    assert invoke("verify", out).exit_code == 0
    # Redone with every analysis, killed once the new run has started writing.
    process = subprocess.Popen([sys.executable, "-m", "workbench", "-q", "analyze", str(clip), "-o", str(out),
                                "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while (out / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    still_running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert still_running, "the run ended before it could be killed"
    assert invoke("verify", out).exit_code != 0


def test_a_folder_another_run_holds_is_refused_and_left_alone(tmp_path, clean_wav):
    out = tmp_path / "out"
    out.mkdir()
    with claimed(out):
        result = invoke("-q", "analyze", clean_wav, "-o", out, "--only", "levels")
    assert result.exit_code == 6 and "another workbench run is writing here" in result.output
    assert list(out.iterdir()) == []
    assert invoke("-q", "analyze", clean_wav, "-o", out, "--only", "levels").exit_code == 0
