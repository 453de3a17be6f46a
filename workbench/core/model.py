"""The report model: plain data classes that report.json serialises and every renderer reads.

Format versions
---------------
1  DESIGN.md's minimum: tool, run, evidence, analyses (with findings and figures), timeline,
   limitations; plus per-analysis ``wall_time_s``, ``measures``/``cannot_show`` texts,
   ``figure_captions``, ``validation`` (measured error rates of the analysis's finding kinds),
   top-level ``figures`` (report-level figures) and ``references``; ``excerpts`` (the audio
   excerpt of each place to listen to: spans, file, format, SHA-256; absent in older reports).
2  Declared: ``reports/report.schema.json`` (JSON Schema 2020-12, shipped with the package) states
   every field above, which are required, and their types; ``evidence.role`` is ``disputed`` or
   ``reference``. The learned models run as ONNX graphs, and the parameters name what ran:
   ``synthesis`` each model's ``onnx_sha256`` beside the source weights' ``sha256``, ``speaker``
   its ``encoder_sha256``, ``watermark`` its ``onnx_sha256``. Version 1 reports are still read.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

FORMAT_NAME = "workbench-report"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""Format versions this tool reads: each later one adds to the one before."""
SCHEMA = "report.schema.json"
"""The JSON Schema of the current version, in the ``reports`` package."""


@dataclass
class Finding:
    """One place (or whole-file property) worth a reviewer's attention.

    Attributes
    ----------
    kind : str
        snake_case name, e.g. ``digital_silence`` (DESIGN.md fixes some names).
    start_s, end_s : float
        Where it is, in seconds from the start of the clip.
    strength : float in [0, 1]
        How pronounced it is (not a probability); README.md lists the mapping per kind.
    flagged : bool
        True when it is worth the reviewer's ear; flagged findings form the timeline.
    summary : str
        One neutral sentence; never a verdict.
    details : dict
        Measured values behind the summary.
    """

    kind: str
    start_s: float
    end_s: float
    strength: float
    flagged: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def whole_file(cls, kind: str, duration_s: float, strength: float, summary: str) -> "Finding":
        """A note on the whole file (not a place on the time axis): never flagged."""
        return cls(kind=kind, start_s=0.0, end_s=duration_s, strength=strength, flagged=False,
                   summary=summary)

    def __post_init__(self) -> None:
        self.strength = float(min(1.0, max(0.0, self.strength)))
        self.start_s = float(self.start_s)
        self.end_s = float(self.end_s)


@dataclass
class AnalysisEntry:
    """What one analysis produced, as written in report.json."""

    name: str
    version: str
    status: str
    message: str = ""
    description: str = ""
    measures: str = ""
    cannot_show: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    measurements: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    figure_captions: list[str] = field(default_factory=list)
    wall_time_s: float = 0.0
    validation: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AnalysisEntry":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["findings"] = [Finding(**f) for f in data.get("findings", [])]
        return cls(**values)


@dataclass
class Report:
    """One clip's report. ``to_dict`` is exactly what report.json holds."""

    tool: dict[str, Any]
    run: dict[str, Any]
    evidence: dict[str, Any]
    analyses: list[AnalysisEntry]
    limitations: list[str]
    references: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    excerpts: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION

    @property
    def timeline(self) -> list[dict[str, Any]]:
        """Every flagged finding of every analysis, sorted by start time."""
        entries = [
            {"analysis": entry.name, **asdict(finding)}
            for entry in self.analyses
            for finding in entry.findings
            if finding.flagged
        ]
        return sorted(entries, key=lambda e: (e["start_s"], e["analysis"], e["kind"]))

    def flagged_findings(self) -> list[Finding]:
        """The flagged findings in timeline order, as Finding objects."""
        return [Finding(**{k: v for k, v in entry.items() if k != "analysis"}) for entry in self.timeline]

    @property
    def errored(self) -> list[str]:
        """Names of analyses that ended with status ``error``."""
        return [entry.name for entry in self.analyses if entry.status == "error"]

    @property
    def named_files(self) -> list[dict[str, str]]:
        """The files a user named as parameters (a grid log, a checkpoint, trust anchors):
        ``parameter`` (analysis.name), ``path`` and ``sha256``, as the run read them."""
        return [{"parameter": f"{entry.name}.{name}", "path": value["path"], "sha256": value["sha256"]}
                for entry in self.analyses for name, value in sorted((entry.parameters or {}).items())
                if isinstance(value, dict) and {"path", "sha256"} <= value.keys()]

    @property
    def evidence_changed(self) -> bool:
        """True when the evidence hash after analysis differs from the one at intake."""
        return self.evidence.get("sha256_after") != self.evidence.get("sha256")

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "format": self.format,
                "format_version": self.format_version,
                "tool": self.tool,
                "run": self.run,
                "evidence": self.evidence,
                "references": self.references,
                "analyses": [asdict(entry) for entry in self.analyses],
                "figures": self.figures,
                "excerpts": self.excerpts,
                "timeline": self.timeline,
                "limitations": self.limitations,
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Report":
        return cls(
            tool=data["tool"],
            run=data["run"],
            evidence=data["evidence"],
            analyses=[AnalysisEntry.from_dict(a) for a in data["analyses"]],
            limitations=list(data.get("limitations", [])),
            references=list(data.get("references", [])),
            figures=dict(data.get("figures", {})),
            excerpts=dict(data.get("excerpts") or {}),
            format=data["format"],
            format_version=int(data["format_version"]),
        )


def jsonable(value: Any) -> Any:
    """Convert numpy scalars and arrays, tuples and non-finite floats to plain JSON values.

    Non-finite floats become None (JSON has no NaN).
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)
