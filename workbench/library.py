"""The workbench as a library: the calls under the command line, for a script or a notebook.

Each call writes what ``workbench analyze`` writes (report.json, report.html, figures, excerpts,
manifest.json; an index over several clips) and returns the report model or the batch's outcomes::

    import workbench

    report = workbench.analyze("disputed.m4a", "out/case-17", references=["speech-tv.wav"])
    for finding in report.flagged_findings():
        print(finding.kind, finding.start_s, finding.summary)

    batch = workbench.analyze_many(["a.ogg", "b.ogg"], "out/phone",
                                   workbench.Options(workbench.build(only=["levels"]), jobs=2))
    print(batch.code, [outcome.row["status"] for outcome in batch.outcomes.values()])
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterable

from workbench.batch import Batch, Options, case_inputs, run_batch
from workbench.core.errors import (
    EXIT_ANALYSIS_ERROR, EXIT_EVIDENCE, EXIT_OUTPUT, EXIT_USAGE, EvidenceError, OutputError, ParameterError,
    ReportError,
)
from workbench.core.model import Report
from workbench.progress import SILENT, Progress
from workbench.registry import build
from workbench.reports.writer import load_report

Paths = Iterable["str | os.PathLike"]
CASE_FORMATS = ("json", "html", "pdf")
"""A case's reports go into the case file: the PDF is written with them."""
RAISED = {EXIT_EVIDENCE: EvidenceError, EXIT_USAGE: ParameterError, EXIT_OUTPUT: OutputError,
          EXIT_ANALYSIS_ERROR: ReportError}
"""The error :func:`analyze` raises for a clip that ended with each exit code and no report."""


def analyze(evidence: str | os.PathLike, outdir: str | os.PathLike, options: Options | None = None, *,
            references: Paths = (), progress: Progress = SILENT) -> Report:
    """Analyse one evidence file into ``outdir`` and return its report.

    Parameters
    ----------
    evidence : path-like
        The disputed recording; opened read-only and hashed before and after.
    outdir : path-like
        Folder for the report; a folder holding the report of another recording is refused
        (``options.force`` replaces it).
    options : Options, optional
        Analyses, formats and the rest; by default every analysis with its default parameters,
        report.json and report.html.
    references : paths
        Known-genuine recordings to compare with; their reports go to ``outdir/references/``.
    progress : Progress
        Told of each step; silent by default.

    Returns
    -------
    Report
        The report as written to ``outdir/report.json``. An analysis that failed has status
        ``error`` in it; ``report.evidence_changed`` says whether the file changed meanwhile.

    Raises
    ------
    EvidenceError
        The file cannot be read or decoded.
    ParameterError
        An unknown analysis or parameter, or ``outdir`` holds the report of another recording.
    OutputError
        ``outdir`` cannot be made or written, or another run holds it.
    ReportError
        report.json was written but a rendering (HTML, PDF) failed.
    """
    evidence, outdir, references = Path(evidence), Path(outdir), [Path(r) for r in references]
    options = _completed(options, references, f"workbench.analyze({str(evidence)!r}, {str(outdir)!r})")
    outcome = run_batch([evidence], outdir, options, references=references, progress=progress).outcomes[evidence]
    if outcome.row["status"] != "done":
        raise RAISED.get(outcome.code, EvidenceError)(outcome.errors[0] if outcome.errors else outcome.row["message"])
    return load_report(outdir / "report.json")


def analyze_many(clips: Paths, outdir: str | os.PathLike, options: Options | None = None, *,
                 references: Paths = (), progress: Progress = SILENT) -> Batch:
    """Analyse several evidence files, each into its own subfolder of ``outdir``, with an index.

    A file that cannot be read costs its own row, not the batch: each clip's outcome (its index
    row, exit code and problems) is in the returned :class:`Batch`, and ``Batch.code`` is the
    exit code ``workbench analyze`` would end with.

    Raises
    ------
    OutputError
        ``outdir`` cannot be made or written, or another run holds it.
    ParameterError
        An unknown analysis or parameter, or an unreachable Dask scheduler.
    """
    clips, outdir, references = [Path(c) for c in clips], Path(outdir), [Path(r) for r in references]
    options = _completed(options, references, f"workbench.analyze_many({len(clips)} clips, {str(outdir)!r})")
    return run_batch(clips, outdir, options, references=references, progress=progress)


def analyze_case(case_dir: str | os.PathLike, options: Options | None = None, *,
                 progress: Progress = SILENT) -> Batch:
    """Analyse every disputed file of a case folder into its ``reports/`` folder, compared with
    the case's reference recordings; each analysis is logged in the custody log.

    Raises
    ------
    ParameterError
        ``case_dir`` is not a case folder or holds no evidence yet.
    OutputError
        The case cannot be written, or another run holds it.
    """
    case_dir = Path(case_dir)
    clips, reports, references = case_inputs(case_dir)
    if options is None:
        options = Options(build(references=bool(references)), formats=CASE_FORMATS)
    options = _completed(options, references, f"workbench.analyze_case({str(case_dir)!r})")
    return run_batch(clips, reports, options, case_dir=case_dir, references=references, progress=progress)


def _completed(options: Options | None, references: list[Path], call: str) -> Options:
    """``options`` with what was left out filled in: every analysis (the comparison too when there
    are references), and the call that made the run as its recorded command."""
    options = options or Options(build(references=bool(references)))
    return dataclasses.replace(options, command=options.command or call)
