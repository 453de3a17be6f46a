"""Fuzz evidence intake with hostile containers (``make fuzz``; a bounded run is in the suite).

Each case is a seed container (``fixtures.hostile``) mutated once, written to a fresh file and
opened as evidence, then read whole, block by block. A case passes when intake either gives a
readable clip or refuses the file with one line (``EvidenceError``), within the decoder's time
limit, with nothing written to stderr and the file's bytes unchanged. Anything else is a finding.

    python tests/fuzz.py --seconds 600
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.hostile import SEEDS, mutate  # noqa: E402
from workbench.core.errors import EvidenceError  # noqa: E402
from workbench.core.sandbox import silenced_stderr  # noqa: E402
from workbench.evidence import DECODE_S_PER_MIB, DECODE_TIMEOUT_S, open_evidence  # noqa: E402

SLACK_S = 5.0
"""Time beyond the decoder's own limit before a case counts as a hang."""


def run_case(kind: str, data: bytes, folder: Path) -> str | None:
    """Open ``data`` as a ``kind`` file; None when it passes, else what went wrong (one line)."""
    path = folder / f"case.{kind}"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    started = time.monotonic()
    problem = None
    with silenced_stderr() as chatter:
        try:
            clip = open_evidence(path)
            for block in clip.blocks(block_s=30.0):
                assert np.isfinite(block.samples).all()
            json.dumps(clip.info.to_dict())
        except EvidenceError as exc:
            if not str(exc) or "\n" in str(exc) or len(str(exc)) > 500:
                problem = f"refusal is not one short line: {str(exc)[:200]!r}"
        except Exception as exc:  # the finding the fuzzer exists for
            problem = f"{type(exc).__name__}: {str(exc)[:200]}"
    elapsed = time.monotonic() - started
    if problem is None and elapsed > DECODE_TIMEOUT_S + len(data) / 2**20 * DECODE_S_PER_MIB + SLACK_S:
        problem = f"took {elapsed:.1f} s"
    if problem is None and chatter:
        problem = f"wrote to stderr: {chatter[0][:200]!r}"
    if problem is None and hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        problem = "the file's bytes changed"
    path.unlink()
    return problem


def fuzz(*, cases: int | None = None, seconds: float | None = None, seed: int = 0) -> dict:
    """Run ``cases`` cases (or as many as fit in ``seconds``), cycling through the containers."""
    rng = np.random.default_rng(seed)
    seeds = {kind: make() for kind, make in SEEDS.items()}
    kinds = sorted(seeds)
    tried = {kind: 0 for kind in kinds}
    findings: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="workbench-fuzz-") as scratch:
        n = 0
        while (cases is None or n < cases) and (seconds is None or time.monotonic() - started < seconds):
            kind = kinds[n % len(kinds)]
            data, what = mutate(kind, seeds[kind], rng)
            problem = run_case(kind, data, Path(scratch))
            tried[kind] += 1
            if problem:
                findings.append(f"{kind} ({what}): {problem}")
            n += 1
    usage = {who: resource.getrusage(who).ru_maxrss / 1024 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)}
    return {"tried": tried, "seconds": round(time.monotonic() - started, 1), "findings": findings,
            "max_rss_mb": {"workbench": round(usage[resource.RUSAGE_SELF]), "decoders": round(usage[resource.RUSAGE_CHILDREN])}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    summary = fuzz(seconds=args.seconds, seed=args.seed)
    print(f"fuzz: {sum(summary['tried'].values())} inputs in {summary['seconds']} s "
          f"({', '.join(f'{k} {v}' for k, v in summary['tried'].items())}); "
          f"peak memory {summary['max_rss_mb']['workbench']} MB (workbench), "
          f"{summary['max_rss_mb']['decoders']} MB (largest decoder process)")
    for line in summary["findings"]:
        print(f"FINDING {line}")
    print(f"{len(summary['findings'])} finding(s)")
    sys.exit(1 if summary["findings"] else 0)


if __name__ == "__main__":
    main()
