"""Declared analysis parameters: each written once, as a typed field with its default, unit,
bounds and one-line meaning.

An analysis declares its parameters as class attributes::

    class Levels(Analysis):
        min_silence_s: float = param(0.02, "Shortest run of digital silence reported.", above=0)

and everything else comes from that declaration: the keyword-only constructor
(``Levels(min_silence_s=0.05)``), conversion of ``--param levels.min_silence_s=0.05`` by the
annotation, the range check with its error message, ``Analysis.parameters()``, the listing of
``workbench analyses -v`` and the report's parameter table. The unit follows from the name's suffix
(``_s``, ``_hz``, ``_dbfs`` ...) unless given. A parameter annotated :class:`InputFile` names a file
that the workbench reads (at most ``max_bytes``) and hashes; the analysis receives its content and
never opens a file.
"""

from __future__ import annotations

import hashlib
import typing
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from workbench.core.errors import ParameterError

UNIT_SUFFIXES = (
    ("_dbfs", "dBFS"), ("_db", "dB"), ("_hz", "Hz"), ("_ms", "ms"), ("_s", "s"), ("_rad", "rad"),
    ("_samples", "samples"), ("_pct", "%"),
)
"""Name suffix -> unit, longest first where one suffix ends another."""
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes"), ("false", "0", "no")
DEFAULT_MAX_BYTES = 64 * 2**20


@dataclass(frozen=True)
class InputFile:
    """A file a user named as a parameter, as read by the workbench.

    Attributes
    ----------
    path : str
        The path as given.
    sha256 : str
        SHA-256 of ``data``.
    data : bytes
        The file's content, read once.
    """

    path: str
    sha256: str
    data: bytes = field(repr=False)

    @classmethod
    def read(cls, path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> "InputFile":
        """Read and hash a regular file of at most ``max_bytes``.

        Raises
        ------
        ParameterError
            When it is missing, not a regular file, larger than ``max_bytes`` or unreadable.
        """
        target = Path(path)
        try:
            if not target.is_file():
                raise ParameterError(f"{path}: no such file")
            size = target.stat().st_size
            if size > max_bytes:
                raise ParameterError(f"{path}: {size:,} bytes, more than the {max_bytes:,} accepted")
            data = target.read_bytes()
        except OSError as exc:
            raise ParameterError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        return cls(str(path), hashlib.sha256(data).hexdigest(), data)

    def record(self) -> dict[str, Any]:
        """What a report records of it: where it was and what it held (by hash)."""
        return {"path": self.path, "sha256": self.sha256, "bytes": len(self.data)}


class Param:
    """One declared parameter; see the module docstring. Created with :func:`param`."""

    def __init__(self, default: Any, meaning: str, *, unit: str | None = None,
                 above: float | None = None, at_least: float | None = None,
                 below: float | None = None, at_most: float | None = None,
                 choices: tuple[str, ...] = (), max_bytes: int = DEFAULT_MAX_BYTES,
                 bound_text: str | None = None):
        self.default, self.meaning, self.choices, self.max_bytes = default, meaning, tuple(choices), max_bytes
        self.above, self.at_least, self.below, self.at_most = above, at_least, below, at_most
        self._unit, self.bound_text = unit, bound_text
        self.name, self.owner = "", None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.owner = name, owner

    def __get__(self, instance: Any, owner: type) -> Any:
        # On the class: the declaration. An instance holds its value in its own __dict__.
        return self if instance is None else self.default

    @property
    def unit(self) -> str:
        if self._unit is not None:
            return self._unit
        return next((unit for suffix, unit in UNIT_SUFFIXES if self.name.endswith(suffix)), "")

    @cached_property
    def kind(self) -> type:
        """The annotated type: float, int, bool, str or InputFile."""
        hint = typing.get_type_hints(self.owner)[self.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if args else hint

    @property
    def label(self) -> str:
        return f"{getattr(self.owner, 'name', '?')}.{self.name}"

    def from_text(self, raw: str) -> Any:
        """The value of a ``--param`` string, converted by the annotation and checked."""
        kind = self.kind
        try:
            if kind is bool:
                lowered = raw.strip().lower()
                if lowered not in TRUE_WORDS + FALSE_WORDS:
                    raise ValueError
                value: Any = lowered in TRUE_WORDS
            elif kind is InputFile:
                return self.accept(raw)
            else:
                value = kind(raw)
        except ValueError:
            raise ParameterError(f"--param {self.label}={raw}: expected {_kind_name(kind)}") from None
        except ParameterError as exc:
            raise ParameterError(f"--param {self.label}: {exc}") from None
        return self.accept(value)

    def accept(self, value: Any) -> Any:
        """``value`` as this parameter's type, checked against its bounds and choices.

        An int is accepted for a float; a path (str or Path) for a file, which is then read.
        """
        kind = self.kind
        if kind is InputFile:
            if isinstance(value, (str, Path)):
                value = InputFile.read(value, max_bytes=self.max_bytes) if str(value) else None
            if value is not None and not isinstance(value, InputFile):
                raise ParameterError(f"{self.label} must be a file")
            return value
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ParameterError(f"{self.label} must be {_kind_name(kind)}")
        if self.choices and value not in self.choices:
            raise ParameterError(f"{self.label} must be one of {', '.join(self.choices)}")
        if not self._within(value):
            raise ParameterError(f"{self.label} must be {self.bounds()}")
        return value

    def _within(self, value: Any) -> bool:
        return not ((self.above is not None and not value > self.above)
                    or (self.at_least is not None and not value >= self.at_least)
                    or (self.below is not None and not value < self.below)
                    or (self.at_most is not None and not value <= self.at_most))

    def bounds(self) -> str:
        """The allowed range in words: "> 0", ">= 2", "in (0, 0.1)", "in [0, 100)"."""
        if self.bound_text:
            return self.bound_text
        low = (self.above, "(") if self.above is not None else (self.at_least, "[")
        high = (self.below, ")") if self.below is not None else (self.at_most, "]")
        if low[0] is not None and high[0] is not None:
            return f"in {low[1]}{low[0]:g}, {high[0]:g}{high[1]}"
        if low[0] is not None:
            return f"{'>' if low[1] == '(' else '>='} {low[0]:g}"
        if high[0] is not None:
            return f"{'<' if high[1] == ')' else '<='} {high[0]:g}"
        return ""

    def record(self, value: Any) -> Any:
        """The value as a report records it (a file by path and hash)."""
        return value.record() if isinstance(value, InputFile) else value

    def describe(self) -> str:
        """One line for ``workbench analyses -v``."""
        default = "none" if self.default is None else f"{self.default}"
        unit = f" {self.unit}" if self.unit else ""
        rule = self.bounds() or (f"one of {', '.join(self.choices)}" if self.choices else "")
        kind = "file" if self.kind is InputFile else self.kind.__name__
        return f"{self.label} = {default}{unit} ({kind}{', ' + rule if rule else ''}): {self.meaning}"


def param(default: Any, meaning: str, **rules: Any) -> Any:
    """Declare an analysis parameter; see :class:`Param` for ``rules`` (bounds, choices, unit)."""
    return Param(default, meaning, **rules)


def declared(cls: type) -> dict[str, Param]:
    """The parameters ``cls`` declares, base classes' first, in declaration order."""
    found: dict[str, Param] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Param):
                found[name] = value
    return found


def _kind_name(kind: type) -> str:
    return {float: "a number", int: "a whole number", bool: "true or false", str: "text",
            InputFile: "a file"}.get(kind, kind.__name__)
