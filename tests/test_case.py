import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def reference_wav(tmp_path_factory):
    """A known-genuine 12 s recording: another take of the clean scene."""
    from fixtures import scenes

    return scenes.clean(seed=5, duration_s=12.0, sample_rate_hz=16000).write(
        tmp_path_factory.mktemp("reference") / "tv-interview.wav")


@pytest.fixture(scope="module")
def analysed_case(tmp_path_factory, clean_wav, artifacts_wav, reference_wav):
    folder = tmp_path_factory.mktemp("cases") / "case"
    assert invoke("case", "init", folder, "--case-id", "2026-0412", "--examiner", "A. Rivera").exit_code == 0
    assert invoke("case", "add", folder, clean_wav, artifacts_wav).exit_code == 0
    assert invoke("case", "add", folder, "--role", "reference", reference_wav).exit_code == 0
    result = invoke("-q", "analyze", "--case", folder, "--only", "levels,overview")
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def case(analysed_case, tmp_path):
    """A fresh copy of the analysed case for each test to tamper with."""
    return Path(shutil.copytree(analysed_case, tmp_path / "case"))


def test_an_untouched_case_verifies(case):
    result = invoke("verify", case)
    assert result.exit_code == 0 and "verified" in result.output
    actions = [json.loads(line)["action"] for line in (case / "custody.jsonl").read_text().splitlines()]
    assert actions == ["case_opened", "evidence_added", "evidence_added", "evidence_added",
                       "analyzed", "analyzed", "reports_indexed"]
    assert all(not (p.stat().st_mode & 0o222) for p in [*(case / "evidence").iterdir(), *(case / "references").iterdir()])
    report = json.loads((case / "reports" / "clean" / "report.json").read_text())
    assert report["run"]["case"] == {"case_id": "2026-0412", "examiner": "A. Rivera"}
    # Every disputed clip is compared with the case's reference, whose report sits in the case.
    assert [r["path"].endswith("tv-interview.wav") for r in report["references"]] == [True]
    assert (case / "reports" / "references" / "tv-interview" / "report.json").is_file()


def test_a_rerun_logs_the_reports_it_reused_and_still_verifies(case):
    assert invoke("-q", "analyze", "--case", case, "--only", "levels,overview").exit_code == 0
    actions = [json.loads(line)["action"] for line in (case / "custody.jsonl").read_text().splitlines()]
    assert actions[-3:] == ["report_reused", "report_reused", "reports_indexed"]
    assert invoke("verify", case).exit_code == 0


def flip_byte(path, offset=-100):
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "tamper, named",
    [
        (lambda c: flip_byte(c / "evidence" / "clean.wav"), "evidence/clean.wav: evidence changed"),
        (lambda c: flip_byte(c / "reports" / "clean" / "report.json", offset=200), "report.json: changed"),
        (lambda c: flip_byte(c / "reports" / "artifacts" / "figures" / "levels-levels.png"), "levels-levels.png: changed"),
        (lambda c: (c / "reports" / "clean" / "report.html").unlink(), "report.html: missing"),
        (lambda c: (c / "reports" / "clean" / "figures" / "extra.png").write_bytes(b"x"), "extra.png: added"),
        (lambda c: (c / "reports" / "clean" / "notes.html").write_text("x"), "clean/notes.html: added"),
        (lambda c: (c / "notes.txt").write_text("x"), "case/notes.txt: added"),
        (lambda c: (c / "evidence" / "junk.wav").write_text("x"), "junk.wav: added"),
        (lambda c: flip_byte(c / "reports" / "index.html"), "reports/index.html: changed"),
        (lambda c: flip_byte(c / "case.json", offset=5), "case.json: changed"),
        (lambda c: flip_byte(c / "references" / "tv-interview.wav"), "tv-interview.wav: changed"),
        (lambda c: flip_byte(c / "reports" / "references" / "tv-interview" / "report.html"),
         "tv-interview/report.html: changed"),
        (lambda c: shutil.rmtree(c / "reports" / "references"), "tv-interview/report.json: missing"),
        (lambda c: flip_byte(c / "reports" / "manifest.json", offset=20), "reports/manifest.json: changed"),
        (lambda c: shutil.rmtree(c / "reports" / "artifacts"), "artifacts.wav: evidence without a report"),
    ],
    ids=["evidence", "report-json", "figure", "removed-html", "added-figure", "added-report-file",
         "added-at-root", "added-evidence", "index", "case-json", "reference", "reference-report",
         "reference-folder", "run-manifest", "no-report"],
)
def test_tampering_is_named(case, tamper, named):
    tamper(case)
    result = invoke("verify", case)
    assert result.exit_code == 5
    assert named in result.output


@pytest.mark.parametrize("edit", ["change", "remove", "insert"])
def test_an_edited_custody_log_breaks_the_chain(case, edit):
    log = case / "custody.jsonl"
    lines = log.read_text().splitlines()
    if edit == "change":
        lines[1] = lines[1].replace("A. Rivera", "B. Someone")
    elif edit == "remove":
        del lines[2]
    else:
        lines.insert(2, lines[1])
    log.write_text("\n".join(lines) + "\n")
    result = invoke("verify", case)
    assert result.exit_code == 5 and "custody.jsonl: line" in result.output


def test_case_usage_errors(tmp_path, clean_wav):
    folder = tmp_path / "c"
    invoke("case", "init", folder, "--case-id", "x", "--examiner", "y")
    assert invoke("case", "init", folder, "--case-id", "x", "--examiner", "y").exit_code == 2
    assert invoke("analyze", "--case", folder).exit_code == 2  # no evidence yet
    assert invoke("analyze", "--case", folder, clean_wav).exit_code == 2
    assert invoke("case", "add", tmp_path / "not-a-case", clean_wav).exit_code == 2
    missing = invoke("case", "add", folder, tmp_path / "gone.wav")
    assert missing.exit_code == 3 and "gone.wav: no such file" in missing.output


def test_verify_an_output_folder_and_a_batch(tmp_path, clean_wav, artifacts_wav):
    single = tmp_path / "single"
    invoke("-q", "analyze", clean_wav, "-o", single)
    assert invoke("verify", single).exit_code == 0
    batch = tmp_path / "batch"
    invoke("-q", "analyze", clean_wav, artifacts_wav, "-o", batch)
    assert invoke("verify", batch).exit_code == 0
    flip_byte(batch / "artifacts" / "report.html", offset=300)
    result = invoke("verify", batch)
    assert result.exit_code == 5 and "artifacts/report.html: changed" in result.output
    assert invoke("verify", tmp_path).exit_code == 2
    (single / "notes.html").write_text("x")
    (batch / "clean" / "notes.html").write_text("x")
    flip_byte(batch / "index.html", offset=50)
    assert "single/notes.html: added" in invoke("verify", single).output
    result = invoke("verify", batch)
    assert "clean/notes.html: added" in result.output and "batch/index.html: changed" in result.output


def test_a_reference_report_is_covered_by_the_clips_manifest(tmp_path, clean_wav, reference_wav):
    out = tmp_path / "out"
    assert invoke("-q", "analyze", clean_wav, "-o", out, "-r", reference_wav, "--only", "levels").exit_code == 0
    assert invoke("verify", out).exit_code == 0
    flip_byte(out / "references" / "tv-interview" / "report.html")
    assert "tv-interview/report.html: changed" in invoke("verify", out).output
    shutil.rmtree(out / "references")
    assert "tv-interview/report.json: missing" in invoke("verify", out).output


def test_a_file_that_does_not_decode_is_not_added(tmp_path):
    folder = tmp_path / "c"
    invoke("case", "init", folder, "--case-id", "x", "--examiner", "y")
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio at all")
    before = (folder / "custody.jsonl").read_text()
    result = invoke("case", "add", folder, junk)
    assert result.exit_code == 3 and "junk.wav" in result.output
    assert list((folder / "evidence").iterdir()) == [] and (folder / "custody.jsonl").read_text() == before


needs_poppler = pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")


@needs_poppler
def test_case_pdf_has_the_case_header_and_page_numbers_on_every_page(analysed_case, tmp_path):
    import subprocess

    folder = analysed_case / "reports" / "artifacts"
    pdf = folder / "report.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 3 and "A4" in info
    sha = json.loads((folder / "report.json").read_text())["evidence"]["sha256"]
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "Case 2026-0412" in text and sha in text and f"page {page} of {pages}" in text, page
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    (png,) = tmp_path.glob("p*.png")
    assert png.stat().st_size > 20_000


@needs_poppler
def test_render_recreates_the_pdf_with_hostile_text_as_text(tmp_path):
    import subprocess

    import numpy as np
    import soundfile as sf

    path = tmp_path / "hostile.wav"
    with sf.SoundFile(path, "w", 16000, 1, "PCM_16") as handle:
        handle.title = "<script>alert(1)</script> \u202eevil"
        handle.write(np.zeros(16000) + 0.01)
    out = tmp_path / "out"
    assert invoke("-q", "analyze", path, "-o", out, "--only", "metadata").exit_code == 0
    result = invoke("render", out / "report.json", "--format", "pdf")
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True).stdout
    assert "<script>alert(1)</script>" in text and "\\u202eevil" in text


def test_a_reference_added_after_the_reports_makes_them_older_and_verify_says_so(case, tmp_path):
    from fixtures import scenes

    later = scenes.clean(seed=6, duration_s=12.0, sample_rate_hz=16000).write(tmp_path / "radio.wav")
    assert invoke("case", "add", case, "--role", "reference", later).exit_code == 0
    result = invoke("verify", case)
    assert result.exit_code == 0
    assert "reports/clean: older than the last custody entry of" in result.output
    assert "reports/artifacts: older than" in result.output


def test_a_changed_figure_stays_a_failure_after_a_run_that_reuses_its_report(case):
    flip_byte(case / "reports" / "artifacts" / "figures" / "levels-levels.png")
    assert invoke("-q", "analyze", "--case", case, "--only", "levels,overview").exit_code == 0
    result = invoke("verify", case)
    assert result.exit_code == 5 and "levels-levels.png: changed" in result.output
