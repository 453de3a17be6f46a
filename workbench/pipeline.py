"""The pipeline: run every selected analysis on one Clip, save figures, write the report.

An analysis that raises becomes a Result with status ``error``; the rest of the report still
comes out. The evidence is hashed again after the analyses and the report says whether it held.
"""

from __future__ import annotations

import io
import platform
import time
import traceback
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import matplotlib

from workbench import __version__
from workbench.core.analysis import Analysis, FigureOut, Result
from workbench.core.atomic import atomic_write_bytes
from workbench.core.clip import Clip
from workbench.core.errors import ReportError
from workbench.core.model import AnalysisEntry, Report
from workbench.core.plotting import FIGURE_RC
from workbench.evidence import finish_evidence
from workbench.progress import SILENT, Progress
from workbench.rates import rates_by_kind
from workbench.reports.excerpts import write_excerpts
from workbench.reports.manifest import clear_earlier_run, write_manifest
from workbench.reports.patterns import place_numbers
from workbench.reports.timeline import timeline_figure
from workbench.reports.writer import write_report

FIGURE_DPI = 110
PALETTE_FROM_BYTES = 50_000
DEPENDENCIES = (
    "numpy", "scipy", "librosa", "soundfile", "av", "matplotlib", "jinja2", "click", "pyloudnorm",
    "ruptures", "weasyprint", "praat-parselmouth", "onnxruntime",
)
LIMITATIONS = [
    "This report measures and shows; it does not decide whether the recording is authentic, "
    "edited or synthetic. Every finding is a place or property for a qualified examiner to "
    "listen to and weigh with the rest of the case.",
    "An absence of flagged findings does not show that a recording is unedited or genuine: "
    "careful edits, re-recording through a loudspeaker, or lossy re-encoding can remove the "
    "traces these analyses look for.",
    "A flagged finding does not show editing: devices, codecs, networks and ordinary acoustic "
    "events produce many of the same traces. Each analysis section says what its findings can "
    "and cannot show.",
    "Thresholds were set on generated recordings with planted artifacts and on one half of a set "
    "of third-party recordings; each section cites the rates measured on the other half "
    "(docs/validation.md). On material unlike those recordings the rates are not established.",
    "The analyses see the decoded audio only; the container, codec and tags are reported as the "
    "file states them and can have been altered.",
]

EVIDENCE_CHANGED = (
    "THE EVIDENCE FILE CHANGED DURING ANALYSIS: its SHA-256 after the run differs from "
    "the one taken at intake. The results cannot be tied to either version."
)


def tool_info() -> dict[str, Any]:
    """Tool name and version, Python version and the versions of the libraries behind the numbers."""
    deps = {}
    for name in DEPENDENCIES:
        try:
            deps[name] = version(name)
        except PackageNotFoundError:
            deps[name] = None
    import soundfile

    deps["libsndfile"] = soundfile.__libsndfile_version__
    return {
        "name": "audio-evidence-workbench",
        "version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "dependencies": deps,
    }


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_analysis(analysis: Analysis, clip: Clip) -> tuple[Result, float]:
    """Run one analysis, turning any exception into an ``error`` Result; return it and wall time (s).
    An analysis that cannot work at the clip's rate is skipped with the reason."""
    def step() -> Result:
        reason = analysis.unsupported(clip)
        return analysis.run(clip) if reason is None else Result.skipped(reason)

    return run_safely(step)


def run_safely(step: Callable[[], Result]) -> tuple[Result, float]:
    """Call ``step``, turning any exception into an ``error`` Result; return it and wall time (s)."""
    started = time.perf_counter()
    try:
        with matplotlib.rc_context(FIGURE_RC):
            result = step()
    except Exception as exc:  # an analysis failure must not cost the rest of the report
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        result = Result(status="error", message=f"{type(exc).__name__} at {where}: {exc}")
    return result, time.perf_counter() - started


def save_figure(figure, path: Path) -> None:
    """Save a matplotlib Figure as PNG atomically and release it.

    The figure is drawn once, by its own Agg canvas, and the pixels are encoded by Pillow:
    ``Figure.savefig`` lays a constrained-layout figure out and draws it twice over (a draw
    without rendering to settle the layout, then the real one), which cost a third of a report's
    figure time. A figure whose PNG exceeds ``PALETTE_FROM_BYTES`` (spectrograms, dense
    waveforms: tens of thousands of colours) is reduced to a palette of 256 colours without
    dithering, which reads the same at a third of the bytes and keeps the self-contained HTML
    report small; line plots are kept as drawn.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    figure.set_dpi(FIGURE_DPI)
    canvas = FigureCanvasAgg(figure)
    with matplotlib.rc_context(FIGURE_RC):
        canvas.draw()
    pixels = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    figure.clear()
    data = _png(pixels)
    if len(data) > PALETTE_FROM_BYTES:
        palette = pixels.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                 dither=Image.Dither.NONE)
        data = min(data, _png(palette), key=len)
    atomic_write_bytes(path, data)


def _png(image) -> bytes:
    """``image`` as PNG bytes, with its resolution (FIGURE_DPI) and nothing else recorded."""
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(FIGURE_DPI, FIGURE_DPI))
    return out.getvalue()


def _save_figures(name: str, figures: list[FigureOut], outdir: Path) -> tuple[list[str], list[str]]:
    paths, captions = [], []
    for figure in figures:
        relative = f"figures/{name}-{figure.name}.png"
        save_figure(figure.figure, outdir / relative)
        paths.append(relative)
        captions.append(figure.caption)
    return paths, captions


def run_order(analyses: list[Analysis], *, references: bool) -> tuple[list[Analysis], list[Analysis]]:
    """The analyses that run on a clip, as (on the audio, on the reports), in the order the report
    lists them: those that ``needs_references`` only when the clip is compared with references."""
    on_audio = [a for a in analyses if not a.needs_references]
    return on_audio, [a for a in analyses if a.needs_references] if references else []


@dataclass
class Request:
    """What one clip's report is asked for with.

    Attributes
    ----------
    analyses : list of Analysis
        Configured analyses, in run order.
    command : str
        The command line (or library call) that reproduces this run, recorded in the report.
    formats : tuple of str
        Which of "json", "html", "pdf" to write (report.json is always written: it is the source
        of truth).
    case : dict, optional
        ``case_id`` and ``examiner`` when the clip belongs to a case folder (printed on reports).
    references : list of dict
        Reports (report.json content, plus ``report_path``: where that report lies, relative to
        the clip's output folder) of known-genuine reference recordings, for the analyses that
        ``needs_references`` (the comparison); without them those are not run.
    workers : int
        Analyses run in this many forked processes at once (1: one after another here).
    """

    analyses: list[Analysis]
    command: str = ""
    formats: tuple[str, ...] = ("json", "html")
    case: dict[str, str] | None = None
    references: list[dict[str, Any]] = field(default_factory=list)
    workers: int = 1


def analyze_clip(clip: Clip, outdir: Path, request: Request, progress: Progress = SILENT) -> Report:
    """Run the analyses of ``request`` on ``clip`` and write the report into ``outdir``.

    Parameters
    ----------
    clip : Clip
        The opened evidence (``clip.info`` set).
    outdir : Path
        Folder for report.json, report.html, figures/ and excerpts/; created if missing.
    request : Request
        The analyses, formats and context of the report.
    progress : Progress
        Told of each analysis before it runs, and of the timeline.
    """
    started, started_clock = utc_now(), time.perf_counter()
    # An earlier run's manifest goes first, so no state of this run before its end verifies, and
    # its outputs with it, so no figure or excerpt of that run is taken into this run's manifest.
    clear_earlier_run(outdir)
    (outdir / "figures").mkdir(parents=True, exist_ok=True)
    entries, tracks = _analyse(clip, outdir, request, progress)
    unchanged = finish_evidence(clip)
    report = _report(clip, request, entries, started)
    if not unchanged:
        report.limitations.insert(0, EVIDENCE_CHANGED)
    progress.step("timeline")
    _draw_places(report, clip, tracks, outdir)
    report.run["finished_utc"] = utc_now()
    report.run["wall_time_s"] = round(time.perf_counter() - started_clock, 3)
    try:
        write_report(report, outdir, formats=request.formats)
    except ReportError:
        write_manifest(outdir, report.evidence, report.named_files)  # report.json is whole; only a rendering failed
        raise
    write_manifest(outdir, report.evidence, report.named_files)  # last: a run stopped before this (killed, disk full) has none
    return report


def _analyse(clip: Clip, outdir: Path, request: Request, progress: Progress) -> tuple[list[AnalysisEntry], list]:
    """Run the analyses on the audio, then those on the reports; return their entries and the
    tracks the timeline draws."""
    entries, tracks = [], []
    on_audio, on_reports = run_order(request.analyses, references=bool(request.references))
    for entry, entry_tracks in run_all(on_audio, clip, outdir, progress=progress, workers=request.workers):
        entries.append(entry)
        tracks.extend(entry_tracks)
    for analysis in on_reports:
        progress.step(analysis.name)
        evidence, earlier = clip.info.to_dict(), list(zip(on_audio, entries))
        result, wall_s = run_safely(lambda a=analysis: a.run_on_reports(evidence, earlier, request.references))
        entries.append(_entry(analysis, result, wall_s, outdir))
    return entries, tracks


def _report(clip: Clip, request: Request, entries: list[AnalysisEntry], started: str) -> Report:
    """The report model of a finished run, before its figures of places and its timing."""
    return Report(
        tool=tool_info(),
        run={
            "started_utc": started,
            "finished_utc": None,
            "wall_time_s": None,
            "command": request.command,
            "case": request.case,
            "parameters": {entry.name: entry.parameters for entry in entries},
        },
        evidence=clip.info.to_dict(),
        analyses=entries,
        limitations=list(LIMITATIONS),
        references=[_reference_row(r) for r in request.references],
    )


def _draw_places(report: Report, clip: Clip, tracks: list, outdir: Path) -> None:
    """The timeline of every flagged place and, when there are any, their excerpts."""
    flagged = report.flagged_findings()
    numbers = place_numbers(report.timeline)
    with matplotlib.rc_context(FIGURE_RC):
        report.figures["timeline"] = "figures/timeline.png"
        save_figure(timeline_figure(clip, flagged, tracks, numbers), outdir / report.figures["timeline"])
        if flagged:
            (outdir / "excerpts").mkdir(exist_ok=True)
            report.excerpts = write_excerpts(clip, flagged, numbers, outdir, save_figure)


def run_all(analyses: list[Analysis], clip: Clip, outdir: Path, *, progress: Progress = SILENT,
            workers: int = 1) -> list[tuple[AnalysisEntry, list]]:
    """Run every analysis, saving its figures under ``outdir``; return (entry, tracks) pairs in
    the order of ``analyses``.

    With ``workers`` > 1 the analyses run in forked processes that inherit the clip with its
    shared spectrogram already computed (copy-on-write: it is not copied, nor computed again) and
    the models that :meth:`Analysis.prepare` loaded into this process (once per batch, not per clip);
    ``heavy`` analyses start first. Inside a daemon process (a batch worker), or where fork is not
    available, they run one after another.
    """
    import multiprocessing

    if workers <= 1 or len(analyses) < 2 or multiprocessing.current_process().daemon or \
            "fork" not in multiprocessing.get_all_start_methods():
        out = []
        for analysis in analyses:
            progress.step(analysis.name)
            out.append(_run_one(analysis, clip, outdir))
        return out
    from concurrent.futures import ProcessPoolExecutor, as_completed

    clip.spectrogram  # computed once, before the fork
    for analysis in analyses:  # models loaded once, before the fork: every clip's workers inherit them
        try:
            analysis.prepare()
        except Exception:  # noqa: BLE001 - run() meets the same failure and reports it
            pass
    results: dict[int, tuple[AnalysisEntry, list]] = {}
    order = sorted(range(len(analyses)), key=lambda i: not analyses[i].heavy)
    # The clip reaches the workers through fork (initargs are inherited, not pickled).
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=_inherit, initargs=(clip, outdir)) as pool:
        futures = {pool.submit(_run_inherited, analyses[i]): i for i in order}
        for future in as_completed(futures):
            i = futures[future]
            progress.step(analyses[i].name)
            try:
                results[i] = future.result()
            except Exception as exc:  # a worker that died costs its analysis, not the report
                failed = Result(status="error", message=f"the process running it failed ({type(exc).__name__}: {exc})")
                results[i] = (_entry(analyses[i], failed, 0.0, outdir), [])
    return [results[i] for i in range(len(analyses))]


_INHERITED: tuple[Clip, Path] | None = None
"""In a forked analysis worker only: the clip and output folder it inherited (see :func:`run_all`)."""


def _inherit(clip: Clip, outdir: Path) -> None:
    global _INHERITED
    _INHERITED = (clip, outdir)


def _run_inherited(analysis: Analysis) -> tuple[AnalysisEntry, list]:
    clip, outdir = _INHERITED
    return _run_one(analysis, clip, outdir)


def _run_one(analysis: Analysis, clip: Clip, outdir: Path) -> tuple[AnalysisEntry, list]:
    result, wall_s = run_analysis(analysis, clip)
    return _entry(analysis, result, wall_s, outdir), result.tracks


def _entry(analysis: Analysis, result: Result, wall_s: float, outdir: Path) -> AnalysisEntry:
    """The report entry of one analysis run, with its figures saved under ``outdir``."""
    try:
        paths, captions = _save_figures(analysis.name, result.figures, outdir)
    except Exception as exc:  # a figure that cannot be drawn is that analysis's error
        result.status, result.message = "error", f"figure could not be saved: {exc}"
        paths, captions = [], []
    return AnalysisEntry(
        name=analysis.name,
        version=analysis.version,
        status=result.status,
        message=result.message,
        description=analysis.description,
        measures=analysis.measures,
        cannot_show=analysis.cannot_show,
        parameters={**analysis.parameters(), **result.parameters},
        measurements=result.measurements,
        findings=result.findings,
        figures=paths,
        figure_captions=captions,
        wall_time_s=round(wall_s, 4),
        validation=[row for row in rates_by_kind().values() if row["analysis"] == analysis.name],
    )


def _reference_row(reference: dict[str, Any]) -> dict[str, Any]:
    """What the report lists of one reference recording."""
    evidence = reference["evidence"]
    keys = ("path", "sha256", "sha256_after", "container", "codec", "sample_rate_hz", "channels", "duration_s")
    return {**{key: evidence.get(key) for key in keys}, "report": reference.get("report_path")}


