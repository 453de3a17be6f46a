"""Listening where the report points: `workbench excerpt` and `workbench note`, and what they do
to a case's custody log and to verify."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def analysed_case(tmp_path_factory, artifacts_wav):
    folder = tmp_path_factory.mktemp("cases") / "case"
    assert invoke("case", "init", folder, "--case-id", "2026-0412", "--examiner", "A. Rivera").exit_code == 0
    assert invoke("case", "add", folder, artifacts_wav).exit_code == 0
    result = invoke("-q", "analyze", "--case", folder, "--only", "levels", "--format", "json,html")
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def case(analysed_case, tmp_path):
    return Path(shutil.copytree(analysed_case, tmp_path / "case"))


def _log(case):
    return [json.loads(line) for line in (case / "custody.jsonl").read_text().splitlines()]


def test_an_excerpt_cut_again_is_the_reports_own_and_is_logged(case, tmp_path):
    report_json = case / "reports" / "artifacts" / "report.json"
    report = json.loads(report_json.read_text())
    first = report["excerpts"]["items"][0]
    result = invoke("excerpt", report_json, "--place", first["place"], "-o", tmp_path / "p.flac")
    assert result.exit_code == 0, result.output
    data = (tmp_path / "p.flac").read_bytes()
    assert hashlib.sha256(data).hexdigest() == first["sha256"]  # the same span, bit for bit
    entry = _log(case)[-1]
    assert entry["action"] == "excerpt_written" and entry["sha256"] == first["sha256"]
    assert entry["details"]["place"] == first["place"] and entry["details"]["start_s"] == pytest.approx(first["start_s"])
    result = invoke("excerpt", report_json, "--all", "-o", tmp_path / "all")
    assert result.exit_code == 0 and len(list((tmp_path / "all").glob("place-*.flac"))) == len(report["excerpts"]["items"])
    assert invoke("verify", case).exit_code == 0


@pytest.mark.parametrize("args, code, words", [
    (("--place", "99", "-o", "x.flac"), 2, "place 99: the report has places 1-"),
    (("--place", "1", "-o", "x.mp3"), 2, "name the excerpt .flac or .wav"),
    (("--place", "1", "--all", "-o", "x"), 2, "give --place N or --all"),
    (("--place", "1", "-o", "{case}/x.flac"), 6, "inside the case folder"),
])
def test_bad_excerpt_requests_are_one_line_and_write_nothing(case, tmp_path, monkeypatch, args, code, words):
    monkeypatch.chdir(tmp_path)
    args = [a.replace("{case}", str(case)) for a in args]
    result = invoke("excerpt", case / "reports" / "artifacts" / "report.json", *args)
    assert result.exit_code == code and words in result.output
    assert not (tmp_path / "x.flac").exists() and not (case / "x.flac").exists()


def test_an_excerpt_of_evidence_that_is_not_the_reports_is_refused(tmp_path, artifacts_wav, clean_wav):
    clip = Path(shutil.copy(artifacts_wav, tmp_path / "clip.wav"))
    assert invoke("-q", "analyze", clip, "-o", tmp_path / "out", "--only", "levels", "--format", "json").exit_code == 0
    shutil.copy(clean_wav, clip)  # another recording now lies where the report's evidence was
    result = invoke("excerpt", tmp_path / "out" / "report.json", "--place", "1", "-o", tmp_path / "p.flac")
    assert result.exit_code == 3 and "not the recording the report is about" in result.output
    assert not (tmp_path / "p.flac").exists()


def test_a_note_is_logged_shown_escaped_in_the_report_and_the_case_still_verifies(case):
    result = invoke("note", case, "--place", "1", "--text", "A click <b>here</b>; breath cut short", "--by", "B. Ortiz")
    assert result.exit_code == 0, result.output
    entry = _log(case)[-2]
    assert entry["action"] == "listening_note" and entry["details"]["place"] == 1
    assert entry["details"]["text"] == "A click <b>here</b>; breath cut short" and entry["details"]["by"] == "B. Ortiz"
    assert _log(case)[-1]["action"] == "reports_indexed"
    html = (case / "reports" / "artifacts" / "report.html").read_text()
    assert "A click &lt;b&gt;here&lt;/b&gt;; breath cut short" in html and "B. Ortiz" in html
    assert invoke("verify", case).exit_code == 0


def test_a_note_without_a_listener_names_the_cases_examiner(case):
    assert invoke("note", case, "--place", "1", "--text", "heard a click").exit_code == 0
    html = (case / "reports" / "artifacts" / "report.html").read_text()
    assert "<td>A. Rivera</td>" in html and "None" not in html.split("Listening log")[1].split("</table>")[0]


def test_a_note_on_a_report_changed_since_its_run_is_refused(case):
    html = case / "reports" / "artifacts" / "report.html"
    html.write_text(html.read_text().replace("Places to listen to", "Places"))
    before = (case / "custody.jsonl").read_text()
    result = invoke("note", case, "--place", "1", "--text", "heard")
    assert result.exit_code == 5 and "does not match its manifest" in result.output
    assert (case / "custody.jsonl").read_text() == before


def test_a_note_needs_a_case_a_place_and_words(case, tmp_path):
    assert invoke("note", tmp_path, "--place", "1", "--text", "x").exit_code == 2
    assert invoke("note", case, "--place", "99", "--text", "x").exit_code == 2
    assert invoke("note", case, "--place", "1", "--text", "   ").exit_code == 2
    assert invoke("note", case, "--clip", "nope", "--place", "1", "--text", "x").exit_code == 2


def test_render_seals_the_folder_again_so_verify_still_holds(tmp_path, artifacts_wav):
    out = tmp_path / "out"
    assert invoke("-q", "analyze", artifacts_wav, "-o", out, "--only", "levels", "--format", "json,html").exit_code == 0
    assert invoke("render", out / "report.json", "--format", "html").exit_code == 0
    assert invoke("verify", out).exit_code == 0
    (out / "figures" / "timeline.png").write_bytes(b"changed")
    result = invoke("render", out / "report.json")
    assert result.exit_code == 5 and "timeline.png" in result.output


def test_render_onto_a_full_disk_is_one_line_exit_6(tmp_path, artifacts_wav, monkeypatch):
    import errno

    out = tmp_path / "out"
    assert invoke("-q", "analyze", artifacts_wav, "-o", out, "--only", "levels", "--format", "json,html").exit_code == 0

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("workbench.reports.writer.atomic_write_text", full)
    result = invoke("render", out / "report.json")
    assert result.exit_code == 6 and "cannot be written (No space left on device)" in result.output
    assert "Traceback" not in result.output
