"""Compare every report.json under two output trees, times and paths aside: the check that a
refactoring kept behaviour (issue 14). Comparison rows and findings are compared by measure, not
by order.

    python -m benchmarks.compare_reports OLD_DIR NEW_DIR [TOLERANCE]

TOLERANCE (default 0) is an absolute difference under which two numbers count as the same: the
stated tolerance of the exported ONNX graphs against their torch originals (1e-3) when comparing
reports from before and after that change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

IGNORED = {"wall_time_s", "started_utc", "finished_utc", "command", "platform", "mtime_ns", "path"}


def differences(a, b, where: str = "", tolerance: float = 0.0) -> list[str]:
    """Lines naming each key added (+), removed (-) or changed (~) from ``a`` to ``b``; numbers
    within ``tolerance`` (absolute) of each other are the same."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key in IGNORED:
                continue
            if key not in a or key not in b:
                out.append(f"{'+' if key not in a else '-'} {where}.{key}")
            else:
                out += differences(a[key], b[key], f"{where}.{key}", tolerance)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"~ {where}: {len(a)} items -> {len(b)}"]
        return [line for i, (x, y) in enumerate(zip(a, b)) for line in differences(x, y, f"{where}[{i}]", tolerance)]
    if isinstance(a, float) and isinstance(b, float) and abs(a - b) <= max(1e-9 * max(1.0, abs(a)), tolerance):
        return []
    return [] if a == b else [f"~ {where}: {str(a)[:80]} -> {str(b)[:80]}"]


def _normalised(report: dict) -> dict:
    for entry in report.get("analyses", []):
        rows = entry.get("measurements", {}).get("rows")
        if isinstance(rows, list):
            rows.sort(key=lambda row: row.get("measure", ""))
            entry["findings"].sort(key=lambda f: (f.get("details", {}).get("measure", ""), f["start_s"]))
    return report


def main(old: Path, new: Path, tolerance: float = 0.0) -> int:
    changed = 0
    for before in sorted(old.rglob("report.json")):
        after = new / before.relative_to(old)
        if not after.exists():
            print(f"missing: {after}")
            changed += 1
            continue
        lines = differences(_normalised(json.loads(before.read_text())), _normalised(json.loads(after.read_text())),
                            tolerance=tolerance)
        print(f"{before.relative_to(old)}: {len(lines)} difference(s)")
        for line in lines:
            print(f"    {line}")
        changed += bool(lines)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.0))
