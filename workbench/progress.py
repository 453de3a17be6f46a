"""What a run tells its caller as it goes: a callback object, so nothing below the command line prints.

The base class says nothing. The command line's subclass draws a bar on stderr and prints the
lines; a script or a notebook can subclass it to show progress its own way. Every method is
called in the process that started the run.
"""

from __future__ import annotations


class Progress:
    """Receives a run's progress and its lines to show; every method does nothing here."""

    def begin(self, steps: int, per_clip: int) -> None:
        """The run will report ``steps`` steps, ``per_clip`` of them for each clip."""

    def step(self, label: str) -> None:
        """A step starts: one analysis of a clip (in this process) or a whole clip (in parallel)."""

    def problem(self, line: str) -> None:
        """A problem worth one line: a file that cannot be read, analyses that failed."""

    def summary(self, line: str) -> None:
        """One line of the run's summary: a clip's result, where the index is."""

    def end(self) -> None:
        """The run is over, whether it finished or was stopped."""


SILENT = Progress()
"""The progress of a run that nobody watches."""


class Labelled(Progress):
    """Hands each step on to ``progress`` with ``prefix`` (a clip's name) before its label."""

    def __init__(self, progress: Progress, prefix: str):
        self.progress, self.prefix = progress, prefix

    def step(self, label: str) -> None:
        self.progress.step(f"{self.prefix}: {label}")
