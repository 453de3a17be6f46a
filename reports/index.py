"""The index of a multi-clip run: index.json and a self-contained index.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.html import CSP, TEMPLATES, _environment
from workbench.atomic import atomic_write_text


def write_index(outdir: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``outdir/index.json`` and ``outdir/index.html`` listing every clip of the run.

    Each row has ``clip`` and ``status`` ("done", "unreadable" or "report_failed"), and for done clips
    ``folder``, ``duration_s``, ``container``, ``codec``, ``flagged`` and ``errored``.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(outdir / "index.json", json.dumps({"clips": rows}, indent=2, ensure_ascii=False) + "\n")
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    html = _environment().get_template("index.html.j2").render(rows=rows, css=css, csp=CSP)
    atomic_write_text(outdir / "index.html", html)
