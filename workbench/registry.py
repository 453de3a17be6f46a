"""The analysis registry: the built-ins plus third-party analyses from the ``workbench.analyses``
entry-point group, selected with ``--only``/``--skip`` and configured with ``--param``.

A third-party package registers an analysis class in its own metadata::

    [options.entry_points]
    workbench.analyses =
        my_check = my_package.module:MyCheck
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Iterable

from workbench.analyses.bandwidth import Bandwidth
from workbench.analyses.channels import Channels
from workbench.analyses.comparison import Comparison
from workbench.analyses.consistency import Consistency
from workbench.analyses.container import Container
from workbench.analyses.content_credentials import ContentCredentials
from workbench.analyses.discontinuity import Discontinuity
from workbench.analyses.enf import Enf
from workbench.analyses.levels import Levels
from workbench.analyses.metadata import Metadata
from workbench.analyses.noise_floor import NoiseFloor
from workbench.analyses.overview import Overview
from workbench.analyses.speaker import Speaker
from workbench.analyses.synthesis import Synthesis
from workbench.analyses.voice import Voice
from workbench.analyses.watermark import Watermark
from workbench.core.analysis import Analysis
from workbench.core.errors import ParameterError

ENTRY_POINT_GROUP = "workbench.analyses"
BUILTINS: tuple[type[Analysis], ...] = (
    Overview, Levels, Channels, Metadata, Container, ContentCredentials, Bandwidth, NoiseFloor, Enf, Discontinuity, Consistency,
    Voice, Speaker,
    Synthesis, Watermark, Comparison,
)


def available() -> dict[str, type[Analysis]]:
    """All registered analyses by name, built-ins first, in run order."""
    registry = {cls.name: cls for cls in BUILTINS}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = point.load()
        except Exception as exc:  # a broken plug-in must not stop the tool
            raise ParameterError(f"analysis plug-in '{point.name}' cannot be loaded: {exc}") from None
        if not (isinstance(cls, type) and issubclass(cls, Analysis)):
            raise ParameterError(f"plug-in '{point.name}' is not a workbench Analysis class")
        if cls.name in registry and registry[cls.name] is not cls:
            raise ParameterError(f"plug-in '{point.name}' reuses the analysis name '{cls.name}'")
        registry[cls.name] = cls
    return registry


def split_names(values: Iterable[str]) -> list[str]:
    """Analysis names from ``--only``/``--skip`` values, each a comma-separated list."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def parse_params(items: Iterable[str]) -> dict[str, dict[str, str]]:
    """Parse ``analysis.key=value`` strings into {analysis: {key: raw value}}."""
    params: dict[str, dict[str, str]] = {}
    for item in items:
        name_key, sep, value = item.partition("=")
        name, dot, key = name_key.partition(".")
        if not (sep and dot and name and key):
            raise ParameterError(f"--param '{item}' is not of the form analysis.key=value")
        params.setdefault(name.strip(), {})[key.strip()] = value.strip()
    return params


def build(
    *, only: Iterable[str] = (), skip: Iterable[str] = (), params: dict[str, dict[str, str]] | None = None,
    references: bool = False,
) -> list[Analysis]:
    """Instantiate the selected analyses with their parameters; those that ``needs_references``
    only when ``references`` (the run compares with reference recordings).

    Raises
    ------
    ParameterError
        For an unknown analysis or parameter name, a value of the wrong type, or a value the
        analysis rejects.
    """
    registry = available()
    only, skip, params = list(only), list(skip), dict(params or {})
    for name in [*only, *skip, *params]:
        if name not in registry:
            raise ParameterError(
                f"unknown analysis '{name}' (available: {', '.join(registry)})"
            )
    # An analysis of the reports (the comparison) follows --reference, not --only: it is chosen
    # whenever the run has references, unless --skip names it.
    chosen = [name for name in registry if name not in skip and (
        (references and registry[name].needs_references) or (not registry[name].needs_references
                                                             and (not only or name in only)))]
    if not [name for name in chosen if not registry[name].needs_references]:
        raise ParameterError("no analysis left to run after --only/--skip")
    analyses = []
    for name in chosen:
        cls = registry[name]
        kwargs = {key: cls.declared_parameter(key).from_text(raw) for key, raw in params.get(name, {}).items()}
        analyses.append(cls(**kwargs))
    return analyses
