import json
import re

import pytest
from click.testing import CliRunner

from workbench import __version__
from workbench import registry
from workbench.cli import cli
from workbench.core.model import FORMAT_VERSION
from workbench.names import safe_name


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def snapshot(path):
    return path.read_bytes(), path.stat().st_mtime_ns


def test_analyze_one_clip_writes_the_report_and_leaves_evidence_untouched(clean_wav, tmp_path):
    before = snapshot(clean_wav)
    result = invoke("analyze", clean_wav, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert snapshot(clean_wav) == before
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["format"] == "workbench-report" and report["format_version"] == FORMAT_VERSION
    assert report["evidence"]["sha256"] == report["evidence"]["sha256_after"]
    assert [a["name"] for a in report["analyses"]] == [a.name for a in registry.build()]
    assert all(a["wall_time_s"] >= 0 for a in report["analyses"])
    assert report["timeline"] == []
    for analysis in report["analyses"]:
        for figure in analysis["figures"]:
            assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "report.html").exists()
    assert not list(out.rglob("*.tmp"))
    assert "report: " in result.output


def test_planted_artifacts_reach_the_timeline(artifacts_wav, tmp_path):
    result = invoke("analyze", artifacts_wav, "-o", tmp_path / "out")
    assert result.exit_code == 0
    truth = json.loads(artifacts_wav.with_name("artifacts.wav.truth.json").read_text())
    timeline = json.loads((tmp_path / "out" / "report.json").read_text())["timeline"]
    assert timeline == sorted(timeline, key=lambda e: e["start_s"])
    for planted in truth["planted"]:
        assert any(
            e["kind"] == planted["kind"] and e["start_s"] <= planted["end_s"] + 0.5
            and e["end_s"] >= planted["start_s"] - 0.5
            for e in timeline
        ), planted


def test_several_clips_one_unreadable_the_rest_still_done(clean_wav, artifacts_wav, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    out = tmp_path / "batch"
    result = CliRunner().invoke(cli, ["analyze", str(clean_wav), str(broken), str(artifacts_wav), "-o", str(out)])
    assert result.exit_code == 3
    assert re.search(r"broken\.wav: .*not a recognised audio", result.output)
    assert "Traceback" not in result.output
    assert (out / "clean" / "report.json").exists() and (out / "artifacts" / "report.json").exists()
    assert not (out / "broken").exists()
    index = json.loads((out / "index.json").read_text())
    assert [row["status"] for row in index["clips"]] == ["done", "unreadable", "done"]
    assert (out / "index.html").exists()


def test_same_stem_gets_distinct_folders(clean_wav, tmp_path):
    other = tmp_path / "b" / clean_wav.name
    other.parent.mkdir()
    other.write_bytes(clean_wav.read_bytes())
    out = tmp_path / "out"
    assert invoke("-q", "analyze", clean_wav, other, "-o", out, "--only", "metadata").exit_code == 0
    assert (out / "clean" / "report.json").exists() and (out / "clean-2" / "report.json").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--only", "nosuch"], "unknown analysis 'nosuch'"),
        (["--param", "levels.nosuch=1"], "has no parameter 'nosuch'"),
        (["--param", "levels.min_silence_s=abc"], "expected a number"),
        (["--param", "levels.min_silence_s=-1"], "must be > 0"),
        (["--param", "garbage"], "analysis.key=value"),
        (["--format", "docx"], "unknown format"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(clean_wav, tmp_path, args, message):
    result = CliRunner().invoke(cli, ["analyze", str(clean_wav), "-o", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_only_skip_and_param_are_honoured_and_recorded(clean_wav, tmp_path):
    out = tmp_path / "out"
    result = invoke("analyze", clean_wav, "-o", out, "--only", "levels,metadata", "--skip", "metadata",
                    "--param", "levels.min_silence_s=0.05")
    assert result.exit_code == 0
    report = json.loads((out / "report.json").read_text())
    assert [a["name"] for a in report["analyses"]] == ["levels"]
    assert report["analyses"][0]["parameters"]["min_silence_s"] == 0.05
    assert "--param levels.min_silence_s=0.05" in report["run"]["command"]


def test_missing_clip_exits_3_and_writes_nothing(tmp_path):
    result = CliRunner().invoke(cli, ["analyze", str(tmp_path / "nope.wav"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert result.output.strip().endswith("nope.wav: no such file")
    assert not (tmp_path / "o").exists()


def test_render_reproduces_the_html(clean_wav, tmp_path):
    out = tmp_path / "out"
    invoke("-q", "analyze", clean_wav, "-o", out)
    original = (out / "report.html").read_bytes()
    (out / "report.html").unlink()
    result = invoke("render", out / "report.json")
    assert result.exit_code == 0
    assert (out / "report.html").read_bytes() == original


def test_render_rejects_what_is_not_a_report(tmp_path):
    bogus = tmp_path / "report.json"
    bogus.write_text('{"hello": 1}')
    result = CliRunner().invoke(cli, ["render", str(bogus)])
    assert result.exit_code == 2 and "not a workbench report" in result.output
    result = CliRunner().invoke(cli, ["render", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_analyses_lists_every_builtin_with_version():
    result = invoke("analyses", "-v")
    for name in ("overview", "levels", "channels", "metadata"):
        assert re.search(rf"^{name}\s+\d+\.\d+\s+\S", result.output, re.MULTILINE)
    assert "levels.min_silence_s = 0.02" in result.output


@pytest.mark.parametrize("command", [[], ["analyze"], ["analyses"], ["render"], ["demo"]])
def test_every_command_has_help_with_an_example(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output


def test_version():
    assert __version__ in invoke("--version").output


def test_demo_builds_and_reports_its_planted_artifacts(tmp_path):
    result = invoke("demo", "-o", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "demo" / "report" / "report.json").read_text())
    truth = json.loads((tmp_path / "demo" / "evidence" / "demo-disputed.wav.truth.json").read_text())
    kinds = {e["kind"] for e in report["timeline"]}
    assert {p["kind"] for p in truth["planted"]} <= kinds
    assert "report/report.html" in result.output


@pytest.mark.parametrize(
    "name, expected",
    [("interview 2026", "interview_2026"), ("../../etc/passwd", "etc_passwd"), ("", "clip"),
     ("Répétition", "Repetition"), ("<script>", "script"), ("...", "clip")],
)
def test_safe_name_never_escapes_the_output_folder(name, expected):
    assert safe_name(name) == expected


def test_quiet_is_accepted_after_the_subcommand_too(clean_wav, tmp_path):
    result = invoke("analyze", clean_wav, "-o", tmp_path / "out", "--only", "levels", "-q")
    assert result.exit_code == 0 and result.output == ""
    assert invoke("analyze", clean_wav, "-o", tmp_path / "out", "--only", "levels").output != ""
    assert invoke("case", "init", tmp_path / "c", "--case-id", "x", "--examiner", "y", "-q").exit_code == 0


def test_case_add_help_lists_only_the_exit_codes_it_can_return():
    text = invoke("case", "add", "--help").output
    assert "3 a file could not be read or decoded" in text
    assert "4 an evidence file changed" not in text and "1 done, but" not in text
