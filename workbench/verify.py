"""``workbench verify``: re-hash what a run or a case recorded, and name what it did not."""

from __future__ import annotations

from pathlib import Path

from workbench.case import CASE_FILE, verify_case
from workbench.core.errors import ParameterError
from workbench.reports.manifest import MANIFEST, verify_folder


def verify_path(path: Path) -> tuple[list[str], list[str]]:
    """Verify an output folder or a multi-clip run (manifest.json) or a case folder (case.json:
    its custody chain too).

    Returns
    -------
    problems : list of str
        One line per file changed, missing or added, or other break of the record.
    notes : list of str
        What holds but should be known (a case's reports older than their evidence's last entry).

    Raises
    ------
    ParameterError
        When ``path`` is none of these.
    """
    if (path / CASE_FILE).is_file():
        return verify_case(path)
    if (path / MANIFEST).is_file():
        return verify_folder(path), []
    if (path / "index.json").is_file():
        return [f"{path / MANIFEST}: missing (a run by an older version, or one that did not finish): "
                "the index pages are not covered"], []
    raise ParameterError(f"{path} holds no manifest.json, index.json or case.json")
