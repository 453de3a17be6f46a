"""The ``workbench`` command line: it parses, calls the library and prints.

Every :class:`~workbench.core.errors.WorkbenchError` that reaches it becomes one line on stderr and the
exit code the error carries (:mod:`workbench.core.errors` lists them); Ctrl-C exits 130.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import click

from workbench import __version__
from workbench.core.errors import EXIT_INTERRUPTED, EXIT_VERIFY_FAILED, WorkbenchError
from workbench.progress import Progress

EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 done, but an analysis failed; 2 usage error, or OUTDIR holds another "
    "recording's report (--force replaces it); 3 an evidence file could not be read or decoded; "
    "4 an evidence file changed during analysis; 6 the output folder cannot be made or written, "
    "or another run is writing to it; 130 interrupted."
)


def _error(message: str) -> None:
    click.echo(f"workbench: error: {message}", err=True)


class _Workbench(click.Group):
    """The command group: maps the workbench's errors to their exit codes, in this one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except WorkbenchError as exc:
            _error(str(exc))
            raise click.exceptions.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _error("interrupted; reports already finished are complete, none is half-written")
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


def outdir_option(help: str, *, required: bool = True):
    return click.option("-o", "--outdir", required=required, help=help,
                        type=click.Path(path_type=Path, file_okay=False))


def format_option(default: str | None, help: str):
    return click.option("--format", "format_", default=default, show_default=default is not None, help=help)


def _command_line(clips, outdir, *, case_dir, references, only, skip, params, formats) -> str:
    """The ``workbench analyze`` command a report records: what was asked, in one shell line."""
    return shlex.join(
        ["workbench", "analyze", *(["--case", str(case_dir)] if case_dir else [*map(str, clips), "-o", str(outdir)]),
         *(a for ref in (() if case_dir else references) for a in ("--reference", str(ref))),
         *(a for name in only for a in ("--only", name)), *(a for name in skip for a in ("--skip", name)),
         *(a for p in params for a in ("--param", p)), "--format", ",".join(formats)])


class _Terminal(Progress):
    """A run's progress on the terminal: problems on stderr, the summary on stdout (unless
    ``--quiet``), and a bar on stderr when it is a terminal."""

    def __init__(self, quiet: bool):
        self.quiet, self.bar, self.first_done = quiet, None, None

    def begin(self, steps: int, per_clip: int) -> None:
        if self.quiet or not sys.stderr.isatty():
            return
        self.per_clip = per_clip
        self.bar = click.progressbar(length=steps, file=sys.stderr, label="analysing", show_eta=False,
                                     item_show_func=lambda label: label)
        self.bar.__enter__()

    def step(self, label: str) -> None:
        if self.bar is None:
            return
        # The ETA counts from the end of the first clip: start-up and model loading are paid once.
        bar = self.bar
        bar.update(1, label)
        if self.first_done is None and bar.pos >= self.per_clip:
            self.first_done = (time.monotonic(), bar.pos)
        elif self.first_done and bar.pos > self.first_done[1]:
            since, at = self.first_done
            bar.avg, bar.eta_known = [(time.monotonic() - since) / (bar.pos - at)], True
        bar.show_eta = self.first_done is not None and bar.pos > self.first_done[1]

    def problem(self, line: str) -> None:
        _error(line)

    def summary(self, line: str) -> None:
        if not self.quiet:
            click.echo(line)

    def end(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.group(cls=_Workbench, context_settings={"help_option_names": ["-h", "--help"]})
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


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("clips", nargs=-1, type=click.Path(path_type=Path))
@outdir_option("Output folder (one subfolder per clip when several are given).", required=False)
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
@format_option(None, "Report formats: json,html,pdf (default json,html; in a case folder json,html,pdf). "
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
    from workbench.reports.writer import parse_formats
    from workbench.batch import Options, case_inputs
    from workbench.library import analyze_case, analyze_many
    from workbench.registry import build, parse_params, split_names as _names

    if case_dir is not None:
        if clips or outdir or references:
            raise click.UsageError("--case takes no CLIP arguments, no --outdir and no --reference "
                                   "(add references with: workbench case add DIR --role reference FILE)")
        clips, outdir, references = case_inputs(case_dir)
    elif not clips or outdir is None:
        raise click.UsageError("give CLIP... and -o OUTDIR, or --case DIR")
    analyses = build(only=_names(only), skip=_names(skip), params=parse_params(params), references=bool(references))
    options = Options(analyses, formats=parse_formats(format_ or ("json,html,pdf" if case_dir else "json,html")),
                      jobs=jobs, force=force, scheduler=scheduler)
    options.command = _command_line(clips, outdir, case_dir=case_dir, references=references, only=_names(only),
                                    skip=_names(skip), params=params, formats=options.formats)
    progress = _Terminal(ctx.obj["quiet"])
    if case_dir is not None:
        ctx.exit(analyze_case(case_dir, options, progress=progress).code)
    ctx.exit(analyze_many(clips, outdir, options, references=references, progress=progress).code)


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

    init_case(folder, case_id=case_id, examiner=examiner)
    click.echo(f"case {case_id} opened in {folder}")


@case.command("add", epilog="Exit codes: 0 every file added (or already in the case); 2 usage error "
                             "(not a case folder); 3 a file could not be read or decoded (it is not "
                             "added; the others are); 6 the case cannot be written, or another "
                             "run is adding to or analysing it; 130 interrupted.")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.argument("clips", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--role", type=click.Choice(["disputed", "reference"]), default="disputed", show_default=True,
              help="disputed: evidence to examine (evidence/); reference: a known-genuine recording "
                   "every disputed clip is compared with (references/).")
@click.pass_context
def case_add(ctx, folder, clips, role):
    """Copy evidence files into the case (read-only), hash them and log it.

    Each file must decode before it is copied; one that does not is named and not added. The
    same bytes added twice are kept once.

    \b
    Examples:
      workbench case add cases/2026-0412 phone/*.opus
      workbench case add cases/2026-0412 --role reference speech-tv.wav speech-radio.mp3
    """
    from workbench.case import add_files

    ctx.exit(add_files(folder, clips, say=click.echo, warn=_error, role=role))


@cli.command("analyses")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list each analysis's parameters: default, unit, type, allowed range, meaning.")
def list_analyses(verbose):
    """List the registered analyses with their version and what they do.

    \b
    Example:
      workbench analyses -v
    """
    from workbench.registry import available

    for name, cls in available().items():
        click.echo(f"{name:<13} {cls.version:<6} {cls.description}")
        for field_ in cls.declared_parameters().values() if verbose else ():
            click.echo(f"{'':<20}{field_.describe()}")


@cli.command(epilog="Exit codes: 0 rendered; 2 not a workbench report, or an unknown format; 5 the folder "
                    "no longer matches its manifest (nothing is rendered or sealed again); 6 it cannot be written.")
@click.argument("report_json", type=click.Path(path_type=Path, dir_okay=False))
@format_option("html", "What to re-create: html, pdf or html,pdf.")
def render(report_json, format_):
    """Re-create report.html (and/or report.pdf) from a report.json and its figures/ folder,
    without the audio, with the case's listening notes. A folder with a manifest is checked
    against it first and its manifests are written again after.

    \b
    Example:
      workbench render out/case-17/report.json --format html,pdf
    """
    from workbench.reports.writer import load_report, parse_formats
    from workbench.listening import rerender

    load_report(report_json)  # one line and exit 2 for anything that is not a report
    for path in rerender(report_json.parent, formats=[f for f in parse_formats(format_) if f != "json"]):
        click.echo(f"report: {path}")


@cli.command(epilog="Exit codes: 0 written; 2 usage error (no such place, a name that is not .flac or "
                    ".wav); 3 the evidence is missing or is not the recording the report is about; "
                    "6 the file exists or lies inside a case folder.")
@click.argument("report_json", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--place", type=click.IntRange(1), help="The place's number in the report's table.")
@click.option("--all", "every", is_flag=True, help="Every place, as OUT/place-NN.flac.")
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path),
              help="The excerpt's file (.flac or .wav), or a folder with --all.")
def excerpt(report_json, place, every, out):
    """Cut the excerpt of a place to listen to (the place with 2 s either side, lossless) from
    the evidence the report is about, checked against the report's SHA-256. In a case, each
    file written is logged in the custody log.

    \b
    Example:
      workbench excerpt case/reports/call/report.json --place 2 -o place2.flac
    """
    from workbench.listening import write_excerpts

    if every == (place is not None):
        raise click.UsageError("give --place N or --all")
    for row in write_excerpts(report_json, place=place, out=out):
        click.echo(f"place {row['place']}: {row['path']} ({row['start_s']:.3f}-{row['end_s']:.3f} s, "
                   f"SHA-256 {row['sha256']})")


@cli.command(epilog="Exit codes: 0 logged and the report rendered again; 2 usage error (not a case, no "
                    "such report or place, an empty note); 5 the report no longer matches its manifest.")
@click.argument("case_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--place", required=True, type=click.IntRange(1), help="The place's number in the report's table.")
@click.option("--text", required=True, help="What was heard there.")
@click.option("--clip", help="The report's folder name under reports/ (needed when the case has several).")
@click.option("--by", help="Who listened (default: the case's examiner).")
def note(case_dir, place, text, clip, by):
    """Record in the case's custody log what was heard at a place, and show it in the report's
    listening log (the report is rendered again and its manifests sealed again).

    \b
    Example:
      workbench note case/ --clip call --place 2 --text "click audible; breath cut short"
    """
    from workbench.listening import add_note

    click.echo(f"noted: place {place} of {add_note(case_dir, clip=clip, place=place, text=text, by=by)}")


@cli.command(epilog=EXIT_CODES_HELP)
@outdir_option("Folder for the demo evidence and its report.")
@click.pass_context
def demo(ctx, outdir):
    """Build the bundled demo "disputed clip" (generated speech) and analyse it.

    The clip is 30 s of speech-like stereo audio with a planted stretch of digital silence,
    clipping, a polarity-inverted stretch and a DC step; its truth is written beside it.

    \b
    Example:
      workbench demo -o out/demo
    """
    from workbench.batch import Options
    from workbench.demo import write_demo
    from workbench.library import analyze_many
    from workbench.registry import build
    from workbench.reports.writer import FORMATS

    evidence, truth = write_demo(outdir / "evidence")
    report_dir = outdir / "report"
    command = shlex.join(["workbench", "analyze", str(evidence), "-o", str(report_dir)])
    code = analyze_many([evidence], report_dir, Options(build(), command, FORMATS),
                        progress=_Terminal(ctx.obj["quiet"])).code
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
    from workbench.verify import verify_path

    problems, notes = verify_path(path)
    for line in problems:
        click.echo(f"FAILED {line}")
    for line in notes:
        click.echo(f"note: {line}")
    if problems:
        ctx.exit(EXIT_VERIFY_FAILED)
    click.echo(f"verified: {path}: the evidence and every output are as recorded, and nothing was added")


@cli.command()
@outdir_option("Folder for validation.json and validation.md.")
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
    from workbench.validation.suite import validate_into

    echo = None if ctx.obj["quiet"] or not sys.stderr.isatty() else (lambda label: click.echo(f"  {label}", err=True))
    text = validate_into(outdir, quick=quick, corpus=corpus, progress=echo)
    click.echo(text.split("## Strengths")[0])
    click.echo(f"written: {outdir / 'validation.md'}")


def _quiet(ctx: click.Context, _param, value: bool) -> None:
    if value:
        ctx.obj["quiet"] = True


for _command in [*cli.commands.values(), *case.commands.values()]:  # -q after a subcommand too
    if not isinstance(_command, click.Group):
        _command.params.append(click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_quiet,
                                            help="No progress bar and no summary lines."))


def main() -> None:
    """Console entry point."""
    cli(prog_name="workbench")
