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
from typing import Any, Callable, Iterator

from workbench import __version__
from workbench.core.errors import (
    EXIT_ANALYSIS_ERROR, EXIT_EVIDENCE, EXIT_EVIDENCE_CHANGED, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, EvidenceError,
    ReportError,
)
from workbench.names import safe_name
from workbench.reports.patterns import place_numbers


SCHEDULER_TIMEOUT_S = 10
REFERENCES_FOLDER = "references"
"""OUTDIR's subfolder holding the reports of the reference recordings."""
EXIT_PRECEDENCE = (EXIT_EVIDENCE_CHANGED, EXIT_OUTPUT, EXIT_EVIDENCE, EXIT_USAGE, EXIT_ANALYSIS_ERROR)
"""When clips end differently, the run exits with the first of these that any clip had."""
Say = Callable[[str], None]


@dataclass
class Job:
    """One clip to analyse into one folder."""

    clip: Path
    folder: Path
    analyses: list
    command: str
    formats: tuple[str, ...]
    case: dict[str, str] | None = None
    force: bool = False
    role: str = "disputed"
    references: list[dict[str, Any]] = field(default_factory=list)
    """Reports of reference recordings to compare with (see :func:`analyze_clip`)."""
    workers: int = 1
    """Processes running this clip's analyses at once."""


@dataclass
class Outcome:
    """What became of one clip: its index row, exit code and the lines to print."""

    row: dict[str, Any]
    code: int
    errors: list[str] = field(default_factory=list)
    summary: str = ""
    reused: bool = False


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
    from workbench.core.errors import ParameterError

    case = load_case(case_dir)
    clips = evidence_items(case_dir)
    if not clips:
        raise ParameterError(f"case {case['case_id']} holds no evidence yet (workbench case add)")
    return clips, case_dir / "reports", evidence_items(case_dir, role="reference")


def command_line(clips, outdir, *, case_dir, references, only, skip, params, formats) -> str:
    """The ``workbench analyze`` command a report records: what was asked, in one shell line."""
    import shlex

    return shlex.join(
        ["workbench", "analyze", *(["--case", str(case_dir)] if case_dir else [*map(str, clips), "-o", str(outdir)]),
         *(a for ref in (() if case_dir else references) for a in ("--reference", str(ref))),
         *(a for name in only for a in ("--only", name)), *(a for name in skip for a in ("--skip", name)),
         *(a for p in params for a in ("--param", p)), "--format", ",".join(formats)])


def run_batch(clips: list[Path], outdir: Path, analyses, *, command: str, formats,
              case_dir: Path | None = None, jobs: int = 1, force: bool = False,
              scheduler: str | None = None, references: list[Path] | None = None,
              say: Say | None = None, warn: Say | None = None, step: Say | None = None) -> int:
    """Analyse each clip into its own folder (skipping those whose report already matches);
    return the run's exit code (:data:`EXIT_PRECEDENCE`). In a case folder every analysis is
    logged in the custody log. Reference recordings are analysed first, into OUTDIR/references/,
    and every clip is then compared with those that could be read.

    ``say`` receives the summary lines, ``warn`` one line per problem, ``step`` a label per
    analysis step (in-process) or per finished clip (parallel); each may be None.

    Raises
    ------
    OutputError
        When the output folder (or the case) cannot be made or written, or another run holds it.
    """
    from workbench.outfolder import claimed

    with claimed(case_dir if case_dir is not None else outdir):
        return _run_claimed(clips, outdir, analyses, command=command, formats=formats, case_dir=case_dir,
                            jobs=jobs, force=force, scheduler=scheduler, references=references,
                            say=say or (lambda line: None), warn=warn or (lambda line: None), step=step)


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


def _run_claimed(clips, outdir, analyses, *, command, formats, case_dir, jobs, force, scheduler,
                 references, say: Say, warn: Say, step) -> int:
    """:func:`run_batch` once its folder is claimed."""
    folders = _unique_folders(clips, outdir, subfolders=case_dir is not None)
    reference_codes, reference_reports, reference_rows = [], [], []
    if references:
        reference_folders = _unique_folders(references, outdir / REFERENCES_FOLDER, subfolders=True)
        at_once, clip_workers = parallelism(len(references), jobs, scheduler)
        reference_jobs = [Job(ref, folder, analyses, command, tuple(formats), None, force,
                              role="reference", workers=clip_workers)
                          for ref, folder in zip(references, reference_folders)]
        for job, outcome in run_jobs(reference_jobs, workers=at_once, scheduler=scheduler):
            reference_codes.append(outcome.code)
            for line in outcome.errors:
                warn(f"reference {line}")
            if outcome.summary:
                say(f"reference {outcome.summary}")
            reference_rows.append(outcome.row | {"role": "reference",
                                                 "folder": f"{REFERENCES_FOLDER}/{job.folder.name}"})
            if outcome.row["status"] == "done":
                report = json.loads((job.folder / "report.json").read_text(encoding="utf-8"))
                reference_reports.append((job.folder, report))
        if not reference_reports:
            warn("no reference recording could be analysed; the clips are analysed without comparison")
    case = None
    if case_dir is not None:
        from workbench.case import append_log, load_case

        case = load_case(case_dir)
        case = {"case_id": case["case_id"], "examiner": case["examiner"]}
    at_once, clip_workers = parallelism(len(clips), jobs, scheduler)
    work = [Job(clip, folder, analyses, command, tuple(formats), case, force,
                references=_references_for(folder, reference_reports, formats), workers=clip_workers)
            for clip, folder in zip(clips, folders)]
    rows, codes, summary = {}, [], []
    for job, outcome in run_jobs(work, workers=at_once, scheduler=scheduler, step=step):
        rows[job.clip] = outcome.row
        codes.append(outcome.code)
        for line in outcome.errors:
            warn(line)
        summary.append(outcome.summary)
        if case_dir is not None and outcome.row["status"] == "done":
            from workbench.core.hashing import sha256_file

            append_log(case_dir, action="report_reused" if outcome.reused else "analyzed",
                       file=job.clip.relative_to(case_dir).as_posix(),
                       sha256=sha256_file(job.clip), report=job.folder.relative_to(case_dir).as_posix(),
                       manifest_sha256=sha256_file(job.folder / "manifest.json"),
                       flagged=outcome.row["flagged"])
    for line in summary:
        if line:
            say(line)
    ordered = [rows[clip] for clip in clips if clip in rows]
    if (len(clips) > 1 or case_dir is not None) and any(row["status"] == "done" for row in ordered):
        from workbench.reports.index import write_index
        from workbench.reports.manifest import write_run_manifest

        write_index(outdir, [row | {"role": "disputed"} for row in ordered] + reference_rows, case=case,
                    formats=tuple(formats))
        done = [folder for clip, folder in zip(clips, folders) if rows.get(clip, {}).get("status") == "done"]
        manifest = write_run_manifest(outdir, done)
        if case_dir is not None:
            from workbench.core.hashing import sha256_file

            append_log(case_dir, action="reports_indexed", file=manifest.relative_to(case_dir).as_posix(),
                       sha256=sha256_file(manifest), reports=len(done))
        say(f"index: {outdir / 'index.html'}")
    return exit_code([*codes, *reference_codes])


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
    from workbench.pipeline import run_order

    on_audio, on_reports = run_order(job.analyses, references=bool(job.references))
    ran = [*on_audio, *on_reports]
    names = [a.name for a in ran]
    versions = {entry.get("name"): entry.get("version") for entry in report.get("analyses", [])
                if isinstance(entry, dict)}
    same_analyses = list(stored) == names and all(
        versions.get(a.name) == a.version
        and all(stored[a.name].get(k) == v for k, v in a.parameters().items()) for a in ran
    )
    hashes = [r["evidence"]["sha256"] for r in job.references]
    same_analyses = same_analyses and all(stored[a.name].get("reference_sha256") == hashes for a in on_reports)
    complete = all((job.folder / f"report.{fmt}").exists() for fmt in job.formats)
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


def process_clip(job: Job, progress: Callable[[str], None] | None = None) -> Outcome:
    """Open, analyse and report one clip (or reuse a matching report unless ``job.force``)."""
    from workbench.evidence import open_evidence
    from workbench.core.hashing import sha256_file
    from workbench.pipeline import analyze_clip

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
                                       f"report: {job.folder / _main_file(job.formats)}"),
                reused=True,
            )
    try:
        clip = open_evidence(job.clip, role=job.role)
    except EvidenceError as exc:
        return Outcome(row={"clip": str(job.clip), "status": "unreadable", "message": str(exc)},
                       code=EXIT_EVIDENCE, errors=[f"{job.clip}: {exc}"])
    try:
        report = analyze_clip(clip, job.analyses, job.folder, command=job.command, formats=job.formats,
                              progress=progress, case=job.case, references=job.references,
                              workers=job.workers)
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
    main_file = _main_file(job.formats)
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
             step: Callable[[str], None] | None = None) -> Iterator[tuple[Job, Outcome]]:
    """Yield (job, outcome) as clips finish: in this process, in ``workers`` local processes, or
    on the Dask scheduler at ``scheduler``. ``step`` is called with a label per analysis step
    (in-process) or per finished clip (parallel)."""
    if scheduler:
        yield from _run_dask(jobs, scheduler, step)
    elif workers <= 1:
        for job in jobs:
            yield job, process_clip(job, progress=(lambda name, c=job.clip.name: step(f"{c}: {name}")) if step else None)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(process_clip, job): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                if step:
                    step(job.clip.name)
                yield job, _outcome_of(job, future)


def _outcome_of(job: Job, future) -> Outcome:
    """A finished future's outcome; a worker that died costs its clip an unreadable row."""
    try:
        return future.result()
    except Exception as exc:  # a crashed worker must not stop the batch
        message = f"the worker analysing it failed ({type(exc).__name__}: {exc})"
        return Outcome(row={"clip": str(job.clip), "status": "unreadable", "message": message},
                       code=EXIT_EVIDENCE, errors=[f"{job.clip}: {message}"])


def _run_dask(jobs: list[Job], scheduler: str, step) -> Iterator[tuple[Job, Outcome]]:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:
        from workbench.core.errors import ParameterError

        raise ParameterError("--scheduler needs the cluster extra: pip install '.[cluster]'") from None
    from workbench.core.errors import ParameterError

    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ParameterError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__})") from None
    with client:
        futures = {client.submit(process_clip, job, pure=False): job for job in jobs}
        for future in dask_completed(list(futures)):
            job = futures[future]
            if step:
                step(job.clip.name)
            yield job, _outcome_of(job, future)
