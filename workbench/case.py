"""Case folders: evidence copied in read-only, every action in a hash-chained custody log.

Layout::

    DIR/case.json        case id, examiner, when it was opened
    DIR/custody.jsonl    one JSON object per action; each carries the SHA-256 of the previous
                         line, so an edited, inserted or removed line breaks the chain
    DIR/evidence/        the copied evidence files, read-only
    DIR/reports/<name>/  one output folder per evidence file (with its manifest.json)
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
from workbench.errors import EvidenceError, ParameterError
from workbench.evidence import sha256_file
from workbench.names import safe_name

CASE_FILE = "case.json"
LOG_FILE = "custody.jsonl"
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
    (folder / "evidence").mkdir(parents=True, exist_ok=True)
    (folder / "reports").mkdir(exist_ok=True)
    case = {"format": "workbench-case", "format_version": 1, "case_id": case_id,
            "examiner": examiner, "opened_utc": _now(), "tool_version": __version__}
    (folder / CASE_FILE).write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    append_log(folder, action="case_opened", case_id=case_id)


def add_evidence(folder: Path, source: Path) -> tuple[Path, str, bool]:
    """Copy ``source`` into the case read-only and log it.

    Returns the copy's path, its SHA-256, and whether it was new (False: the same bytes were
    already in the case, nothing copied).

    Raises
    ------
    EvidenceError
        When the source cannot be read, or the copy's hash differs from the source's.
    """
    load_case(folder)
    if not source.is_file():
        raise EvidenceError("no such file" if not source.exists() else "is not a regular file")
    try:
        digest = sha256_file(source)
    except OSError as exc:
        raise EvidenceError(f"cannot be read: {exc.strerror or exc}") from None
    for item in evidence_items(folder):
        if sha256_file(item) == digest:
            return item, digest, False
    name = safe_name(source.stem) + source.suffix.lower()[:10]
    target, n = folder / "evidence" / name, 2
    while target.exists():
        target, n = folder / "evidence" / f"{safe_name(source.stem)}-{n}{source.suffix.lower()[:10]}", n + 1
    shutil.copy2(source, target)
    if sha256_file(target) != digest:
        target.unlink()
        raise EvidenceError("the copy in the case folder does not match the source; nothing was added")
    target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    append_log(folder, action="evidence_added", file=target.relative_to(folder).as_posix(),
               sha256=digest, source=str(source.resolve()), size_bytes=target.stat().st_size)
    return target, digest, True


def evidence_items(folder: Path) -> list[Path]:
    """The evidence files of a case, sorted by name."""
    return sorted(p for p in (folder / "evidence").iterdir() if p.is_file()) if (folder / "evidence").is_dir() else []


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


def verify_case(folder: Path) -> list[str]:
    """Check a case: the log chain, every logged evidence file's hash, and every report folder."""
    from reports.manifest import MANIFEST, hash_problems, verify_folder

    problems = verify_log(folder)
    logged: dict[str, str] = {}
    for line in _log_lines(folder):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("action") == "evidence_added":
            logged[entry["file"]] = entry["sha256"]
    problems.extend(hash_problems(folder, logged, against="the custody log", what="evidence "))
    for item in evidence_items(folder):
        if item.relative_to(folder).as_posix() not in logged:
            problems.append(f"{item}: evidence added without a custody log entry")
    reports = folder / "reports"
    for sub in sorted(reports.iterdir()) if reports.is_dir() else []:
        if (sub / MANIFEST).is_file():
            recorded = json.loads((sub / MANIFEST).read_text(encoding="utf-8"))["evidence"]["path"]
            problems.extend(verify_folder(sub, evidence_path=folder / "evidence" / Path(recorded).name))
    return problems


def add_files(folder: Path, clips, *, say, warn) -> int:
    """Add each of ``clips`` to the case (see :func:`add_evidence`), saying what became of each;
    an unreadable one is named through ``warn`` and the rest still added. Returns the exit code:
    0, or 3 when any could not be added."""
    from workbench.errors import EXIT_EVIDENCE, EXIT_OK, EvidenceError

    load_case(folder)
    code = EXIT_OK
    for clip in clips:
        try:
            target, digest, new = add_evidence(folder, clip)
        except EvidenceError as exc:
            warn(f"{clip}: {exc}")
            code = EXIT_EVIDENCE
            continue
        say(f"{'added' if new else 'already in the case'}: {target} sha256 {digest}")
    return code
