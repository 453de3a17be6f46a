"""The measured error rates that ship with the tool, one row per finding kind, cited by each report.

``make validate`` writes them (``workbench validate`` puts ``rates.json`` beside validation.json;
the Makefile copies it to ``workbench/data/rates.json``). The file is read once, when a report first
asks for it, and checked for its declared format.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

FORMAT_NAME = "workbench-rates"
FORMAT_VERSION = 1
RATES_FILE = "rates.json"


def packaged(results: dict[str, Any]) -> dict[str, Any]:
    """The packaged form of a validation run (``validation.json``): its summary rows and when, and
    by which version of the tool, they were measured."""
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
            **{key: results[key] for key in ("generated_utc", "tool_version", "tolerance_s")},
            "rows": results["rows"]}


@lru_cache(maxsize=1)
def rates_by_kind() -> dict[str, dict[str, Any]]:
    """The shipped rows by finding kind, the reference rows (earlier definitions of strength) left
    out; {} when no rates ship or the file is not of the declared format."""
    try:
        data = json.loads((files("workbench") / "data" / RATES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or (data.get("format"), data.get("format_version")) != (FORMAT_NAME, FORMAT_VERSION):
        return {}
    return {row["kind"]: row for row in data["rows"] if not row.get("reference")}
