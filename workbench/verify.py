"""``workbench verify``: re-hash what a run or a case recorded."""

from __future__ import annotations

from pathlib import Path

from reports.manifest import MANIFEST, verify_folder
from workbench.case import CASE_FILE, verify_case
from workbench.errors import ParameterError


def verify_path(path: Path) -> list[str]:
    """Verify an output folder (manifest.json), a multi-clip run (index.json) or a case folder
    (case.json: its custody chain too); one line per problem.

    Raises
    ------
    ParameterError
        When ``path`` is none of these.
    """
    if (path / CASE_FILE).is_file():
        return verify_case(path)
    if (path / MANIFEST).is_file():
        return verify_folder(path)
    if (path / "index.json").is_file():
        return [p for sub in sorted(path.iterdir()) if (sub / MANIFEST).is_file() for p in verify_folder(sub)]
    raise ParameterError(f"{path} holds no manifest.json, index.json or case.json")
