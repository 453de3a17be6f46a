"""Batches: analyse many clips, one after another, in local processes (``--jobs``) or on a Dask
cluster (``--scheduler``), skip clips whose report already matches, and collect one row per clip.

The per-clip work (:func:`process_clip`) is a plain top-level function of picklable arguments so
every backend runs the same code. :func:`run_batch` drives a whole run: reference recordings
first, then the clips; it writes custody-log entries and the index in this one process and
chooses the run's exit code.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from workbench import __version__
from workbench.core.errors import (
    EXIT_ANALYSIS_ERROR, EXIT_EVIDENCE, EXIT_EVIDENCE_CHANGED, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, EvidenceError,
    ParameterError, ReportError,
)
from workbench.names import safe_name
from workbench.pipeline import Request, analyze_clip, run_order
from workbench.progress import SILENT, Labelled, Progress
from workbench.reports.writer import parse_formats
from workbench.reports.patterns import place_numbers


SCHEDULER_TIMEOUT_S = 10
REFERENCES_FOLDER = "references"
"""OUTDIR's subfolder holding the reports of the reference recordings."""
EXIT_PRECEDENCE = (EXIT_EVIDENCE_CHANGED, EXIT_OUTPUT, EXIT_EVIDENCE, EXIT_USAGE, EXIT_ANALYSIS_ERROR)
"""When clips end differently, the run exits with the first of these that any clip had."""


@dataclass
class Options:
    """How a run analyses its clips.

    Attributes
    ----------
    analyses : list of Analysis
        Configured analyses, in run order (:func:`workbench.registry.build`).
    command : str
        The command line (or library call) that reproduces the run, recorded in each report.
    formats : tuple of str
        Report formats: "json" (always written), "html", "pdf".
    jobs : int
        Clips analysed at once, in separate processes (or tasks on the Dask scheduler).
    force : bool
        Analyse again a clip whose report already matches its bytes, the version and the parameters.
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a Dask scheduler that runs the per-clip work.
    """

    analyses: list
    command: str = ""
    formats: tuple[str, ...] = ("json", "html")
    jobs: int = 1
    force: bool = False
    scheduler: str | None = None

    def __post_init__(self) -> None:
        """Check what a caller set; report.json joins the formats (it is the source of truth).

        Raises
        ------
        ParameterError
            For no analysis to run on the audio, an unknown format, or fewer than one job.
        """
        if not [a for a in self.analyses if not a.needs_references]:
            raise ParameterError("no analysis to run on the audio")
        self.formats = parse_formats(",".join(("json", *self.formats)))
        if self.jobs < 1:
            raise ParameterError(f"jobs must be 1 or more, not {self.jobs}")


@dataclass
class Job:
    """One clip to analyse into one folder."""

    clip: Path
    folder: Path
    request: Request
    force: bool = False
    role: str = "disputed"


@dataclass
class Outcome:
    """What became of one clip: its index row, exit code and the lines to print."""

    row: dict[str, Any]
    code: int
    errors: list[str] = field(default_factory=list)
    summary: str = ""
    reused: bool = False


@dataclass
class Batch:
    """What became of a run: its exit code (:data:`EXIT_PRECEDENCE`) and each clip's outcome."""

    code: int
    outcomes: dict[Path, Outcome]
    """The disputed clips' outcomes, by path, in the order they were given."""
    references: list[Outcome] = field(default_factory=list)


def _unique_folders(clips: list[Path], outdir: Path, *, subfolders: bool = False) -> list[Path]:
    """One output folder per clip: OUTDIR itself for one clip (unless ``subfolders``), else
    OUTDIR/<safe stem>[-n]."""
    if len(clips) == 1 and not subfolders:
        return [outdir]
    used: set[str] = {REFERENCES_FOLDER}
    folders = []
    for clip in clips:
        base = safe_name(clip.stem)
        name, n = base, 2
        while name.lower() in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name.lower())
        folders.append(outdir / name)
    return folders


def case_inputs(case_dir: Path) -> tuple[list[Path], Path, list[Path]]:
    """A case folder's disputed evidence files, the folder their reports go to, and the case's
    reference recordings (every disputed clip is compared with them).

    Raises
    ------
    ParameterError
        When ``case_dir`` is not a case folder or holds no evidence yet.
    """
    from workbench.case import evidence_items, load_case

    case = load_case(case_dir)
    clips = evidence_items(case_dir)
    if not clips:
        raise ParameterError(f"case {case['case_id']} holds no evidence yet (workbench case add)")
    return clips, case_dir / "reports", evidence_items(case_dir, role="reference")


def run_batch(clips: list[Path], outdir: Path, options: Options, *, case_dir: Path | None = None,
              references: list[Path] = (), progress: Progress = SILENT) -> Batch:
    """Analyse each clip into its own folder (skipping those whose report already matches).

    In a case folder every analysis is logged in the custody log. Reference recordings are
    analysed first, into OUTDIR/references/, and every clip is then compared with those that
    could be read. Several clips (or a case) also get an index and a run manifest.

    Raises
    ------
    OutputError
        When the output folder (or the case) cannot be made or written, or another run holds it.
    ParameterError
        When the Dask scheduler cannot be reached.
    """
    from workbench.outfolder import claimed

    try:
        with claimed(case_dir if case_dir is not None else outdir):
            case = _case(case_dir)
            reference_outcomes, reference_reports = _references(references, outdir, options, progress)
            outcomes = _clips(clips, outdir, options, case_dir, case, reference_reports, progress)
            _index(clips, outdir, options, case_dir, case, outcomes, reference_outcomes, progress)
    finally:
        progress.end()
    return Batch(exit_code([o.code for o in [*outcomes.values(), *reference_outcomes]]), outcomes, reference_outcomes)


def parallelism(clips: int, jobs: int, scheduler: str | None = None) -> tuple[int, int]:
    """(clips analysed at once, processes per clip) for ``clips`` clips under ``--jobs jobs``.

    Clips run side by side only when there are several: a single clip (or ``--jobs 1``) runs in
    this process, and its analyses share the machine's cores (up to two processes) instead of
    running one after another in one batch worker. On a Dask scheduler each clip is one task.
    """
    if scheduler:
        return jobs, 1
    at_once = max(1, min(jobs, clips))
    return at_once, (min(2, os.cpu_count() or 1) if at_once == 1 else 1)


def _references(references: list[Path], outdir: Path, options: Options,
                progress: Progress) -> tuple[list[Outcome], list[tuple[Path, dict]]]:
    """Analyse the reference recordings into OUTDIR/references/; return their outcomes and the
    (folder, report) of each that could be read."""
    outcomes, reports = [], []
    if not references:
        return outcomes, reports
    folders = _unique_folders(list(references), outdir / REFERENCES_FOLDER, subfolders=True)
    at_once, clip_workers = parallelism(len(references), options.jobs, options.scheduler)
    jobs = [Job(ref, folder, Request(options.analyses, options.command, options.formats, workers=clip_workers),
                options.force, role="reference") for ref, folder in zip(references, folders)]
    for job, outcome in run_jobs(jobs, workers=at_once, scheduler=options.scheduler):
        for line in outcome.errors:
            progress.problem(f"reference {line}")
        if outcome.summary:
            progress.summary(f"reference {outcome.summary}")
        outcome.row |= {"role": "reference", "folder": f"{REFERENCES_FOLDER}/{job.folder.name}"}
        outcomes.append(outcome)
        if outcome.row["status"] == "done":
            reports.append((job.folder, json.loads((job.folder / "report.json").read_text(encoding="utf-8"))))
    if not reports:
        progress.problem("no reference recording could be analysed; the clips are analysed without comparison")
    return outcomes, reports


def _clips(clips: list[Path], outdir: Path, options: Options, case_dir: Path | None, case: dict[str, str] | None,
           reference_reports: list[tuple[Path, dict]], progress: Progress) -> dict[Path, Outcome]:
    """Analyse the disputed clips; in a case (``case``: what its reports print of it), log each
    analysis in the custody log."""
    folders = _unique_folders(clips, outdir, subfolders=case_dir is not None)
    at_once, clip_workers = parallelism(len(clips), options.jobs, options.scheduler)
    per_clip = 1 if at_once > 1 or options.scheduler else len(options.analyses) + 1
    progress.begin(len(clips) * per_clip, per_clip)
    work = [Job(clip, folder, Request(options.analyses, options.command, options.formats, case,
                                      _references_for(folder, reference_reports, options.formats), clip_workers),
                options.force) for clip, folder in zip(clips, folders)]
    outcomes, summary = {}, []
    for job, outcome in run_jobs(work, workers=at_once, scheduler=options.scheduler, progress=progress):
        outcomes[job.clip] = outcome
        for line in outcome.errors:
            progress.problem(line)
        summary.append(outcome.summary)
        if case_dir is not None and outcome.row["status"] == "done":
            _log_analysis(case_dir, job, outcome)
    for line in filter(None, summary):
        progress.summary(line)
    return {clip: outcomes[clip] for clip in clips if clip in outcomes}


def _case(case_dir: Path | None) -> dict[str, str] | None:
    """What a report and the index print of the case: its id and examiner."""
    if case_dir is None:
        return None
    from workbench.case import load_case

    case = load_case(case_dir)
    return {"case_id": case["case_id"], "examiner": case["examiner"]}


def _log_analysis(case_dir: Path, job: Job, outcome: Outcome) -> None:
    """The custody-log entry of one clip's report, made or reused."""
    from workbench.case import append_log
    from workbench.core.hashing import sha256_file

    append_log(case_dir, action="report_reused" if outcome.reused else "analyzed",
               file=job.clip.relative_to(case_dir).as_posix(),
               sha256=sha256_file(job.clip), report=job.folder.relative_to(case_dir).as_posix(),
               manifest_sha256=sha256_file(job.folder / "manifest.json"),
               flagged=outcome.row["flagged"])


def _index(clips: list[Path], outdir: Path, options: Options, case_dir: Path | None, case: dict[str, str] | None,
           outcomes: dict[Path, Outcome], reference_outcomes: list[Outcome], progress: Progress) -> None:
    """The index of several clips (or of a case) and the run manifest over their folders."""
    rows = [outcome.row for outcome in outcomes.values()]
    if not ((len(clips) > 1 or case_dir is not None) and any(row["status"] == "done" for row in rows)):
        return
    from workbench.reports.index import write_index
    from workbench.reports.manifest import write_run_manifest

    write_index(outdir, [row | {"role": "disputed"} for row in rows] + [o.row for o in reference_outcomes],
                case=case, formats=options.formats)
    done = [outdir / row["folder"] for row in rows if row["status"] == "done"]
    manifest = write_run_manifest(outdir, done)
    if case_dir is not None:
        from workbench.case import append_log
        from workbench.core.hashing import sha256_file

        append_log(case_dir, action="reports_indexed", file=manifest.relative_to(case_dir).as_posix(),
                   sha256=sha256_file(manifest), reports=len(done))
    progress.summary(f"index: {outdir / 'index.html'}")


def exit_code(codes: list[int]) -> int:
    """The run's exit code from its clips' codes: the first of :data:`EXIT_PRECEDENCE` present."""
    return next((code for code in EXIT_PRECEDENCE if code in codes), EXIT_OK)


def _references_for(folder: Path, reports: list[tuple[Path, dict]], formats) -> list[dict]:
    """The reference reports as one clip's report sees them: each with the path of its own
    report relative to the clip's folder."""
    main_file = "report.html" if "html" in formats else "report.json"
    return [{**report, "report_path": Path(os.path.relpath(ref_folder / main_file, folder)).as_posix()}
            for ref_folder, report in reports]


def _reusable(job: Job, digest: str) -> dict | None:
    """The existing report.json of ``job.folder`` when it was made from the same bytes, by the
    same tool version, with the same analyses (and analysis versions) and parameters and every
    requested format; else None."""
    try:
        report = json.loads((job.folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    stored = report.get("run", {}).get("parameters", {})
    on_audio, on_reports = run_order(job.request.analyses, references=bool(job.request.references))
    ran = [*on_audio, *on_reports]
    names = [a.name for a in ran]
    versions = {entry.get("name"): entry.get("version") for entry in report.get("analyses", [])
                if isinstance(entry, dict)}
    same_analyses = list(stored) == names and all(
        versions.get(a.name) == a.version
        and all(stored[a.name].get(k) == v for k, v in a.parameters().items()) for a in ran
    )
    hashes = [r["evidence"]["sha256"] for r in job.request.references]
    same_analyses = same_analyses and all(stored[a.name].get("reference_sha256") == hashes for a in on_reports)
    complete = all((job.folder / f"report.{fmt}").exists() for fmt in job.request.formats)
    if (report.get("evidence", {}).get("sha256") == digest and report.get("tool", {}).get("version") == __version__
            and same_analyses and complete and (job.folder / "manifest.json").exists()):
        return report
    return None


def _other_recording(folder: Path, digest: str) -> str:
    """Why ``folder`` must not be written for the recording of SHA-256 ``digest`` (it holds the
    report of another recording, or a report.json that is not one), or "" when it may."""
    try:
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        found = report["evidence"]["sha256"]
        name = Path(str(report["evidence"]["path"])).name
    except (OSError, ValueError, KeyError, TypeError):
        return f"{folder} holds a report.json that is not a readable workbench report"
    if found == digest:
        return ""
    return f"{folder} holds the report of another recording ({name}, SHA-256 {str(found)[:12]}...)"


def process_clip(job: Job, progress: Progress = SILENT) -> Outcome:
    """Open, analyse and report one clip (or reuse a matching report unless ``job.force``)."""
    from workbench.evidence import open_evidence
    from workbench.core.hashing import sha256_file

    if (job.folder / "report.json").exists():
        try:
            digest = sha256_file(job.clip)
        except OSError as exc:
            return Outcome(row={"clip": str(job.clip), "status": "unreadable", "message": str(exc)},
                           code=EXIT_EVIDENCE, errors=[f"{job.clip}: cannot be read: {exc.strerror or exc}"])
        other = _other_recording(job.folder, digest)
        if other and not job.force:
            return Outcome(row={"clip": str(job.clip), "status": "refused", "message": other},
                           code=EXIT_USAGE, errors=[f"{job.clip}: {other}; choose another -o, or --force to replace it"])
        existing = None if job.force else _reusable(job, digest)
        if existing is not None:
            evidence = existing["evidence"]
            return Outcome(
                row=_row(job, evidence["duration_s"], evidence["container"], evidence["codec"],
                         len(existing["timeline"]), [a["name"] for a in existing["analyses"] if a["status"] == "error"])
                | {"sha256": evidence["sha256"]},
                code=EXIT_OK, summary=(f"{job.clip}: unchanged since its report; skipped (--force to redo); "
                                       f"report: {job.folder / _main_file(job.request.formats)}"),
                reused=True,
            )
    try:
        clip = open_evidence(job.clip, role=job.role)
    except EvidenceError as exc:
        return Outcome(row={"clip": str(job.clip), "status": "unreadable", "message": str(exc)},
                       code=EXIT_EVIDENCE, errors=[f"{job.clip}: {exc}"])
    try:
        report = analyze_clip(clip, job.folder, job.request, progress)
    except ReportError as exc:
        return Outcome(row={"clip": str(job.clip), "status": "report_failed", "message": str(exc)},
                       code=EXIT_ANALYSIS_ERROR, errors=[f"{job.clip}: {exc}"])
    except OSError as exc:  # the output folder's disk: full, read-only, gone
        message = f"{job.folder}: the report cannot be written ({exc.strerror or exc}); it has no manifest"
        return Outcome(row={"clip": str(job.clip), "status": "write_failed", "message": message},
                       code=EXIT_OUTPUT, errors=[f"{job.clip}: {message}"])
    errors, code = [], EXIT_OK
    if report.evidence_changed:
        errors.append(f"{job.clip}: the file changed during analysis (SHA-256 differs)")
        code = EXIT_EVIDENCE_CHANGED
    elif report.errored:
        errors.append(f"{job.clip}: analyses failed: {', '.join(report.errored)} (see the report)")
        code = EXIT_ANALYSIS_ERROR
    main_file = _main_file(job.request.formats)
    return Outcome(
        row=_row(job, clip.duration_s, clip.info.container, clip.info.codec, len(report.timeline), report.errored)
        | {"sha256": report.evidence["sha256"]},
        code=code, errors=errors,
        summary=(f"{job.clip}: {len(set(place_numbers(report.timeline)))} flagged place(s) "
                 f"({len(report.timeline)} finding(s)); report: {job.folder / main_file}"),
    )


def _main_file(formats) -> str:
    """The report file a summary line names: the HTML, else the PDF, else the JSON."""
    return next((f"report.{fmt}" for fmt in ("html", "pdf") if fmt in formats), "report.json")


def _row(job: Job, duration_s, container, codec, flagged, errored) -> dict[str, Any]:
    return {"clip": str(job.clip), "status": "done", "folder": job.folder.name,
            "report": str(job.folder / "report.html"), "duration_s": duration_s,
            "container": container, "codec": codec, "flagged": flagged, "errored": errored}


def run_jobs(jobs: list[Job], *, workers: int = 1, scheduler: str | None = None,
             progress: Progress = SILENT) -> Iterator[tuple[Job, Outcome]]:
    """Yield (job, outcome) as clips finish: in this process, in ``workers`` local processes, or
    on the Dask scheduler at ``scheduler``. ``progress`` is told of each analysis step (in this
    process) or of each finished clip (in parallel)."""
    if scheduler:
        yield from _run_dask(jobs, scheduler, progress)
    elif workers <= 1:
        for job in jobs:
            yield job, process_clip(job, Labelled(progress, job.clip.name))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(process_clip, job): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                progress.step(job.clip.name)
                yield job, _outcome_of(job, future)


def _outcome_of(job: Job, future) -> Outcome:
    """A finished future's outcome; a worker that died costs its clip an unreadable row."""
    try:
        return future.result()
    except Exception as exc:  # a crashed worker must not stop the batch
        message = f"the worker analysing it failed ({type(exc).__name__}: {exc})"
        return Outcome(row={"clip": str(job.clip), "status": "unreadable", "message": message},
                       code=EXIT_EVIDENCE, errors=[f"{job.clip}: {message}"])


def _run_dask(jobs: list[Job], scheduler: str, progress: Progress) -> Iterator[tuple[Job, Outcome]]:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:
        raise ParameterError("--scheduler needs the cluster extra: pip install '.[cluster]'") from None
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ParameterError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__})") from None
    with client:
        futures = {client.submit(process_clip, job, pure=False): job for job in jobs}
        for future in dask_completed(list(futures)):
            job = futures[future]
            progress.step(job.clip.name)
            yield job, _outcome_of(job, future)
