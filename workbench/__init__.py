"""Audio evidence workbench: measure and show, for human review, how consistent a recording is.

The command line (``workbench analyze``) and the library call do the same work::

    import workbench

    report = workbench.analyze("disputed.m4a", "out/case-17")

The library's names (:mod:`workbench.library`) are imported when first asked for, so importing
the package, or any part of it, stays cheap.
"""

__version__ = "0.1.0"

LIBRARY = {"analyze": "workbench.library", "analyze_many": "workbench.library", "analyze_case": "workbench.library",
           "Options": "workbench.batch", "Batch": "workbench.batch", "Progress": "workbench.progress",
           "build": "workbench.registry"}
"""The public names, each with the module it comes from."""


def __getattr__(name: str):
    if name not in LIBRARY:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(LIBRARY[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *LIBRARY])
