"""Integrity manifests: the SHA-256 of every file a run wrote, and of the evidence it analysed, so
``workbench verify`` can show months later that nothing changed, went missing or was added.

Two kinds:

- a clip's output folder holds ``manifest.json`` over its report files, its figures and the
  reports of the references it was compared with (``references/<ref>/``, each with a manifest of
  its own), and the evidence's path and SHA-256;
- a run over several clips (and a case's ``reports/``) holds a run manifest over its index pages
  and every clip folder's manifest and the files that manifest lists.

Verification walks the whole folder: a file that no manifest records is named as added.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from workbench.core.atomic import atomic_write_text
from workbench.core.hashing import sha256_file

MANIFEST = "manifest.json"
CLIP_FORMAT, RUN_FORMAT = "workbench-manifest", "workbench-run-manifest"
CLIP_OUTPUTS = ("report.*", "figures/**/*", "excerpts/**/*", "references/**/*")
"""The files of a clip's output folder that its run wrote."""
RUN_OUTPUTS = ("index.*",)
"""The files of a multi-clip run's folder that the run wrote beside the clip folders."""


def tree_files(folder: Path) -> list[str]:
    """Relative paths (POSIX) of every file under ``folder``, symbolic links included, without
    following linked folders, sorted."""
    found = []
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        found.extend((base / name).relative_to(folder).as_posix() for name in [*files, *(
            d for d in dirs if (base / d).is_symlink())])
    return sorted(found)


def output_files(outdir: Path, patterns: tuple[str, ...] = CLIP_OUTPUTS) -> list[str]:
    """Relative paths of the files under ``outdir`` that match ``patterns`` (hidden temporary
    files of an interrupted write aside), sorted."""
    found = {p for pattern in patterns for p in outdir.glob(pattern) if p.is_file()}
    return sorted(p.relative_to(outdir).as_posix() for p in found if not p.name.startswith("."))


def write_manifest(outdir: Path, evidence: dict[str, Any], named_files: list[dict[str, str]] = ()) -> Path:
    """Hash every file a clip's run wrote in ``outdir`` and write ``manifest.json`` beside them,
    with the evidence and the files the user named as parameters (``Report.named_files``)."""
    manifest = {
        "format": CLIP_FORMAT,
        "format_version": 2,
        "evidence": {"path": str(Path(evidence["path"]).resolve()), "sha256": evidence["sha256"]},
        "named_files": list(named_files),
        "files": {name: sha256_file(outdir / name) for name in output_files(outdir)},
    }
    return _write(outdir, manifest)


def write_run_manifest(outdir: Path, folders: list[Path]) -> Path:
    """Hash the index pages of a multi-clip run and each clip folder's manifest in ``folders``
    (and the references' under ``outdir/references``), and take over the SHA-256 each manifest
    records of its files; write the run's ``manifest.json`` in ``outdir``. Returns its path.

    The files' hashes come from their own manifests, not from the disk now: a file changed in a
    folder whose report this run reused keeps failing ``verify``, and nothing is hashed twice."""
    files = {name: sha256_file(outdir / name) for name in output_files(outdir, RUN_OUTPUTS)}
    nested = [*folders, *sorted(p.parent for p in (outdir / "references").glob(f"*/{MANIFEST}"))]
    for folder in nested:
        listed = _read(folder)
        if listed is None:
            continue
        base = folder.relative_to(outdir).as_posix()
        files[f"{base}/{MANIFEST}"] = sha256_file(folder / MANIFEST)
        files.update({f"{base}/{name}": digest for name, digest in listed["files"].items()
                      if (folder / name).is_file()})
    return _write(outdir, {"format": RUN_FORMAT, "format_version": 1, "files": dict(sorted(files.items()))})


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


def verify_folder(outdir: Path, *, evidence_dirs: list[Path] | None = None) -> list[str]:
    """Compare an output folder with its manifest; one line per problem (empty: all hold).

    Every recorded file must be there with its hash and every file under the folder must be
    recorded. A manifest nested inside (a clip folder's, a reference's) is one of the recorded
    files, and the files it lists are recorded here too; its evidence is checked.

    Parameters
    ----------
    outdir : Path
        A folder with ``manifest.json`` (a clip's or a run's).
    evidence_dirs : list of Path, optional
        Folders to find the evidence in by its file name (a case's ``evidence/`` and
        ``references/``); by default the path recorded in each manifest.
    """
    manifest = _read(outdir)
    if manifest is None:
        return [f"{outdir / MANIFEST}: missing or unreadable"]
    recorded = manifest["files"]
    problems = hash_problems(outdir, recorded, against="the manifest")
    problems += [f"{outdir / name}: added after the run (no manifest records it)"
                 for name in tree_files(outdir) if name != MANIFEST and name not in recorded]
    if manifest.get("format") == CLIP_FORMAT:
        problems += _evidence_problems(manifest, evidence_dirs) + _named_file_problems(manifest)
    for name in sorted(recorded):
        if name.endswith(f"/{MANIFEST}") and (outdir / name).is_file():
            inner = _read((outdir / name).parent)
            if inner is None:
                problems.append(f"{outdir / name}: not a readable manifest")
            elif inner.get("format") == CLIP_FORMAT:
                problems += _evidence_problems(inner, evidence_dirs) + _named_file_problems(inner)
    return list(dict.fromkeys(problems))  # a file two manifests record is named once


def _named_file_problems(manifest: dict) -> list[str]:
    """The files a user named as parameters (trust anchors, a checkpoint, a grid log), re-hashed at
    the path the run read them from."""
    problems = []
    for named in manifest.get("named_files", []):
        path = Path(str(named.get("path", "")))
        if not path.is_file():
            problems.append(f"{path}: named as {named.get('parameter')} by the run, missing (cannot be re-checked)")
        elif sha256_file(path) != named.get("sha256"):
            problems.append(f"{path}: named as {named.get('parameter')} by the run, changed since "
                            "(SHA-256 differs from the manifest)")
    return problems


def _evidence_problems(manifest: dict, evidence_dirs: list[Path] | None) -> list[str]:
    recorded = Path(str(manifest.get("evidence", {}).get("path", "")))
    expected = manifest.get("evidence", {}).get("sha256")
    candidates = [folder / recorded.name for folder in evidence_dirs] if evidence_dirs else [recorded]
    evidence = next((p for p in candidates if p.is_file()), candidates[0])
    if not evidence.is_file():
        return [f"{evidence}: evidence missing"]
    if sha256_file(evidence) != expected:
        return [f"{evidence}: evidence changed (SHA-256 differs from the report)"]
    return []


def clear_earlier_run(outdir: Path) -> None:
    """Delete an earlier run's manifest and the report, figures and excerpts it records in
    ``outdir``, manifest first, so that a re-run leaves none of them behind for its own manifest to
    take in. Only those files, named by the manifest inside ``outdir``, are touched: the
    references' reports (written by their own runs, perhaps moments ago) and anything else stay."""
    manifest = _read(outdir)
    (outdir / MANIFEST).unlink(missing_ok=True)
    if manifest is None or manifest.get("format") != CLIP_FORMAT:
        return
    root = outdir.resolve()
    for name in map(str, manifest["files"]):
        parts = Path(name).parts
        own = (len(parts) == 1 and name.startswith("report.")) or (len(parts) > 1 and parts[0] in ("figures", "excerpts"))
        path = outdir / name
        # A manifest is data: a name that leaves the folder is not followed.
        if own and ".." not in parts and path.resolve().is_relative_to(root) and path.is_file():
            path.unlink()


def _read(folder: Path) -> dict[str, Any] | None:
    """The manifest of ``folder``, or None when it is missing or not a manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def _write(outdir: Path, manifest: dict[str, Any]) -> Path:
    path = outdir / MANIFEST
    atomic_write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return path
