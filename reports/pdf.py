"""Render the PDF report with WeasyPrint from the same template and model as the HTML, with
print CSS: the case id and evidence SHA-256 at the head of every page, "page x of y" at its foot."""

from __future__ import annotations

from pathlib import Path

from workbench.core.atomic import atomic_write_bytes
from workbench.core.model import Report
from workbench.reports.html import render_html


def render_pdf(report: Report, outdir: Path, *, listening_notes=()) -> Path:
    """Write ``outdir/report.pdf``; figures are read from ``outdir/figures``."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    html = render_html(report, outdir, for_print=True, listening_notes=listening_notes)
    # Figures are data: URIs; nothing else may be fetched, so the PDF never reaches outside.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    pdf = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    path = outdir / "report.pdf"
    atomic_write_bytes(path, pdf)
    return path
