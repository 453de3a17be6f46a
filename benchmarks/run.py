"""The performance harness (`make bench`): full default analyses of 1-, 10-, 60- and 180-minute clips
beside a decode + STFT baseline and peer tools, with wall time and peak memory; of the 60-minute
clip as AAC, the way phone and video audio arrives; and of a batch of 1,000 short voice messages
(Opus and AAC) in one run, beside one message analysed alone.

Every measurement runs in its own process (``_measure``) so peak RSS is that command's alone
(the largest process of its tree: the analysis or its decoding child). Results are printed and
written to ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / "out" / "bench"
SAMPLE_RATE_HZ = 44100

BASELINE = """
import sys, librosa, numpy as np, soundfile as sf
y, sr = sf.read(sys.argv[1], dtype="float32")
S = np.abs(librosa.stft(y, n_fft=2048, hop_length=512))
librosa.amplitude_to_db(S)
"""
PRAAT_PITCH = """
import sys, parselmouth
parselmouth.Sound(sys.argv[1]).to_pitch()
"""
EGEMAPS = """
import sys, opensmile
opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                feature_level=opensmile.FeatureLevel.Functionals).process_file(sys.argv[1])
"""


def make_clip(seconds: float) -> Path:
    """A seeded speech-like 44.1 kHz mono 16-bit WAV with room tone and hum (cached)."""
    from workbench.material.scene import Fixture
    from workbench.material.synth import recording

    path = CACHE / f"speech-{seconds:g}s.wav"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        chunks, chunk_s = [], 300.0
        for i in range(int(np.ceil(seconds / chunk_s))):  # generated in 5-minute pieces
            length = min(chunk_s, seconds - i * chunk_s)
            chunks.append(recording(seed=1000 + i, duration_s=length, sample_rate_hz=SAMPLE_RATE_HZ).samples)
        Fixture(np.concatenate(chunks), SAMPLE_RATE_HZ).write(path)
    return path


def make_aac(seconds: float) -> Path:
    """The same clip encoded as AAC in M4A (cached). PyAV decodes it, through a temporary file, and
    with the encoder's priming and padding it is not a whole number of seconds long, as real files
    are not (a length that factors well hid an FFT cost once)."""
    import soundfile as sf

    from workbench.material.media import encode_with_pyav

    wav = make_clip(seconds)
    path = wav.with_suffix(".m4a")
    if not path.exists():
        partial = path.with_suffix(".partial.m4a")
        with sf.SoundFile(str(wav)) as source:
            blocks = (block[:, 0] for block in source.blocks(blocksize=1 << 16, dtype="float32", always_2d=True))
            encode_with_pyav(partial, blocks, source.samplerate, codec="aac")
        partial.rename(path)
    return path


BATCH_FORMATS = (("libopus", ".ogg", 48000), ("aac", ".m4a", 44100))
"""How phones keep voice messages: Opus in Ogg (WhatsApp, Signal, Telegram) and AAC in M4A."""


BATCH_SOURCES = 20
"""Messages are cut from this many seeded 60-s recordings per format (generating 9 hours of speech
for 1,000 messages would take longer than analysing them)."""


def make_batch(count: int) -> list[Path]:
    """``count`` seeded voice messages of 5-60 s, alternately Opus in Ogg and AAC in M4A, each cut
    at its own offset from one of :data:`BATCH_SOURCES` recordings (cached)."""
    from workbench.material.media import write_with_pyav
    from workbench.material.synth import recording

    folder = CACHE / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2026)
    lengths, offsets = rng.uniform(5.0, 60.0, count), rng.uniform(0.0, 1.0, count)
    sources: dict[tuple[int, int], np.ndarray] = {}
    paths = []
    for i, (seconds, offset) in enumerate(zip(lengths, offsets)):
        codec, suffix, rate = BATCH_FORMATS[i % 2]
        path = folder / f"message-{i:04d}{suffix}"
        if not path.exists():
            key = (rate, i // 2 % BATCH_SOURCES)
            if key not in sources:
                sources[key] = recording(seed=5000 + key[1], duration_s=60.0, sample_rate_hz=rate).samples[:, 0]
            first = int(offset * (60.0 - seconds) * rate)
            write_with_pyav(path, sources[key][first : first + int(seconds * rate)], rate, codec=codec)
        paths.append(path)
    return paths


TREE_SAMPLER = """
import os, subprocess, sys, threading, time, resource

def tree_pss_kb(root):
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as handle:
                    parents[int(name)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    tree, frontier = set(), {root}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - tree
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return total

t = time.perf_counter()
process = subprocess.Popen(sys.argv[1:])
peak, done = [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], tree_pss_kb(process.pid))
        time.sleep(0.2)
sampler = threading.Thread(target=sample)
sampler.start()
code = process.wait()
done.set()
sampler.join()
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, peak[0], code)
"""


def _measure(argv: list[str]) -> dict[str, float]:
    """Run ``argv`` under a sampler; return wall time (s), the peak RSS of its largest process
    (MB) and the peak proportional set size of its whole process tree (MB, sampled every 0.2 s:
    forked analysis workers share the parent's pages, and PSS counts each shared page once).
    A run that does not exit 0 raises RuntimeError: a failed peer (not installed) or a workbench
    run in which an analysis failed (exit 1) did less than the work it stands for."""
    out = subprocess.run([sys.executable, "-c", TREE_SAMPLER, *argv], capture_output=True, text=True, check=True)
    wall, rss_kb, pss_kb, code = out.stdout.split()[-4:]
    if int(code) != 0:
        raise RuntimeError(f"{argv[:3]} exited {code}")
    return {"wall_s": float(wall), "peak_rss_mb": int(rss_kb) / 1024, "tree_pss_mb": int(pss_kb) / 1024}


def _workbench(clip: Path | list[Path], outdir: Path, *options: str) -> list[str]:
    """A full default run of the workbench on ``clip`` (or a batch of clips), redone even when a
    report exists."""
    clips = clip if isinstance(clip, list) else [clip]
    return [sys.executable, "-m", "workbench", "-q", "analyze", *map(str, clips), "-o", str(outdir), "--force",
            *options]


def _python(script: str, clip: Path) -> list[str]:
    return [sys.executable, "-c", script, str(clip)]


def bench_clip(seconds: float) -> dict:
    clip = make_clip(seconds)
    outdir = CACHE / f"report-{seconds:g}s"
    full = _measure(_workbench(clip, outdir))
    baseline = _measure(_python(BASELINE, clip))
    report = json.loads((outdir / "report.json").read_text())
    return {
        "seconds": seconds, "full": full, "baseline": baseline,
        "ratio": full["wall_s"] / baseline["wall_s"],
        "analyses": {a["name"]: a["wall_time_s"] for a in report["analyses"]},
    }


def bench_compressed(seconds: float) -> dict:
    return {"seconds": seconds, "full": _measure(_workbench(make_aac(seconds), CACHE / f"report-{seconds:g}s-aac"))}


def bench_batch(count: int, jobs: int) -> dict:
    """A batch of ``count`` voice messages in one ``workbench analyze`` (``--jobs``), beside the
    first message analysed by a command of its own (start-up, imports and model loading included)."""
    clips = make_batch(count)
    outdir = CACHE / f"batch-{count}-jobs{jobs}"
    batch = _measure(_workbench(clips, outdir, "--jobs", str(jobs)))
    one = _measure(_workbench(clips[0], CACHE / "batch-one"))
    reports = batch_reports(outdir)
    audio_s = sum(r["evidence"]["duration_s"] for r in reports)
    return {"clips": count, "jobs": jobs, "reports": len(reports), "audio_min": audio_s / 60, "batch": batch,
            "one_clip": one, "one_clip_s": float(json.loads((CACHE / "batch-one" / "report.json").read_text())
                                                ["evidence"]["duration_s"]),
            "costs": batch_costs(outdir),
            "clips_per_min": count / batch["wall_s"] * 60}


FIGURE_TIMER = """
import sys, time
from pathlib import Path
from workbench import registry
from workbench.evidence import open_evidence
import workbench.pipeline as pipeline

spent, saved = [0.0], pipeline.save_figure
def timed(figure, path):
    started = time.perf_counter()
    try:
        return saved(figure, path)
    finally:
        spent[0] += time.perf_counter() - started
pipeline.save_figure = timed
analyses = registry.build()
for analysis in analyses:
    analysis.prepare()
report = pipeline.analyze_clip(open_evidence(Path(sys.argv[1])), Path(sys.argv[2]),
                               pipeline.Request(analyses, "bench"))
print(spent[0], sum(a.wall_time_s for a in report.analyses), report.run["wall_time_s"])
"""
FIGURE_MESSAGE_S = 15.0


def bench_figures() -> dict:
    """Every figure of a 15-s voice message (Opus, 48 kHz, seeded), drawn and saved in one process
    (one core), timed apart from the analyses that make them."""
    from workbench.material.media import write_with_pyav
    from workbench.material.synth import recording

    path = CACHE / "message-15s.ogg"
    if not path.exists():
        write_with_pyav(path, recording(seed=5001, duration_s=FIGURE_MESSAGE_S, sample_rate_hz=48000).samples[:, 0],
                        48000, codec="libopus")
    outdir = CACHE / "figures-15s"
    out = subprocess.run([sys.executable, "-c", FIGURE_TIMER, str(path), str(outdir)], capture_output=True,
                         text=True, check=True)
    figures_s, analyses_s, run_s = out.stdout.split()[-3:]
    count = len(list((outdir / "figures").glob("*.png")))
    return {"figures": count, "figures_s": float(figures_s), "analyses_s": float(analyses_s), "run_s": float(run_s)}


def batch_reports(outdir: Path) -> list[dict]:
    """The reports a batch run wrote into ``outdir``: one folder per clip, or the folder itself
    when the batch held one clip."""
    paths = sorted(outdir.glob("*/report.json")) or [outdir / "report.json"]
    return [json.loads(p.read_text()) for p in paths]


def batch_costs(outdir: Path) -> dict[str, float]:
    """Mean seconds per message of each analysis (its recorded wall time), and of the rest of each
    clip's run (figures, timeline, report writing: the run's wall time less its analyses'), over
    the reports of a batch."""
    reports = batch_reports(outdir)
    costs: dict[str, float] = {}
    for report in reports:
        for entry in report["analyses"]:
            costs[entry["name"]] = costs.get(entry["name"], 0.0) + entry["wall_time_s"] / len(reports)
    rest = sum(r["run"]["wall_time_s"] - sum(a["wall_time_s"] for a in r["analyses"]) for r in reports)
    return dict(sorted(costs.items(), key=lambda kv: -kv[1])) | {
        "figures, timeline and report writing": rest / len(reports)}


def bench_peers(seconds: float) -> dict:
    clip = make_clip(seconds)
    peers = {}
    for name, script in (("Praat pitch (parselmouth)", PRAAT_PITCH), ("openSMILE eGeMAPS", EGEMAPS)):
        try:
            peers[name] = _measure(_python(script, clip))
        except (RuntimeError, subprocess.CalledProcessError):
            peers[name] = None  # peer not installed: pip install '.[bench]'
    return peers


def markdown(rows: list[dict], peers: dict, peer_seconds: float, compressed: list[dict] = (),
             batches: list[dict] = (), figures: dict | None = None) -> str:
    names = sorted({n for r in rows for n in r["analyses"]}, key=lambda n: -max(r["analyses"].get(n, 0) for r in rows))
    lines = [
        "# Benchmarks",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"Python {platform.python_version()}, `make bench`. Speech-like 44.1 kHz mono 16-bit WAV with "
        "room tone and mains hum. Full run: `workbench analyze` with every default analysis, JSON + "
        "HTML + figures. Baseline: decode (soundfile) + one librosa STFT (2048/512) + dB. Peak RSS: "
        "the largest process of the command; tree PSS: the peak memory of the command's whole "
        "process tree (the analysis workers included, shared pages counted once), sampled every 0.2 s.",
        "",
        "| clip | full run (s) | baseline (s) | ratio | full peak RSS (MB) | full tree PSS (MB) | baseline peak RSS (MB) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['seconds'] / 60:g} min | {r['full']['wall_s']:.1f} | {r['baseline']['wall_s']:.2f} | "
                     f"{r['ratio']:.1f}x | {r['full']['peak_rss_mb']:.0f} | {r['full']['tree_pss_mb']:.0f} | "
                     f"{r['baseline']['peak_rss_mb']:.0f} |")
    lines += ["", "Per-analysis wall time (s), from each report's recorded timings:", "",
              "| analysis | " + " | ".join(f"{r['seconds'] / 60:g} min" for r in rows) + " |",
              "| --- |" + " --- |" * len(rows)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{r['analyses'].get(name, 0):.2f}" for r in rows) + " |")
    if len(rows) >= 2:
        a, b = rows[-2], rows[-1]
        growth = b["full"]["wall_s"] / a["full"]["wall_s"]
        slope = (b["full"]["wall_s"] - a["full"]["wall_s"]) / ((b["seconds"] - a["seconds"]) / 60)
        lines += ["", f"Growth from {a['seconds'] / 60:g} to {b['seconds'] / 60:g} min: wall time x{growth:.1f} "
                  f"for x{b['seconds'] / a['seconds']:g} duration; slope {slope:.2f} s per minute of audio; "
                  f"peak RSS x{b['full']['peak_rss_mb'] / a['full']['peak_rss_mb']:.1f}, "
                  f"tree PSS x{b['full']['tree_pss_mb'] / a['full']['tree_pss_mb']:.1f}."]
    if compressed:
        wav = {r["seconds"]: r["full"] for r in rows}
        lines += ["", "The same clips as AAC in M4A (mono, PyAV's default bit rate), decoded by PyAV:", "",
                  "| clip | full run (s) | full peak RSS (MB) | full tree PSS (MB) | as WAV: full run (s), tree PSS (MB) |",
                  "| --- | --- | --- | --- | --- |"]
        for r in compressed:
            same = wav.get(r["seconds"])
            lines.append(f"| {r['seconds'] / 60:g} min AAC | {r['full']['wall_s']:.1f} | {r['full']['peak_rss_mb']:.0f} | "
                         f"{r['full']['tree_pss_mb']:.0f} | "
                         + (f"{same['wall_s']:.1f}, {same['tree_pss_mb']:.0f} |" if same else "not run |"))
    lines += batch_markdown(batches)
    lines += figures_markdown(figures)
    if peers:
        lines += ["", f"Peers on the {peer_seconds / 60:g}-minute clip:", "", "| tool | wall (s) | peak RSS (MB) |",
                  "| --- | --- | --- |"]
        for name, value in peers.items():
            lines.append(f"| {name} | " + (f"{value['wall_s']:.1f} | {value['peak_rss_mb']:.0f} |" if value
                                           else "not installed | |"))
    return "\n".join(lines) + "\n"


BATCH_HEADING = "Batches of voice messages"


def batch_markdown(batches: list[dict]) -> list[str]:
    """The lines of the batch table (none without batches)."""
    if not batches:
        return []
    lines = ["", f"{BATCH_HEADING} (5-60 s, seeded, alternately Opus in Ogg at 48 kHz and AAC in M4A at 44.1 kHz, "
             "as phones keep them, cut from 20 generated 60-s recordings per format), every message through "
             "every default analysis in one `workbench analyze` run; beside it, the first message analysed "
             "by a command of its own (start-up, imports and model loading paid for one clip):", "",
             "| clips | --jobs | audio (min) | wall (s) | clips per minute | s per clip | tree PSS (MB) | "
             "one message alone: length, wall (s) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for b in batches:
        lines.append(f"| {b['clips']} | {b['jobs']} | {b['audio_min']:.1f} | {b['batch']['wall_s']:.1f} | "
                     f"{b['clips_per_min']:.1f} | {b['batch']['wall_s'] / b['clips']:.2f} | "
                     f"{b['batch']['tree_pss_mb']:.0f} | {b['one_clip_s']:.1f} s, {b['one_clip']['wall_s']:.1f} |")
    for b in batches:
        if b.get("costs"):
            lines += ["", f"What a message of the {b['clips']}-message batch costs, by part (mean seconds of one "
                      "worker, from the reports' recorded timings; the two workers run side by side):", "",
                      "| part | s per message |", "| --- | --- |"]
            lines += [f"| {part} | {seconds:.2f} |" for part, seconds in b["costs"].items()]
    return lines


def figures_markdown(figures: dict | None) -> list[str]:
    """The line on a message's figures (none when they were not timed)."""
    if not figures:
        return []
    return ["", f"Figures of a {FIGURE_MESSAGE_S:g}-s voice message (Opus), drawn and saved in one process: "
            f"{figures['figures']} figures (the timeline included) in {figures['figures_s']:.2f} s, "
            f"beside {figures['analyses_s']:.2f} s for the analyses that made them "
            f"({figures['run_s']:.2f} s for the whole run)."]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60, 180])
    parser.add_argument("--aac-minutes", type=float, nargs="*", default=[60])
    parser.add_argument("--peers-minutes", type=float, default=10)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--batch-clips", type=int, nargs="*", default=[1000])
    parser.add_argument("--batch-jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    rows = []
    for minutes in args.minutes:
        rows.append(bench_clip(minutes * 60))
        print(f"{minutes:g} min: full {rows[-1]['full']['wall_s']:.1f} s, ratio {rows[-1]['ratio']:.1f}x, "
              f"peak {rows[-1]['full']['peak_rss_mb']:.0f} MB, tree PSS {rows[-1]['full']['tree_pss_mb']:.0f} MB",
              flush=True)
    compressed = []
    for minutes in args.aac_minutes:
        compressed.append(bench_compressed(minutes * 60))
        print(f"{minutes:g} min AAC: full {compressed[-1]['full']['wall_s']:.1f} s, "
              f"tree PSS {compressed[-1]['full']['tree_pss_mb']:.0f} MB", flush=True)
    batches = []
    for count in args.batch_clips:
        batches.append(bench_batch(count, args.batch_jobs))
        print(f"batch of {count}: {batches[-1]['batch']['wall_s']:.1f} s, {batches[-1]['clips_per_min']:.1f} clips/min",
              flush=True)
    figures = bench_figures()
    print(f"figures of a {FIGURE_MESSAGE_S:g}-s message: {figures['figures']} in {figures['figures_s']:.2f} s", flush=True)
    peers = {} if args.no_peers else bench_peers(args.peers_minutes * 60)
    measured = {"rows": rows, "compressed": compressed, "batches": batches, "figures": figures, "peers": peers,
                "peer_seconds": args.peers_minutes * 60}
    (CACHE / "results.json").write_text(json.dumps(measured, indent=1), encoding="utf-8")
    text = markdown(rows, peers, args.peers_minutes * 60, compressed, batches, figures)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    return text


if __name__ == "__main__":
    main()
