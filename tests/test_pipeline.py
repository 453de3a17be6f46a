import json

import numpy as np
from click.testing import CliRunner

from workbench import registry
from workbench.cli import cli
from workbench.core.analysis import Analysis, Result
from workbench.core.clip import Clip
from workbench.core.model import Finding
from workbench.evidence import open_evidence
from workbench.pipeline import Request, analyze_clip, run_analysis


class Exploding(Analysis):
    name = "exploding"
    version = "1.0"
    description = "Always fails."
    measures = "nothing"
    cannot_show = "anything"

    def __init__(self):
        pass

    def run(self, clip):
        raise ZeroDivisionError("planted failure")


class Marking(Analysis):
    name = "marking"
    version = "1.0"
    description = "Flags one known place."
    measures = "nothing"
    cannot_show = "anything"

    def __init__(self, *, at_s: float = 1.0):
        self.at_s = at_s

    def run(self, clip):
        return Result(findings=[
            Finding("discontinuity", self.at_s, self.at_s + 0.1, 0.9, True, "planted"),
            Finding("metadata_note", 0, clip.duration_s, 0.2, False, "a note"),
        ])


def test_a_failing_analysis_becomes_an_error_result():
    result, wall_s = run_analysis(Exploding(), Clip.from_array(np.zeros(8000), 8000))
    assert result.status == "error"
    assert "ZeroDivisionError" in result.message and "planted failure" in result.message
    assert wall_s >= 0


def test_analyses_that_cannot_work_at_the_clips_rate_are_skipped_with_the_reason(tmp_path):
    """A 400 Hz mains reference recording: mains hum is measured, speech analyses say why not."""
    rng = np.random.default_rng(9)
    t = np.arange(400 * 30) / 400
    clip = Clip.from_array(0.1 * np.sin(2 * np.pi * 50.0 * t) + 1e-3 * rng.standard_normal(t.size), 400)
    statuses = {}
    for cls in registry.BUILTINS:
        result, _ = run_analysis(cls(), clip)
        statuses[cls.name] = result
    for name in ("voice", "speaker", "discontinuity"):
        assert statuses[name].status == "skipped", name
        assert "400 Hz" in statuses[name].message and "8,000 Hz" in statuses[name].message
    assert statuses["enf"].measurements["enf_nominal_hz"] == 50.0
    assert statuses["overview"].status == "ok"
    assert statuses["overview"].measurements["integrated_loudness_lufs"] is None
    assert all(r.status != "error" for r in statuses.values()), {n: r.message for n, r in statuses.items()}


def test_report_still_comes_out_when_an_analysis_fails(clean_wav, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "BUILTINS", (*registry.BUILTINS, Exploding))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["analyze", str(clean_wav), "-o", str(out)])
    assert result.exit_code == 1
    assert "analyses failed: exploding" in result.output
    report = json.loads((out / "report.json").read_text())
    statuses = {a["name"]: a["status"] for a in report["analyses"]}
    assert statuses["exploding"] == "error" and statuses["channels"] == "skipped"
    assert all(status == "ok" for name, status in statuses.items() if name not in ("exploding", "channels"))
    assert "planted failure" in (out / "report.html").read_text()


def test_timeline_holds_only_flagged_findings_in_time_order(clean_wav, tmp_path):
    clip = open_evidence(clean_wav)
    report = analyze_clip(clip, tmp_path, Request([Marking(at_s=5.0), Marking(at_s=2.0)], "test"))
    assert [(e["analysis"], e["start_s"]) for e in report.timeline] == [("marking", 2.0), ("marking", 5.0)]
    assert (tmp_path / "figures" / "timeline.png").exists()


def test_evidence_changed_during_analysis_is_stated_loudly(clean_wav, tmp_path):
    evidence = tmp_path / "copy.wav"
    evidence.write_bytes(clean_wav.read_bytes())
    clip = open_evidence(evidence)

    class Tamper(Marking):
        name = "tamper"

        def run(self, clip):
            with open(evidence, "ab") as handle:
                handle.write(b"\0")
            return Result()

    report = analyze_clip(clip, tmp_path / "out", Request([Tamper()], "test"))
    assert report.evidence_changed
    assert report.limitations[0].startswith("THE EVIDENCE FILE CHANGED")
    assert "The evidence file changed during analysis" in (tmp_path / "out" / "report.html").read_text()


def test_analysis_output_is_deterministic(clean_wav, tmp_path):
    def strip(report):
        data = report.to_dict()
        data["run"] = {k: v for k, v in data["run"].items() if not k.endswith(("_utc", "_s"))}
        for entry in data["analyses"]:
            entry.pop("wall_time_s")
        return data

    first = analyze_clip(open_evidence(clean_wav), tmp_path / "a", Request(registry.build(), "x"))
    second = analyze_clip(open_evidence(clean_wav), tmp_path / "b", Request(registry.build(), "x"))
    assert strip(first) == strip(second)
    assert np.array_equal(
        np.frombuffer((tmp_path / "a/figures/levels-levels.png").read_bytes(), np.uint8),
        np.frombuffer((tmp_path / "b/figures/levels-levels.png").read_bytes(), np.uint8),
    )


class _WatchedSource:
    """An ArraySource that records the longest read, in frames."""

    def __init__(self, samples, rate):
        from workbench.core.clip import ArraySource

        self.inner = ArraySource(samples, rate)
        self.sample_rate_hz, self.channels, self.frames = rate, self.inner.channels, self.inner.frames
        self.longest = 0

    def read(self, start, stop):
        self.longest = max(self.longest, stop - start)
        return self.inner.read(start, stop)


def test_no_default_analysis_reads_a_long_recording_whole():
    """Long recordings are processed in pieces: with the full default analyses (the speaker
    extra included) no read spans more than about five minutes of a six-minute recording."""
    from workbench.material.synth import recording
    from workbench.registry import build

    rate = 8000
    rec = recording(seed=9, duration_s=360.0, sample_rate_hz=rate)
    source = _WatchedSource(rec.samples, rate)
    clip = Clip(source)
    for analysis in build(only=[], skip=[], params={}):
        result = analysis.run(clip)
        assert result.status in ("ok", "skipped"), (analysis.name, result.message)
    assert source.longest <= 302 * rate, source.longest / rate


class Dying(Marking):
    name = "dying"

    def run(self, clip):
        import os

        os._exit(9)  # the worker process dies outright


def test_analyses_in_parallel_give_the_same_report_and_survive_a_dead_worker(clean_wav, tmp_path):
    from workbench.analyses.levels import Levels

    analyses = [Marking(at_s=5.0), Levels(), Marking(at_s=2.0)]
    serial = analyze_clip(open_evidence(clean_wav), tmp_path / "serial", Request(analyses, "test"))
    parallel = analyze_clip(open_evidence(clean_wav), tmp_path / "parallel", Request(analyses, "test", workers=2))
    assert parallel.timeline == serial.timeline
    assert [a.measurements for a in parallel.analyses] == [a.measurements for a in serial.analyses]
    assert (tmp_path / "parallel" / "figures" / "levels-levels.png").exists()
    dead = analyze_clip(open_evidence(clean_wav), tmp_path / "dead", Request([Levels(), Dying()], "test", workers=2))
    statuses = {a.name: (a.status, a.message) for a in dead.analyses}
    assert statuses["dying"][0] == "error" and "process running it failed" in statuses["dying"][1]


def test_a_report_that_cannot_be_rendered_is_one_error_line_and_the_json_stays(clean_wav, tmp_path, monkeypatch):
    import workbench.reports.writer

    def broken(report, outdir):
        raise KeyError("planted template failure")

    monkeypatch.setattr(workbench.reports.writer, "render_to_file", broken)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "analyze", str(clean_wav), "-o", str(out), "--only", "levels"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "report.html could not be rendered" in result.output and "planted template failure" in result.output
    assert json.loads((out / "report.json").read_text())["analyses"][0]["name"] == "levels"
    assert (out / "manifest.json").exists()
