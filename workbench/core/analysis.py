"""The analysis protocol: what every built-in and third-party analysis provides.

An analysis is a class with a unique ``name``, a ``version``, texts saying what it measures and
what it cannot show, declared parameters (:func:`workbench.core.params.param`) whose names carry their
units (``window_s``, ``threshold_dbfs``), and ``run(clip) -> Result``. ``run`` is a pure function of
the Clip: no file I/O, no printing, no pyplot; figures are matplotlib ``Figure`` objects that
the pipeline saves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from matplotlib.figure import Figure as MplFigure

from workbench.core.clip import Clip
from workbench.core.errors import ParameterError
from workbench.core.model import Finding
from workbench.core.params import InputFile, Param, declared, param

__all__ = ["Analysis", "Finding", "FigureOut", "InputFile", "FindingKind", "Result", "Track", "param", "require"]


@dataclass(frozen=True)
class FindingKind:
    """A kind of finding that an analysis raises, and what its strength (0 to 1) means.

    ``flagged`` False: the kind is only ever noted (a fact about the file), never flagged.
    """

    name: str
    strength: str
    flagged: bool = True


@dataclass
class FigureOut:
    """A figure an analysis made: saved as ``figures/<analysis>-<name>.png``."""

    name: str
    figure: MplFigure
    caption: str


@dataclass
class Track:
    """A measurement over time that the timeline figure draws under the spectrogram.

    Attributes
    ----------
    label : str
        Axis label with unit, e.g. "cutoff (Hz)".
    times_s : np.ndarray [shape=(n,)]
        Centre time of each value in seconds.
    values : np.ndarray [shape=(n,)]
        The values; NaN where not measured.
    spans_s : np.ndarray [shape=(n,)] or float, optional
        Length (s) of the stretch each value stands for, when values belong to segments or
        windows: the timeline draws each as a flat segment over its stretch, not as a line
        through the centres.
    """

    label: str
    times_s: Any
    values: Any
    spans_s: Any = None


@dataclass
class Result:
    """What ``Analysis.run`` returns.

    Attributes
    ----------
    status : {"ok", "skipped", "error"}
    message : str
        Why it was skipped or failed; empty when ok.
    measurements : dict
        Named values, units in the key (``peak_dbfs``).
    findings : list of Finding
    figures : list of FigureOut
    parameters : dict
        Derived settings worth recording beside the analysis's own parameters
        (e.g. the STFT size actually used at this sample rate).
    tracks : list of Track
        Measurements over time for the report's timeline figure (not written to JSON).
    """

    status: str = "ok"
    message: str = ""
    measurements: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    figures: list[FigureOut] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    tracks: list[Track] = field(default_factory=list)

    @classmethod
    def skipped(cls, reason: str) -> "Result":
        return cls(status="skipped", message=reason)


class Analysis:
    """Base class of analyses. Subclasses set the class attributes and implement :meth:`run`."""

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    """One line for ``workbench analyses``."""
    measures: ClassVar[str]
    """What it measures, for the report."""
    cannot_show: ClassVar[str]
    """What its findings cannot show, for the report."""
    min_sample_rate_hz: ClassVar[int] = 0
    """Lowest clip rate (Hz) at which the method holds; below it the pipeline records the
    analysis as skipped, with the reason, instead of measuring silently wrong."""
    kinds: ClassVar[tuple[FindingKind, ...]] = ()
    """Every kind of finding it raises, with what its strength means (the README's table); a
    finding of another kind is a defect."""
    measurement_keys: ClassVar[tuple[str, ...]] = ()
    """Every key its ``Result.measurements`` may hold: the report's ``measurements`` of this
    analysis are these and no others (a renderer that reads one reads a declared key)."""
    comparable: ClassVar[tuple] = ()
    """The measurements compared with reference recordings (:mod:`workbench.analyses.common.comparable`)."""
    needs_references: ClassVar[bool] = False
    """True for an analysis of the run's reports rather than of the audio (the comparison): it runs
    after the others, only when there are reference recordings, through :meth:`run_on_reports`."""
    heavy: ClassVar[bool] = False
    """True for an analysis that takes much longer than the others: started first when a clip's
    analyses run in parallel."""

    def __init__(self, **values: Any):
        """Set each declared parameter from ``values`` (checked) or its default, then :meth:`check`.

        Raises
        ------
        ParameterError
            For a name the analysis does not declare or a value outside its declared range.
        """
        for name in values:
            self.declared_parameter(name)
        for name, field_ in self.declared_parameters().items():
            setattr(self, name, field_.accept(values.get(name, field_.default)))
        self.check()

    def check(self) -> None:
        """Rules that join two or more parameters; raise :class:`ParameterError` when one fails."""

    def prepare(self) -> None:
        """Load what every clip needs (a model and its weights) into this process's caches.

        The pipeline calls it once before forking a clip's analysis workers, so that they inherit
        the loaded model instead of each importing and loading it again for every clip of a batch.
        An analysis that loads nothing leaves it empty. A failure here is not reported: ``run``
        meets it again and says why.
        """

    @classmethod
    def declared_parameters(cls) -> dict[str, Param]:
        """The declared parameters by name, in declaration order."""
        return declared(cls)

    @classmethod
    def declared_parameter(cls, name: str) -> Param:
        """The declared parameter ``name``; ParameterError naming the others when there is none."""
        fields = cls.declared_parameters()
        if name not in fields:
            raise ParameterError(f"analysis '{cls.name}' has no parameter '{name}' "
                                 f"(it has: {', '.join(fields) or 'none'})")
        return fields[name]

    def parameters(self) -> dict[str, Any]:
        """Each parameter's value as the report records it (a file by path and SHA-256)."""
        return {name: field_.record(getattr(self, name)) for name, field_ in self.declared_parameters().items()}

    def unsupported(self, clip: Clip) -> str | None:
        """Why this analysis cannot work on ``clip``, or None when it can."""
        if clip.sample_rate_hz < self.min_sample_rate_hz:
            return (f"sample rate {clip.sample_rate_hz:,} Hz: this analysis needs at least "
                    f"{self.min_sample_rate_hz:,} Hz")
        return None

    def run(self, clip: Clip) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError

    def run_on_reports(self, evidence: dict[str, Any], ran: list, references: list[dict[str, Any]]) -> Result:
        """For ``needs_references`` analyses: the clip's evidence record, (analysis, report entry)
        of each analysis already run on it, and the references' report.json contents."""
        raise NotImplementedError  # pragma: no cover - abstract


def require(condition: bool, message: str) -> None:
    """Raise :class:`ParameterError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ParameterError(message)
