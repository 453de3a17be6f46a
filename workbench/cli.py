"""The ``workbench`` command line: a thin layer over intake, the registry, the pipeline and reports.

Exit codes: 0 done; 1 done but an analysis errored; 2 usage error; 3 an evidence file could not
be read or decoded; 4 an evidence file changed during analysis.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import click

from workbench import __version__
from workbench.names import safe_name
from workbench.errors import (
    EXIT_ANALYSIS_ERROR, EXIT_EVIDENCE, EXIT_EVIDENCE_CHANGED, EXIT_INTERRUPTED, EXIT_OK,
    EXIT_VERIFY_FAILED, EvidenceError,
    ParameterError, WorkbenchError,
)

EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 done, but an analysis failed; 2 usage error; "
    "3 an evidence file could not be read or decoded; 4 an evidence file changed during analysis; "
    "130 interrupted."
)
REPORT_FORMATS = ("json", "html", "pdf")
REFERENCES_FOLDER = "references"
"""OUTDIR's subfolder holding the reports of the reference recordings."""


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


def _formats(value: str) -> tuple[str, ...]:
    formats = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(REPORT_FORMATS)}"
        )
    return formats


def _error(message: str) -> None:
    click.echo(f"workbench: error: {message}", err=True)


class _Progress:
    """A progress bar on stderr over (clip, analysis) steps; silent when quiet or not a terminal."""

    def __init__(self, total: int, quiet: bool):
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar = None
        self.label = ""
        if self.enabled:
            self.bar = click.progressbar(
                length=total, file=sys.stderr, label="analysing", show_eta=True,
                item_show_func=lambda _: self.label,
            )
            self.bar.__enter__()

    def step(self, label: str) -> None:
        self.label = label
        if self.bar is not None:
            self.bar.update(1, label)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="workbench")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary lines.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool) -> None:
    """Audio evidence workbench: measure and show how consistent a disputed recording is.

    The report points at places worth listening to; it never says "fake" or "genuine".

    \b
    Examples:
      workbench analyze disputed.m4a -o out/case-17
      workbench analyze a.wav b.mp3 -o out/batch --only levels,overview
      workbench render out/case-17/report.json
      workbench demo -o out/demo
    """
    ctx.obj = {"quiet": quiet}


def _split_names(values: tuple[str, ...]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("clips", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--outdir", type=click.Path(path_type=Path, file_okay=False),
              help="Output folder (one subfolder per clip when several are given).")
@click.option("--case", "case_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Analyse every evidence file of this case folder into its reports/ folder.")
@click.option("-r", "--reference", "references", multiple=True, type=click.Path(path_type=Path),
              metavar="REF", help="A known-genuine recording to compare each clip with (repeatable); "
                                  "its own report goes to OUTDIR/references/.")
@click.option("--only", multiple=True, metavar="NAMES",
              help="Run only these analyses (comma-separated); with --reference the comparison runs too.")
@click.option("--skip", multiple=True, metavar="NAMES", help="Do not run these analyses (comma-separated).")
@click.option("--param", "params", multiple=True, metavar="ANALYSIS.KEY=VALUE",
              help="Set an analysis parameter, e.g. levels.min_silence_s=0.05 (repeatable).")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Clips analysed in parallel, in separate processes.")
@click.option("--force", is_flag=True, help="Re-analyse clips whose report already matches.")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run the per-clip work on this Dask scheduler (needs the [cluster] extra).")
@click.option("--format", "format_", default=None,
              help="Report formats: json,html,pdf (default json,html; in a case folder json,html,pdf). "
                   "report.json is always written.")
@click.pass_context
def analyze(ctx, clips, outdir, case_dir, references, only, skip, params, jobs, force, scheduler, format_):
    """Analyse one or more evidence files and write a report for each.

    Every file is opened read-only and hashed before and after. A file that cannot be read is
    named on stderr with the reason, and the other files are still analysed. A clip whose report
    in OUTDIR already matches its bytes, the tool version and the parameters is skipped.

    \b
    Examples:
      workbench analyze disputed.wav -o out/disputed
      workbench analyze msg1.ogg msg2.ogg -o out/phone --skip channels
      workbench analyze phone/*.opus -o out/phone --jobs 2
      workbench analyze clip.wav -o out/clip --param levels.min_silence_s=0.05
      workbench analyze leaked.m4a -o out/leak -r speech-tv.wav -r speech-radio.mp3
    """
    from workbench.registry import build, parse_params

    case = None
    if case_dir is not None:
        from workbench.case import evidence_items, load_case

        if clips or outdir or references:
            raise click.UsageError("--case takes no CLIP arguments, no --outdir and no --reference")
        try:
            case = load_case(case_dir)
        except ParameterError as exc:
            raise click.UsageError(str(exc)) from None
        clips, outdir = tuple(evidence_items(case_dir)), case_dir / "reports"
        if not clips:
            raise click.UsageError(f"case {case['case_id']} holds no evidence yet (workbench case add)")
    elif not clips or outdir is None:
        raise click.UsageError("give CLIP... and -o OUTDIR, or --case DIR")
    formats = tuple(dict.fromkeys(("json", *_formats(format_ or ("json,html,pdf" if case else "json,html")))))
    try:
        analyses = build(only=_split_names(only), skip=_split_names(skip), params=parse_params(params),
                         references=bool(references))
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from None
    command = shlex.join(
        ["workbench", "analyze", *(["--case", str(case_dir)] if case else [*map(str, clips), "-o", str(outdir)]),
         *(a for ref in references for a in ("--reference", str(ref))),
         *(a for name in _split_names(only) for a in ("--only", name)),
         *(a for name in _split_names(skip) for a in ("--skip", name)),
         *(a for p in params for a in ("--param", p)), "--format", ",".join(formats)]
    )
    try:
        code = run_batch(list(clips), outdir, analyses, command=command, formats=formats,
                         quiet=ctx.obj["quiet"], case_dir=case_dir if case else None, jobs=jobs,
                         force=force, scheduler=scheduler, references=list(references))
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from None
    except KeyboardInterrupt:
        _error("interrupted; reports already finished are complete, none is half-written")
        code = EXIT_INTERRUPTED
    ctx.exit(code)


def run_batch(clips: list[Path], outdir: Path, analyses, *, command: str, formats, quiet: bool,
              case_dir: Path | None = None, jobs: int = 1, force: bool = False,
              scheduler: str | None = None, references: list[Path] | None = None) -> int:
    """Analyse each clip into its own folder (skipping those whose report already matches);
    return the run's exit code. In a case folder every analysis is logged in the custody log.
    Reference recordings are analysed first, into OUTDIR/references/, and every clip is then
    compared with those that could be read."""
    from workbench.batch import Job, run_jobs

    folders = _unique_folders(clips, outdir, subfolders=case_dir is not None)
    # One clip at a time: its analyses share the machine's cores (up to two processes).
    clip_workers = min(2, os.cpu_count() or 1) if jobs == 1 and not scheduler else 1
    reference_codes, reference_reports = [], []
    if references:
        reference_folders = _unique_folders(references, outdir / REFERENCES_FOLDER, subfolders=True)
        reference_jobs = [Job(ref, folder, analyses, command, tuple(formats), None, force,
                              role="reference", workers=clip_workers)
                          for ref, folder in zip(references, reference_folders)]
        for job, outcome in run_jobs(reference_jobs, workers=jobs, scheduler=scheduler):
            reference_codes.append(outcome.code)
            for line in outcome.errors:
                _error(f"reference {line}")
            if not quiet and outcome.summary:
                click.echo(f"reference {outcome.summary}")
            if outcome.row["status"] == "done":
                report = json.loads((job.folder / "report.json").read_text(encoding="utf-8"))
                reference_reports.append((job.folder, report))
        if not reference_reports:
            _error("no reference recording could be analysed; the clips are analysed without comparison")
    case = None
    if case_dir is not None:
        from workbench.case import append_log, load_case

        case = load_case(case_dir)
        case = {"case_id": case["case_id"], "examiner": case["examiner"]}
    work = [Job(clip, folder, analyses, command, tuple(formats), case, force,
                references=_references_for(folder, reference_reports, formats), workers=clip_workers)
            for clip, folder in zip(clips, folders)]
    parallel = jobs > 1 or scheduler
    progress = _Progress(len(clips) if parallel else len(clips) * (len(analyses) + 1), quiet)
    rows, codes, summary = {}, [], []
    try:
        for job, outcome in run_jobs(work, workers=jobs, scheduler=scheduler, step=progress.step):
            rows[job.clip] = outcome.row
            codes.append(outcome.code)
            for line in outcome.errors:
                _error(line)
            summary.append(outcome.summary)
            if case_dir is not None and outcome.row["status"] == "done" and not outcome.reused:
                from workbench.evidence import sha256_file

                append_log(case_dir, action="analyzed", file=job.clip.relative_to(case_dir).as_posix(),
                           sha256=outcome.row["sha256"], report=job.folder.relative_to(case_dir).as_posix(),
                           manifest_sha256=sha256_file(job.folder / "manifest.json"),
                           flagged=outcome.row["flagged"])
    finally:
        progress.close()
    if not quiet:
        for line in summary:
            if line:
                click.echo(line)
    ordered = [rows[clip] for clip in clips if clip in rows]
    if (len(clips) > 1 or case_dir is not None) and any(row["status"] == "done" for row in ordered):
        from reports.index import write_index

        write_index(outdir, ordered)
        if not quiet:
            click.echo(f"index: {outdir / 'index.html'}")
    for code in (EXIT_EVIDENCE_CHANGED, EXIT_EVIDENCE, EXIT_ANALYSIS_ERROR):
        if code in codes or code in reference_codes:
            return code
    return EXIT_OK


def _references_for(folder: Path, reports: list[tuple[Path, dict]], formats) -> list[dict]:
    """The reference reports as one clip's report sees them: each with the path of its own
    report relative to the clip's folder."""
    main_file = "report.html" if "html" in formats else "report.json"
    return [{**report, "report_path": Path(os.path.relpath(ref_folder / main_file, folder)).as_posix()}
            for ref_folder, report in reports]


@cli.group()
def case():
    """Case folders: evidence copied in read-only and a hash-chained custody log.

    \b
    Example:
      workbench case init cases/2026-0412 --case-id 2026-0412 --examiner "A. Rivera"
      workbench case add cases/2026-0412 leaked-call.m4a
      workbench analyze --case cases/2026-0412
      workbench verify cases/2026-0412
    """


@case.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--case-id", required=True, help="The case's identifier, printed on every report page.")
@click.option("--examiner", required=True, help="Who is responsible for this case's custody log.")
def case_init(folder, case_id, examiner):
    """Open a new case folder (it must be new or empty).

    \b
    Example:
      workbench case init cases/2026-0412 --case-id 2026-0412 --examiner "A. Rivera"
    """
    from workbench.case import init_case

    try:
        init_case(folder, case_id=case_id, examiner=examiner)
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"case {case_id} opened in {folder}")


@case.command("add", epilog=EXIT_CODES_HELP)
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.argument("clips", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def case_add(ctx, folder, clips):
    """Copy evidence files into the case (read-only), hash them and log it.

    The same bytes added twice are kept once.

    \b
    Example:
      workbench case add cases/2026-0412 phone/*.opus
    """
    from workbench.case import add_evidence, load_case

    try:
        load_case(folder)
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from None
    code = EXIT_OK
    for clip in clips:
        try:
            target, digest, new = add_evidence(folder, clip)
        except EvidenceError as exc:
            _error(f"{clip}: {exc}")
            code = EXIT_EVIDENCE
            continue
        click.echo(f"{'added' if new else 'already in the case'}: {target} sha256 {digest}")
    ctx.exit(code)


@cli.command("analyses")
@click.option("-v", "--verbose", is_flag=True, help="Also list each analysis's parameters and defaults.")
def list_analyses(verbose):
    """List the registered analyses with their version and what they do.

    \b
    Example:
      workbench analyses -v
    """
    from workbench.registry import available

    try:
        registry = available()
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from None
    for name, cls in registry.items():
        click.echo(f"{name:<12} {cls.version:<6} {cls.description}")
        if verbose:
            for field_ in cls.declared_parameters().values():
                click.echo(f"{'':<20}{field_.describe()}")


@cli.command()
@click.argument("report_json", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "format_", default="html", show_default=True,
              help="What to re-create: html, pdf or html,pdf.")
def render(report_json, format_):
    """Re-create report.html (and/or report.pdf) from a report.json and its figures/ folder,
    without the audio.

    \b
    Example:
      workbench render out/case-17/report.json --format html,pdf
    """
    from reports.writer import load_report, render_to_file

    formats = [f for f in _formats(format_) if f != "json"]
    try:
        report = load_report(report_json)
    except WorkbenchError as exc:
        raise click.UsageError(str(exc)) from None
    if "html" in formats:
        click.echo(f"report: {render_to_file(report, report_json.parent)}")
    if "pdf" in formats:
        from reports.pdf import render_pdf

        click.echo(f"report: {render_pdf(report, report_json.parent)}")


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("-o", "--outdir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the demo evidence and its report.")
@click.pass_context
def demo(ctx, outdir):
    """Build the bundled demo "disputed clip" from fixtures/ and analyse it.

    The clip is 30 s of speech-like stereo audio with a planted stretch of digital silence,
    clipping, a polarity-inverted stretch and a DC step; its truth is written beside it.

    \b
    Example:
      workbench demo -o out/demo
    """
    from fixtures.scenes import DEMO_TAGS, demo as demo_fixture
    from workbench.registry import build

    evidence = outdir / "evidence" / "demo-disputed.wav"
    evidence.parent.mkdir(parents=True, exist_ok=True)
    if not evidence.exists():
        demo_fixture().write(evidence, tags=DEMO_TAGS)
    report_dir = outdir / "report"
    command = shlex.join(["workbench", "analyze", str(evidence), "-o", str(report_dir)])
    code = run_batch([evidence], report_dir, build(), command=command, formats=REPORT_FORMATS,
                     quiet=ctx.obj["quiet"])
    truth = json.loads(Path(f"{evidence}.truth.json").read_text(encoding="utf-8"))
    if not ctx.obj["quiet"]:
        click.echo("planted in the demo clip (compare with the report's places to listen to):")
        for item in truth["planted"]:
            click.echo(f"  {item['kind']:<20} {item['start_s']:7.2f} s - {item['end_s']:7.2f} s")
    ctx.exit(code)


@cli.command(epilog="Exit codes: 0 everything holds; 2 not a report, batch or case folder; "
                    "5 something changed, went missing or was added.")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False))
@click.pass_context
def verify(ctx, path):
    """Re-hash the evidence and every output against what was recorded.

    PATH is an output folder (with manifest.json), the folder of a multi-clip run (with
    index.json), or a case folder (with case.json: the custody log's chain is checked too).
    Every file that changed, went missing or was added is named.

    \b
    Examples:
      workbench verify out/case-17
      workbench verify cases/2026-0412
    """
    from reports.manifest import MANIFEST, verify_folder
    from workbench.case import CASE_FILE, verify_case

    if (path / CASE_FILE).is_file():
        problems = verify_case(path)
    elif (path / MANIFEST).is_file():
        problems = verify_folder(path)
    elif (path / "index.json").is_file():
        problems = [p for sub in sorted(path.iterdir()) if (sub / MANIFEST).is_file()
                    for p in verify_folder(sub)]
    else:
        raise click.UsageError(f"{path} holds no manifest.json, index.json or case.json")
    for line in problems:
        click.echo(f"FAILED {line}")
    if problems:
        ctx.exit(EXIT_VERIFY_FAILED)
    click.echo(f"verified: {path}: the evidence and every recorded output are unchanged")


@cli.command()
@click.option("-o", "--outdir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for validation.json and validation.md.")
@click.option("--quick", is_flag=True, help="A small set (16 kHz speech, one seed, short clips): a smoke test.")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="A folder of third-party recordings with MANIFEST.csv files: also measure false "
                   "flags on its genuine recordings and detection of artifacts planted into them.")
@click.pass_context
def validate(ctx, outdir, quick, corpus):
    """Measure detection and false-alarm rates on generated and, with --corpus, real recordings.

    Plants every finding kind at three strengths (rates 8/16/44.1/48 kHz, speech-like and tonal
    content, quiet and noisy rooms), runs the analysis that owns it, and writes per kind the
    detection rate, localisation error and false flags per hour of clean audio. With --corpus,
    the same for the corpus's genuine recordings (split by source into a tuning and a measuring
    half): flags raised on them untouched, per hour with an exact 95 % interval, and detection of
    artifacts planted into them. `make validate` runs both and updates docs/validation.md.

    \b
    Example:
      workbench validate -o out/validation --corpus ../shared/corpus
    """
    from workbench.atomic import atomic_write_text
    from workbench.realset import cite_real, markdown_real, run_real
    from workbench.registry import available
    from workbench.validation import markdown, run_validation

    analyses = {name: cls() for name, cls in available().items() if not cls.needs_references}
    options = dict(rates=(16000,), contents=("speech",), rooms=("quiet",), seeds=(1,), duration_s=20.0,
                   clean_seeds=(11,), clean_duration_s=30.0) if quick else {}
    echo = None if ctx.obj["quiet"] or not sys.stderr.isatty() else (
        lambda label: click.echo(f"  {label}", err=True))
    results = run_validation(analyses, progress=echo, **options)
    text = markdown(results)
    if corpus is not None:
        results["real"] = run_real(corpus, analyses, progress=echo)
        results["rows"] = cite_real(results["rows"], results["real"])
        text += "\n" + markdown_real(results["real"])
    outdir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(outdir / "validation.json", json.dumps(results, indent=1) + "\n")
    atomic_write_text(outdir / "validation.md", text)
    click.echo(text.split("## Strengths")[0])
    click.echo(f"written: {outdir / 'validation.md'}")


def main() -> None:
    """Console entry point."""
    cli(prog_name="workbench")
