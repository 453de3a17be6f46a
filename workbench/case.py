"""Case folders: evidence copied in read-only, every action in a hash-chained custody log.

Layout::

    DIR/case.json        case id, examiner, when it was opened
    DIR/custody.jsonl    one JSON object per action; each carries the SHA-256 of the previous
                         line, so an edited, inserted or removed line breaks the chain
    DIR/evidence/        the copied evidence files, read-only
    DIR/reports/<name>/  one output folder per evidence file (with its manifest.json)
    DIR/reports/         index pages and the run manifest over every report, whose SHA-256 the
                         custody log records after each analysis run

Nothing else belongs in a case: ``verify`` names any other file as added.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.core.errors import EvidenceError, ParameterError
from workbench.core.hashing import sha256_file
from workbench.names import safe_name

CASE_FILE = "case.json"
LOG_FILE = "custody.jsonl"
EVIDENCE, REFERENCES = "evidence", "references"
"""The case's folders of disputed recordings and of known-genuine reference recordings."""
ROLES = {"disputed": EVIDENCE, "reference": REFERENCES}
GENESIS = "0" * 64


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def load_case(folder: Path) -> dict[str, Any]:
    """The case.json of a case folder; ParameterError when it is not one."""
    try:
        return json.loads((folder / CASE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ParameterError(f"{folder} is not a case folder (no readable {CASE_FILE})") from None


def _log_lines(folder: Path) -> list[str]:
    path = folder / LOG_FILE
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def append_log(folder: Path, *, action: str, file: str = "", sha256: str = "", **details: Any) -> dict:
    """Append one custody entry (UTC time, examiner, action, file, SHA-256, tool version, details)
    chained to the previous line by its SHA-256."""
    case = load_case(folder)
    lines = _log_lines(folder)
    entry = {
        "utc": _now(), "examiner": case["examiner"], "action": action, "file": file,
        "sha256": sha256, "tool_version": __version__, "details": details,
        "previous_line_sha256": _line_hash(lines[-1]) if lines else GENESIS,
    }
    with open(folder / LOG_FILE, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        log.flush()
        os.fsync(log.fileno())
    return entry


def init_case(folder: Path, *, case_id: str, examiner: str) -> None:
    """Create a case folder. Refuses a folder that already holds anything."""
    if not case_id.strip() or not examiner.strip():
        raise ParameterError("--case-id and --examiner must not be empty")
    if folder.exists() and any(folder.iterdir()):
        raise ParameterError(f"{folder} exists and is not empty")
    (folder / EVIDENCE).mkdir(parents=True, exist_ok=True)
    (folder / "reports").mkdir(exist_ok=True)
    case = {"format": "workbench-case", "format_version": 1, "case_id": case_id,
            "examiner": examiner, "opened_utc": _now(), "tool_version": __version__}
    (folder / CASE_FILE).write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    append_log(folder, action="case_opened", file=CASE_FILE, sha256=sha256_file(folder / CASE_FILE),
               case_id=case_id)


def add_evidence(folder: Path, source: Path, *, role: str = "disputed") -> tuple[Path, str, bool]:
    """Copy ``source`` into the case read-only, in the folder of its ``role``, and log it.

    The file must decode (the same sandboxed decoding as an analysis) before anything is copied
    or logged.

    Parameters
    ----------
    folder : Path
        The case folder.
    source : Path
        The file to add; never written to.
    role : {"disputed", "reference"}
        A disputed recording goes to ``evidence/``, a known-genuine reference to ``references/``.

    Returns
    -------
    target : Path
        The copy (or the file already holding the same bytes).
    sha256 : str
    new : bool
        False when the same bytes were already in the case: nothing copied or logged.

    Raises
    ------
    EvidenceError
        When the source cannot be read or decoded, or the copy's hash differs from the source's.
    """
    from workbench.evidence import open_evidence

    load_case(folder)
    if role not in ROLES:
        raise ParameterError(f"role {role!r}: choose one of {', '.join(ROLES)}")
    if not source.is_file():
        raise EvidenceError("no such file" if not source.exists() else "is not a regular file")
    try:
        digest = sha256_file(source)
    except OSError as exc:
        raise EvidenceError(f"cannot be read: {exc.strerror or exc}") from None
    for item in [*evidence_items(folder), *evidence_items(folder, role="reference")]:
        if sha256_file(item) == digest:
            return item, digest, False
    opened = open_evidence(source, role=role)  # refuses what cannot be decoded, before any copy
    if opened.info.sha256 != digest:
        raise EvidenceError("changed while it was being added; nothing was added")
    stem, suffix = safe_name(source.stem), source.suffix.lower()[:10]
    place = folder / ROLES[role]
    place.mkdir(exist_ok=True)
    target, n = place / f"{stem}{suffix}", 2
    while target.exists():
        target, n = place / f"{stem}-{n}{suffix}", n + 1
    shutil.copy2(source, target)
    if sha256_file(target) != digest:
        target.unlink()
        raise EvidenceError("the copy in the case folder does not match the source; nothing was added")
    target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    append_log(folder, action="evidence_added", file=target.relative_to(folder).as_posix(),
               sha256=digest, source=str(source.resolve()), size_bytes=target.stat().st_size, role=role)
    return target, digest, True


def evidence_items(folder: Path, *, role: str = "disputed") -> list[Path]:
    """The case's files of ``role`` (disputed evidence, or references), sorted by name."""
    place = folder / ROLES[role]
    return sorted(p for p in place.iterdir() if p.is_file()) if place.is_dir() else []


def verify_log(folder: Path) -> list[str]:
    """Check the custody log's chain; one line per broken link."""
    problems = []
    previous = GENESIS
    for number, line in enumerate(_log_lines(folder), start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            problems.append(f"{folder / LOG_FILE}: line {number} is not valid JSON")
            previous = _line_hash(line)
            continue
        if entry.get("previous_line_sha256") != previous:
            problems.append(f"{folder / LOG_FILE}: line {number} does not follow line {number - 1} "
                            "(a line was edited, inserted or removed)")
        previous = _line_hash(line)
    return problems


def log_entries(folder: Path) -> list[dict[str, Any]]:
    """The custody log's entries that parse, in order (a broken line is :func:`verify_log`'s)."""
    entries = []
    for line in _log_lines(folder):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def verify_case(folder: Path) -> tuple[list[str], list[str]]:
    """Check a case: the log chain, case.json and every logged evidence file against the log,
    the reports against the run manifest the log last recorded, and that nothing else is there.

    Returns
    -------
    problems : list of str
        One line per file changed, missing or added, per broken link and per evidence file
        without a report.
    notes : list of str
        Reports older than their evidence's last custody entry (made before it was re-logged).
    """
    from workbench.reports.manifest import MANIFEST, hash_problems, tree_files, verify_folder

    problems = verify_log(folder)
    entries = log_entries(folder)
    logged = {e["file"]: e["sha256"] for e in entries
              if e.get("action") in ("case_opened", "evidence_added") and e.get("file") and e.get("sha256")}
    if CASE_FILE not in logged:
        problems.append(f"{folder / CASE_FILE}: not recorded in the custody log (a case opened by an "
                        "older version)")
    problems += hash_problems(folder, logged, against="the custody log", what="")
    indexed = [e for e in entries if e.get("action") == "reports_indexed"]
    recorded = set(logged) | {LOG_FILE}
    reports = folder / "reports"
    if indexed:
        run_manifest = f"reports/{MANIFEST}"
        recorded.add(run_manifest)
        problems += hash_problems(folder, {run_manifest: indexed[-1].get("sha256", "")},
                                  against="the custody log")
        if (reports / MANIFEST).is_file():
            problems += verify_folder(reports, evidence_dirs=[folder / EVIDENCE, folder / REFERENCES])
            recorded |= {f"reports/{name}" for name in tree_files(reports)}
    problems += [f"{folder / name}: added (neither the custody log nor a manifest records it)"
                 for name in tree_files(folder) if name not in recorded]
    reported = _reported(reports)
    added = [(i, e) for i, e in enumerate(entries) if e.get("action") == "evidence_added"]
    # A reference added after a report was made is one that report was not compared with.
    last_reference = max((i for i, e in added if e.get("details", {}).get("role") == "reference"), default=-1)
    last_entry = {e["file"]: max(i, last_reference) for i, e in added}
    last_report = {e["file"]: i for i, e in enumerate(entries) if e.get("action") in ("analyzed", "report_reused")}
    notes = []
    for item in evidence_items(folder):
        name = item.relative_to(folder).as_posix()
        if name in logged and logged[name] not in reported:
            problems.append(f"{item}: evidence without a report (workbench analyze --case {folder})")
        elif name in last_report and last_report[name] < last_entry.get(name, -1):
            notes.append(f"{reported[logged[name]]}: older than the last custody entry of {item}")
    return list(dict.fromkeys(problems)), notes


def _reported(reports: Path) -> dict[str, Path]:
    """{evidence SHA-256: report folder} of the clip folders under ``reports``."""
    from workbench.reports.manifest import MANIFEST

    found = {}
    for manifest in sorted(reports.glob(f"*/{MANIFEST}")) if reports.is_dir() else []:
        try:
            digest = json.loads(manifest.read_text(encoding="utf-8"))["evidence"]["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found[digest] = manifest.parent
    return found


def add_files(folder: Path, clips, *, say, warn, role: str = "disputed") -> int:
    """Add each of ``clips`` to the case in ``role`` (see :func:`add_evidence`), saying what became of each;
    an unreadable one is named through ``warn`` and the rest still added. Returns the exit code:
    0, or 3 when any could not be added. One process at a time adds to a case or analyses it."""
    from workbench.core.errors import EXIT_EVIDENCE, EXIT_OK, EvidenceError
    from workbench.outfolder import claimed

    load_case(folder)
    code = EXIT_OK
    with claimed(folder):
        for clip in clips:
            try:
                target, digest, new = add_evidence(folder, clip, role=role)
            except EvidenceError as exc:
                warn(f"{clip}: {exc}")
                code = EXIT_EVIDENCE
                continue
            say(f"{'added as ' + role if new else 'already in the case'}: {target} sha256 {digest}")
    return code
