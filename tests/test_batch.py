import json
import os

from click.testing import CliRunner

import workbench
from workbench.cli import cli
from workbench.progress import Progress


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_parallel_batch_finishes_the_rest_when_one_clip_is_corrupt(tmp_path, clean_wav, artifacts_wav):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF" + bytes(200))
    out = tmp_path / "batch"
    result = invoke("-q", "analyze", clean_wav, corrupt, artifacts_wav, "-o", out, "--jobs", "2",
                    "--only", "levels,metadata")
    assert result.exit_code == 3
    assert "corrupt.wav" in result.output and "Traceback" not in result.output
    rows = json.loads((out / "index.json").read_text())["clips"]
    assert [r["status"] for r in rows] == ["done", "unreadable", "done"]
    assert rows[2]["flagged"] >= 3 and rows[2]["duration_s"] > 20
    index = (out / "index.html").read_text()
    assert "could not be read" in index and 'href="artifacts/report.html"' in index


def test_rerun_skips_finished_clips_and_force_redoes_them(tmp_path, clean_wav, artifacts_wav):
    out = tmp_path / "batch"
    args = ["analyze", clean_wav, artifacts_wav, "-o", out, "--only", "levels"]
    assert invoke(*args).exit_code == 0
    stamp = (out / "clean" / "report.json").stat().st_mtime_ns
    again = invoke(*args)
    assert again.exit_code == 0 and again.output.count("skipped (--force to redo)") == 2
    assert (out / "clean" / "report.json").stat().st_mtime_ns == stamp
    changed = invoke(*args, "--param", "levels.min_silence_s=0.05")
    assert "skipped" not in changed.output
    forced = invoke(*args, "--param", "levels.min_silence_s=0.05", "--force")
    assert "skipped" not in forced.output and forced.exit_code == 0


def test_a_report_from_an_older_analysis_version_is_redone(tmp_path, clean_wav):
    out = tmp_path / "batch"
    args = ["analyze", clean_wav, "-o", out, "--only", "levels"]
    assert invoke(*args).exit_code == 0
    report = out / "report.json"
    data = json.loads(report.read_text())
    data["analyses"][0]["version"] = "0.9"  # as an earlier release of the tool would have written
    report.write_text(json.dumps(data))
    again = invoke(*args)
    assert again.exit_code == 0 and "skipped" not in again.output
    assert json.loads(report.read_text())["analyses"][0]["version"] != "0.9"


def test_dask_local_cluster_runs_the_same_per_clip_work(tmp_path, clean_wav, artifacts_wav):
    from distributed import LocalCluster

    out = tmp_path / "cluster"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = invoke("-q", "analyze", clean_wav, artifacts_wav, "-o", out, "--only", "levels",
                        "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "index.json").read_text())["clips"]
    assert [r["status"] for r in rows] == ["done", "done"]
    assert json.loads((out / "artifacts" / "report.json").read_text())["timeline"]


def test_unreachable_scheduler_is_a_clear_error(tmp_path, clean_wav, monkeypatch):
    from workbench import batch

    monkeypatch.setattr(batch, "SCHEDULER_TIMEOUT_S", 1)
    result = invoke("-q", "analyze", clean_wav, "-o", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9",
                    "--only", "metadata")
    assert result.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output


class Recorded(Progress):
    """Keeps what a run tells its caller."""

    def __init__(self):
        self.begun, self.steps, self.problems, self.lines, self.ended = [], [], [], [], 0

    def begin(self, steps, per_clip):
        self.begun.append((steps, per_clip))

    def step(self, label):
        self.steps.append(label)

    def problem(self, line):
        self.problems.append(line)

    def summary(self, line):
        self.lines.append(line)

    def end(self):
        self.ended += 1


def test_the_run_is_driven_from_the_library_and_its_exit_code_chosen_there(tmp_path, clean_wav):
    from workbench.batch import exit_code
    from workbench.core.errors import EXIT_ANALYSIS_ERROR, EXIT_EVIDENCE, EXIT_EVIDENCE_CHANGED, EXIT_OK

    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF" + bytes(200))
    progress = Recorded()
    batch = workbench.analyze_many([clean_wav, corrupt], tmp_path / "out",
                                   workbench.Options(workbench.build(only=["levels"]), formats=("json",)),
                                   progress=progress)
    assert batch.code == EXIT_EVIDENCE
    assert [o.row["status"] for o in batch.outcomes.values()] == ["done", "unreadable"]
    assert len(progress.problems) == 1 and "corrupt.wav" in progress.problems[0]
    assert any("flagged place(s)" in line for line in progress.lines)
    assert any(line.startswith("index:") for line in progress.lines)
    assert progress.begun == [(4, 2)] and progress.ended == 1  # levels and the timeline, per clip
    assert progress.steps == [f"{clean_wav.name}: levels", f"{clean_wav.name}: timeline"]
    assert exit_code([EXIT_OK, EXIT_ANALYSIS_ERROR, EXIT_EVIDENCE]) == EXIT_EVIDENCE
    assert exit_code([EXIT_ANALYSIS_ERROR, EXIT_EVIDENCE_CHANGED]) == EXIT_EVIDENCE_CHANGED
    assert exit_code([EXIT_OK, EXIT_OK]) == EXIT_OK


def test_a_workbench_error_is_one_line_with_its_own_exit_code(tmp_path):
    not_a_report = tmp_path / "report.json"
    not_a_report.write_text("{}")
    result = CliRunner().invoke(cli, ["render", str(not_a_report)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert [line for line in result.output.splitlines() if line] == [
        line for line in result.output.splitlines() if line.startswith("workbench: error:")]
    result = CliRunner().invoke(cli, ["verify", str(tmp_path)])
    assert result.exit_code == 2 and "holds no manifest.json" in result.output


def test_a_case_index_names_the_case_each_files_hash_and_role_and_links_every_format(tmp_path, clean_wav,
                                                                                       artifacts_wav):
    from workbench.core.hashing import sha256_file

    case = tmp_path / "case"
    assert invoke("case", "init", case, "--case-id", "2026-0412", "--examiner", "A. Rivera").exit_code == 0
    assert invoke("case", "add", case, artifacts_wav).exit_code == 0
    assert invoke("case", "add", case, "--role", "reference", clean_wav).exit_code == 0
    result = invoke("analyze", "--case", case, "--only", "levels", "--format", "json,html,pdf")
    assert result.exit_code == 0, result.output
    index = (case / "reports" / "index.html").read_text()
    assert "Case 2026-0412 · examiner A. Rivera" in index
    for wav, role, folder in ((artifacts_wav, "disputed", "artifacts"), (clean_wav, "reference", "references/clean")):
        assert sha256_file(wav) in index and f"<td>{role}</td>" in index
        assert f'href="{folder}/report.html"' in index and f'href="{folder}/report.pdf"' in index
    assert invoke("verify", case).exit_code == 0


def test_a_pdf_only_run_names_the_pdf(tmp_path, clean_wav):
    result = invoke("analyze", clean_wav, "-o", tmp_path / "out", "--only", "levels", "--format", "json,pdf")
    assert result.exit_code == 0 and f"report: {tmp_path / 'out' / 'report.pdf'}" in result.output


def test_jobs_runs_clips_side_by_side_only_when_there_are_several(monkeypatch):
    """--jobs 2 on one clip used to send it to one batch worker whose analyses then ran one
    after another: slower than --jobs 1, where they share the two cores."""
    from workbench.batch import parallelism

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert parallelism(1, 2) == (1, 2)
    assert parallelism(1, 1) == (1, 2)
    assert parallelism(3, 2) == (2, 1)
    assert parallelism(3, 8) == (3, 1)
    assert parallelism(1, 2, "tcp://127.0.0.1:8786") == (2, 1)


def test_one_clip_under_jobs_two_runs_in_this_process(tmp_path, clean_wav, monkeypatch):
    from workbench import batch

    seen = []
    original = batch.run_jobs

    def recording(jobs, *, workers=1, **kwargs):
        seen.append((workers, [job.request.workers for job in jobs]))
        return original(jobs, workers=workers, **kwargs)

    monkeypatch.setattr(batch, "run_jobs", recording)
    result = invoke("-q", "analyze", clean_wav, "-o", tmp_path / "one", "--jobs", "2", "--only", "levels")
    assert result.exit_code == 0, result.output
    assert seen == [(1, [min(2, os.cpu_count() or 1)])]
