"""What an examiner does with the places a report points at: excerpts cut again from the
evidence, and a listening log kept in the case's custody log and shown in the report.

A report folder that is re-rendered (to show new listening notes, or by ``workbench render``) is
checked against its manifest first and sealed again after: its manifest, the run manifest of the
folder above it and, in a case, the custody log's ``reports_indexed`` entry are written anew, so
``workbench verify`` holds for a folder that only this tool has touched.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from workbench.core.atomic import atomic_write_bytes
from workbench.core.errors import EvidenceError, OutputError, ParameterError, VerifyError
from workbench.core.model import Finding, Report
from workbench.core.untrusted import clean_text
from workbench.reports.excerpts import excerpt_bytes, excerpt_span, strongest_by_place
from workbench.reports.patterns import place_numbers

MAX_NOTE_CHARS = 4000
AUDIO_SUFFIXES = (".flac", ".wav")


def places(report: Report) -> dict[int, Finding]:
    """The strongest flagged finding of each numbered place of ``report`` (numbers as in its
    places table)."""
    return strongest_by_place(report.flagged_findings(), place_numbers(report.timeline))


def _checked_place(found: dict[int, Finding], number: int) -> Finding:
    """The place ``number`` of :func:`places`; ParameterError when the report has no such place."""
    if number not in found:
        shown = f"places 1-{max(found)}" if found else "no places"
        raise ParameterError(f"place {number}: the report has {shown}")
    return found[number]


def case_folder(report_dir: Path) -> Path | None:
    """The case a report folder belongs to (``CASE/reports/<name>/``), or None."""
    from workbench.case import CASE_FILE

    parent = report_dir.resolve().parent
    return parent.parent if parent.name == "reports" and (parent.parent / CASE_FILE).is_file() else None


def write_excerpts(report_json: Path, *, place: int | None, out: Path) -> list[dict[str, Any]]:
    """Cut the excerpt of place ``place`` (every place when None) from the evidence the report
    is about into ``out`` (a .flac or .wav file; a folder for every place).

    The evidence is decoded again and must have the SHA-256 the report records. In a case, each
    file written is logged in the custody log (``excerpt_written``), and files inside the case
    folder are refused (``verify`` would name them as added).

    Returns
    -------
    list of dict
        Per file: place, path, SHA-256, start and end (s).
    """
    from workbench.reports.writer import load_report
    from workbench.evidence import open_evidence

    report = load_report(report_json)
    case = case_folder(report_json.parent)
    if case is not None and out.resolve().is_relative_to(case.resolve()):
        raise OutputError(f"{out}: inside the case folder {case}; write excerpts outside it "
                          "(verify names every file the custody log does not record)")
    found = places(report)
    chosen = dict(sorted(found.items())) if place is None else {place: _checked_place(found, place)}
    if place is None:
        targets = {number: out / f"place-{number:02d}.flac" for number in chosen}
    else:
        if out.suffix.lower() not in AUDIO_SUFFIXES:
            raise ParameterError(f"{out}: name the excerpt .flac or .wav")
        targets = {place: out}
    for target in targets.values():
        if target.exists():
            raise OutputError(f"{target}: exists; choose another name (nothing is overwritten)")
    evidence_path = Path(str(report.evidence.get("path", "")))
    if not evidence_path.is_file():
        raise EvidenceError(f"{evidence_path}: the evidence this report is about is not there")
    clip = open_evidence(evidence_path)
    if clip.info.sha256 != report.evidence.get("sha256"):
        raise EvidenceError(f"{evidence_path}: its SHA-256 differs from the one the report records; "
                            "it is not the recording the report is about")
    if targets:
        next(iter(targets.values())).parent.mkdir(parents=True, exist_ok=True)
    written = []
    for number, target in targets.items():
        finding = chosen[number]
        lo, hi = excerpt_span(finding.start_s, finding.end_s, clip.duration_s)
        data = excerpt_bytes(clip, lo, hi, container="WAV" if target.suffix.lower() == ".wav" else "FLAC")
        atomic_write_bytes(target, data)
        row = {"place": number, "path": str(target), "sha256": hashlib.sha256(data).hexdigest(),
               "start_s": lo, "end_s": hi}
        written.append(row)
        if case is not None:
            from workbench.case import append_log

            append_log(case, action="excerpt_written", file=str(target.resolve()), sha256=row["sha256"],
                       report=report_json.parent.resolve().relative_to(case.resolve()).as_posix(),
                       evidence_sha256=clip.info.sha256, place=number, start_s=lo, end_s=hi)
    return written


def add_note(case: Path, *, clip: str | None, place: int, text: str, by: str | None) -> Path:
    """Log what the examiner heard at ``place`` of a case report (``listening_note``) and render
    that report again with its listening log; return the report folder."""
    from workbench.reports.writer import load_report
    from workbench.case import append_log, load_case

    load_case(case)
    folders = sorted(p.parent for p in (case / "reports").glob("*/report.json"))
    if clip is not None:
        folders = [f for f in folders if f.name == clip]
    if len(folders) != 1:
        names = ", ".join(f.name for f in sorted(p.parent for p in (case / "reports").glob("*/report.json")))
        raise ParameterError(f"name the report with --clip (the case's reports: {names or 'none'})"
                             if clip is None or not folders else f"--clip {clip}: no such report in the case ({names})")
    folder = folders[0]
    report = load_report(folder / "report.json")
    finding = _checked_place(places(report), place)
    text = clean_text(text.strip())
    if not text:
        raise ParameterError("the note is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise ParameterError(f"the note is {len(text)} characters; at most {MAX_NOTE_CHARS}")
    _check_sealed(folder, case)
    evidence = Path(str(report.evidence.get("path", ""))).resolve()
    append_log(case, action="listening_note",
               file=evidence.relative_to(case.resolve()).as_posix() if evidence.is_relative_to(case.resolve())
               else clean_text(evidence.name),
               sha256=report.evidence["sha256"], report=folder.relative_to(case).as_posix(), place=place,
               kind=finding.kind, start_s=finding.start_s, end_s=finding.end_s, text=text,
               by=clean_text(by) if by else None)
    rerender(folder, formats=[f for f in ("html", "pdf") if (folder / f"report.{f}").exists()])
    return folder


def listening_notes(report_dir: Path, evidence_sha256: str) -> list[dict[str, Any]]:
    """The ``listening_note`` entries of the case holding ``report_dir`` about this evidence."""
    from workbench.case import log_entries

    case = case_folder(report_dir)
    if case is None:
        return []
    return [{**e["details"], "utc": e.get("utc"), "by": e["details"].get("by") or e.get("examiner")}
            for e in log_entries(case)
            if e.get("action") == "listening_note" and e.get("sha256") == evidence_sha256
            and isinstance(e.get("details"), dict)]


def _check_sealed(folder: Path, case: Path | None, *, rendered: tuple[str, ...] = ()) -> None:
    """Refuse to seal again a report folder that no longer matches its manifest; the files about
    to be rendered again from report.json (``rendered``, e.g. "html") may be missing or changed."""
    from workbench.reports.manifest import MANIFEST, verify_folder
    from workbench.case import EVIDENCE, REFERENCES

    if not (folder / MANIFEST).is_file():
        return
    evidence_dirs = [case / EVIDENCE, case / REFERENCES] if case is not None else None
    replaced = tuple(f"{folder / f'report.{fmt}'}:" for fmt in rendered)
    problems = [line for line in verify_folder(folder, evidence_dirs=evidence_dirs)
                if not line.startswith(replaced)]
    if problems:
        raise VerifyError(f"{folder} does not match its manifest ({problems[0]}); it is not rendered "
                          "or sealed again (workbench verify names every difference)")


def rerender(folder: Path, *, formats: list[str]) -> list[Path]:
    """Render ``formats`` (html, pdf) of the report in ``folder`` from its report.json, with the
    case's listening notes, and seal the folder again (see the module docstring).

    Raises
    ------
    VerifyError
        When the folder no longer matches its manifest (the rendered files aside).
    OutputError
        When the folder cannot be written (read-only, full).
    """
    try:
        return _rerender(folder, formats=formats)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot be written ({exc.strerror or exc})") from None


def _rerender(folder: Path, *, formats: list[str]) -> list[Path]:
    from workbench.reports.manifest import CLIP_FORMAT, MANIFEST, RUN_FORMAT, write_manifest, write_run_manifest
    from workbench.reports.writer import load_report, render_to_file
    from workbench.case import append_log
    from workbench.core.hashing import sha256_file

    case = case_folder(folder)
    _check_sealed(folder, case, rendered=tuple(formats))
    report = load_report(folder / "report.json")
    notes = listening_notes(folder, report.evidence.get("sha256", ""))
    written = []
    if "html" in formats:
        written.append(render_to_file(report, folder, listening_notes=notes))
    if "pdf" in formats:
        from workbench.reports.pdf import render_pdf

        written.append(render_pdf(report, folder, listening_notes=notes))
    if not (folder / MANIFEST).is_file():
        return written
    write_manifest(folder, report.evidence, report.named_files)
    above = folder.parent
    try:
        run = json.loads((above / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return written
    if run.get("format") != RUN_FORMAT:
        return written
    folders = sorted({(above / name).parent for name in run.get("files", {})
                      if name.endswith(f"/{MANIFEST}") and name.count("/") == 1})
    folders = [f for f in folders if json.loads((f / MANIFEST).read_text(encoding="utf-8")).get("format") == CLIP_FORMAT]
    manifest = write_run_manifest(above, folders)
    if case is not None:
        append_log(case, action="reports_indexed", file=manifest.relative_to(case).as_posix(),
                   sha256=sha256_file(manifest), reports=len(folders), rendered=folder.name)
    return written
