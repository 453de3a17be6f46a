"""Integrity manifest of an output folder: the SHA-256 of every file a run wrote, and of the
evidence it analysed, so ``workbench verify`` can show months later that nothing changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.atomic import atomic_write_text
from workbench.evidence import sha256_file

MANIFEST = "manifest.json"
OUTPUT_PATTERNS = ("report.*", "figures/*")
"""The files of an output folder that the manifest covers (the folder may hold other things)."""


def output_files(outdir: Path) -> list[str]:
    """Relative paths of the report files in ``outdir``, sorted."""
    found = {p for pattern in OUTPUT_PATTERNS for p in outdir.glob(pattern) if p.is_file()}
    return sorted(p.relative_to(outdir).as_posix() for p in found if not p.name.startswith("."))


def write_manifest(outdir: Path, evidence: dict[str, Any]) -> Path:
    """Hash every report file in ``outdir`` and write ``manifest.json`` beside them."""
    manifest = {
        "format": "workbench-manifest",
        "format_version": 1,
        "evidence": {"path": str(Path(evidence["path"]).resolve()), "sha256": evidence["sha256"]},
        "files": {name: sha256_file(outdir / name) for name in output_files(outdir)},
    }
    path = outdir / MANIFEST
    atomic_write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return path


def hash_problems(base: Path, recorded: dict[str, str], *, against: str, what: str = "") -> list[str]:
    """One line per file of ``recorded`` (relative path -> SHA-256 under ``base``) that is
    missing or whose hash differs; ``against`` names the record, ``what`` the kind of file."""
    problems = []
    for name, digest in sorted(recorded.items()):
        path = base / name
        if not path.is_file():
            problems.append(f"{path}: {what}missing")
        elif sha256_file(path) != digest:
            problems.append(f"{path}: {what}changed (SHA-256 differs from {against})")
    return problems


def verify_folder(outdir: Path, *, evidence_path: Path | None = None) -> list[str]:
    """Compare an output folder with its manifest; return one line per problem (empty: all hold).

    Parameters
    ----------
    outdir : Path
        A folder with ``manifest.json``.
    evidence_path : Path, optional
        Where the evidence is now (default: the path recorded in the manifest).
    """
    try:
        manifest = json.loads((outdir / MANIFEST).read_text(encoding="utf-8"))
        recorded: dict[str, str] = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{outdir / MANIFEST}: missing or unreadable"]
    problems = hash_problems(outdir, recorded, against="the manifest")
    for name in output_files(outdir):
        if name not in recorded:
            problems.append(f"{outdir / name}: added after the run")
    evidence = evidence_path or Path(manifest.get("evidence", {}).get("path", ""))
    expected = manifest.get("evidence", {}).get("sha256")
    if not evidence.is_file():
        problems.append(f"{evidence}: evidence missing")
    elif sha256_file(evidence) != expected:
        problems.append(f"{evidence}: evidence changed (SHA-256 differs from the report)")
    return problems

