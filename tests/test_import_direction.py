"""The house stands in floors: every import runs down, never up, and never sideways between wings.

The floors, from the ground up (docs/architecture.md draws them):

0. ``workbench.core``: the Clip, Spectrogram, parameters, the analysis protocol, the report model,
   errors, atomic writes, hashing, the sandbox, container parsers, plotting primitives.
1. Three wings that stand on the floor alone: ``workbench.analyses``, ``workbench.reports`` and
   ``workbench.material`` (generated recordings with known content). None imports another.
2. The spine: intake, the registry, the pipeline, batch, case, verify, listening, the demo and the
   library call.
3. ``workbench.validation``: measures the product; the product never imports it.
4. The face: the command line.

Every import is read, at module level or inside a function alike, and no modules import each
other in a circle.
"""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

import pytest

PACKAGE = "workbench"
FLOORS: dict[str, tuple[int, str]] = {
    "workbench.core": (0, "core"),
    "workbench.analyses": (1, "analyses"),
    "workbench.reports": (1, "reports"),
    "workbench.material": (1, "material"),
    "workbench.validation": (3, "validation"),
    "workbench.cli": (4, "face"),
    "workbench.__main__": (4, "face"),
}
SPINE = (2, "spine")
"""Where a module of ``workbench`` that no entry above names stands."""


def _modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name, mapped folders included."""
    found = {}
    def walk(name: str, folder: Path) -> None:
        for path in sorted(folder.iterdir()):
            if path.suffix == ".py":
                found[name if path.stem == "__init__" else f"{name}.{path.stem}"] = path
            elif (path / "__init__.py").is_file():
                walk(f"{name}.{path.name}", path)
    walk(PACKAGE, Path(str(resources.files(PACKAGE))))
    for sub in ("analyses", "reports"):
        walk(f"{PACKAGE}.{sub}", Path(str(resources.files(f"{PACKAGE}.{sub}"))))
    return found


MODULES = _modules()


def place(module: str) -> tuple[int, str]:
    """The floor and the wing a module stands in."""
    prefix = max((p for p in FLOORS if module == p or module.startswith(p + ".")), key=len, default=None)
    return FLOORS.get(prefix, SPINE)


def floor(module: str) -> int:
    return place(module)[0]


def wing(module: str) -> str:
    return place(module)[1]


def imports(module: str) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, imported module, names taken) for every import of a workbench module in ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                found.append((node.lineno, target if target in MODULES else node.module, (alias.name,)))
    return [item for item in found if item[1] == PACKAGE or item[1].startswith(PACKAGE + ".")]


def test_the_package_is_read_whole():
    assert {"workbench.core.clip", "workbench.analyses.levels", "workbench.reports.html",
            "workbench.material.plant", "workbench.validation.suite", "workbench.cli"} <= set(MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_down(module):
    problems = []
    for line, target, names in imports(module):
        if target == PACKAGE:
            if names != ("__version__",):
                problems.append(f"line {line}: takes {names} from the package face")
            continue
        if floor(target) > floor(module):
            problems.append(f"line {line}: {target} stands above (floor {floor(target)} > {floor(module)})")
        elif floor(target) == floor(module) and wing(target) != wing(module):
            problems.append(f"line {line}: {target} is another wing of the same floor")
    assert not problems, f"{module}: " + "; ".join(problems)


def test_the_face_imports_nothing_at_import_time():
    """``import workbench`` stays cheap: the library call is imported when it is first asked for."""
    tree = ast.parse(MODULES[PACKAGE].read_text(encoding="utf-8"))
    assert not [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]


def test_a_planted_upward_import_is_caught(monkeypatch, tmp_path):
    """The walk would see an analysis that reached up into the pipeline."""
    planted = tmp_path / "levels.py"
    planted.write_text("def f():\n    from workbench.pipeline import analyze_clip\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "workbench.analyses.levels", planted)
    with pytest.raises(AssertionError, match="workbench.pipeline stands above"):
        test_imports_run_down("workbench.analyses.levels")


def circles() -> list[list[str]]:
    """Groups of modules that import each other, at module level or inside functions alike
    (Tarjan's strongly connected components of the import graph)."""
    graph = {m: {t for _, t, _ in imports(m) if t in MODULES and t != m} for m in MODULES}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other():
    assert circles() == []


def test_a_planted_circle_is_caught(monkeypatch, tmp_path):
    planted = tmp_path / "units.py"
    planted.write_text("def f():\n    from workbench.analyses.levels import Levels\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "workbench.analyses.common.units", planted)
    assert ["workbench.analyses.common.units", "workbench.analyses.levels"] in circles()
