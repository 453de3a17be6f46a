"""Finding kinds and measurement keys are declared in code beside the analysis that owns them; the
README's table of strengths, the planters of validation, the keys the HTML's first page reads and
every report the tests write are held against them."""

from __future__ import annotations

from pathlib import Path

from conftest import undeclared
from workbench.registry import BUILTINS
from workbench.reports.html import READS
from workbench.validation.planters import PLANTERS, REFERENCE_PLANTERS

README = Path(__file__).resolve().parents[1] / "README.md"
HEADER = "| finding | strength |"


def strength_table() -> list[str]:
    """The README's table of strengths as the declarations write it, built-in analyses in run order."""
    rows = [HEADER, "| --- | --- |"]
    for cls in BUILTINS:
        for kind in cls.kinds:
            noted = "" if kind.flagged else "; noted, never flagged"
            rows.append(f"| `{kind.name}` | {kind.strength}{noted} |")
    return rows


def test_each_kind_is_declared_once():
    names = [kind.name for cls in BUILTINS for kind in cls.kinds]
    assert len(names) == len(set(names))


def test_the_readme_table_of_strengths_is_the_declarations():
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER)
    end = lines.index("", start)
    expected = strength_table()
    assert lines[start:end] == expected, "README.md's table should read:\n" + "\n".join(expected)


def test_the_readme_names_each_kind_where_it_describes_its_analysis():
    """The table of analyses names every kind an analysis declares in its row; the comparison,
    which has a section of its own, names its kinds there."""
    text = README.read_text(encoding="utf-8")
    start = text.index("### Comparison with reference recordings")
    comparison = text[start:text.index("\n#", start + 1)]
    for cls in BUILTINS:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{cls.name}` |")), None)
        where = row if row is not None else comparison
        assert not [kind.name for kind in cls.kinds if f"`{kind.name}`" not in where], cls.name


def test_every_planted_kind_is_declared_and_flaggable():
    declared = {kind.name: kind for cls in BUILTINS for kind in cls.kinds}
    for kind in [*PLANTERS, *REFERENCE_PLANTERS]:
        assert kind in declared and declared[kind].flagged, kind


def test_what_the_first_page_reads_is_declared_by_its_analysis():
    declared = {cls.name: cls.measurement_keys for cls in BUILTINS}
    for name, keys in READS.items():
        assert set(keys) <= set(declared[name]), name


def test_an_undeclared_kind_or_measurement_is_caught():
    finding = {"kind": "clipping", "flagged": True}
    report = {"analyses": [
        {"name": "levels", "findings": [finding, {**finding, "kind": "hiss"}], "measurements": {"clipped_samples": 3}},
        {"name": "bandwidth", "findings": [{"kind": "upsampled", "flagged": True}], "measurements": {"hiss_db": 1}},
        {"name": "a-plug-in", "findings": [{"kind": "anything", "flagged": True}], "measurements": {"x": 1}}]}
    assert undeclared(report) == ["levels: hiss (flagged: True)", "bandwidth: upsampled (flagged: True)",
                                  "bandwidth: measurement hiss_db"]
