"""Write report.json (first, the source of truth) and render report.html from it."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.core.atomic import atomic_write_text
from workbench.core.errors import ReportError
from workbench.core.model import FORMAT_NAME, READABLE_VERSIONS, Report
from workbench.reports.html import render_html

FORMATS = ("json", "html", "pdf")


def parse_formats(value: str) -> tuple[str, ...]:
    """Report formats named in a comma-separated ``value`` ("json,html"); ParameterError for an
    unknown one or none."""
    from workbench.core.errors import ParameterError

    formats = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ParameterError(f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}")
    return formats


def report_json(report: Report) -> str:
    """The report as JSON text (UTF-8, indented, no NaN)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_report(report: Report, outdir: Path, *, formats: tuple[str, ...] = FORMATS) -> None:
    """Write report.json, then render report.html (and report.pdf) from that JSON, not from live
    objects, so ``workbench render`` of the same JSON gives the same report.

    Raises
    ------
    ReportError
        When a human-readable format cannot be rendered (report.json is already written).
    """
    text = report_json(report)
    atomic_write_text(outdir / "report.json", text)
    model = Report.from_dict(json.loads(text))
    for fmt in ("html", "pdf"):
        if fmt not in formats:
            continue
        try:
            if fmt == "html":
                render_to_file(model, outdir)
            else:
                from workbench.reports.pdf import render_pdf

                render_pdf(model, outdir)
        except (ReportError, OSError):  # an OSError is the disk's (full, read-only), not the renderer's
            raise
        except Exception as exc:  # a renderer bug must cost this file, not the run or report.json
            raise ReportError(f"report.json was written but report.{fmt} could not be rendered "
                              f"({type(exc).__name__}: {exc})") from None


def render_to_file(report: Report, outdir: Path, *, listening_notes=()) -> Path:
    """Render ``report`` to ``outdir/report.html``; figures are read from ``outdir/figures``."""
    path = outdir / "report.html"
    atomic_write_text(path, render_html(report, outdir, listening_notes=listening_notes))
    return path


def load_report(path: Path) -> Report:
    """Read a report.json written by this tool.

    Raises
    ------
    ReportError
        When the file cannot be read, is not JSON, or is not a workbench report of a known version.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise ReportError(f"{path}: not a workbench report")
    if data.get("format_version") not in READABLE_VERSIONS:
        raise ReportError(
            f"{path}: report format version {data.get('format_version')!r} is not supported "
            f"(this tool reads versions {', '.join(map(str, READABLE_VERSIONS))})"
        )
    try:
        return Report.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"{path}: report is incomplete or malformed ({exc})") from None
