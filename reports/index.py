"""The index of a multi-clip run: index.json and a self-contained index.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.core.atomic import atomic_write_text
from workbench.reports.html import CSP, TEMPLATES, environment


def write_index(outdir: Path, rows: list[dict[str, Any]], *, case: dict[str, Any] | None = None,
                formats: tuple[str, ...] = ("html",)) -> None:
    """Write ``outdir/index.json`` and ``outdir/index.html`` listing every clip of the run.

    Each row has ``clip``, ``role`` ("disputed" or "reference") and ``status`` ("done",
    "unreadable" or "report_failed"), and for done clips ``folder`` (relative to ``outdir``),
    ``sha256``, ``duration_s``, ``container``, ``codec``, ``flagged`` and ``errored``. ``case``
    (case id and examiner) heads the page; each report is linked in the ``formats`` written.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(outdir / "index.json", json.dumps({"case": case, "clips": rows}, indent=2,
                                                        ensure_ascii=False) + "\n")
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    html = environment().get_template("index.html.j2").render(
        rows=rows, css=css, csp=CSP, case=case or {}, formats=[f for f in ("html", "pdf") if f in formats])
    atomic_write_text(outdir / "index.html", html)
