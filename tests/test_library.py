"""The library call under the command line: workbench.analyze and its companions."""

from __future__ import annotations

import json

import pytest

import workbench
from workbench.core.errors import EvidenceError, OutputError, ParameterError
from workbench.core.model import Report


def test_analyze_returns_the_report_with_each_planted_artifact_where_it_was_planted(tmp_path, artifacts_wav):
    options = workbench.Options(workbench.build(only=["levels"]), formats=("json",))
    report = workbench.analyze(artifacts_wav, tmp_path / "out", options)
    assert isinstance(report, Report)
    assert report.to_dict() == json.loads((tmp_path / "out" / "report.json").read_text())
    truth = json.loads(artifacts_wav.with_name("artifacts.wav.truth.json").read_text())["planted"]
    flagged = report.flagged_findings()
    for planted in truth:
        assert any(f.kind == planted["kind"] and f.start_s <= planted["end_s"] + 0.1
                   and f.end_s >= planted["start_s"] - 0.1 for f in flagged), planted
    assert report.run["command"] == f"workbench.analyze({str(artifacts_wav)!r}, {str(tmp_path / 'out')!r})"


def test_a_clean_clip_raises_no_flag(tmp_path, clean_wav):
    report = workbench.analyze(clean_wav, tmp_path / "out", workbench.Options(workbench.build(only=["levels"])))
    assert report.flagged_findings() == []


def test_analyze_raises_the_error_of_what_went_wrong(tmp_path, clean_wav, artifacts_wav):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF" + bytes(200))
    options = workbench.Options(workbench.build(only=["levels"]), formats=("json",))
    with pytest.raises(EvidenceError, match="corrupt.wav"):
        workbench.analyze(corrupt, tmp_path / "bad", options)
    workbench.analyze(clean_wav, tmp_path / "one", options)
    with pytest.raises(ParameterError, match="another recording"):
        workbench.analyze(artifacts_wav, tmp_path / "one", options)
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError):
        workbench.analyze(clean_wav, tmp_path / "file" / "under", options)


def test_the_package_face_names_the_library_and_imports_it_only_when_asked():
    assert {"analyze", "analyze_many", "analyze_case", "Options", "Progress", "build"} <= set(dir(workbench))
    with pytest.raises(AttributeError):
        workbench.no_such_name


@pytest.mark.parametrize("options, message", [
    (dict(formats=("docx",)), "unknown format docx"),
    (dict(jobs=0), "jobs must be 1 or more"),
    (dict(analyses=[]), "no analysis to run"),
])
def test_options_a_caller_got_wrong_are_refused_in_one_line(options, message):
    with pytest.raises(ParameterError, match=message):
        workbench.Options(**{"analyses": workbench.build(only=["levels"]), **options})


def test_report_json_is_always_among_the_formats():
    assert workbench.Options(workbench.build(only=["levels"]), formats=("html", "html")).formats == ("json", "html")
