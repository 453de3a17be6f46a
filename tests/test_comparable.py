"""Every measurement an analysis declares comparable exists in a real report, so renaming a
measurement cannot drop its comparison row silently."""

import pytest

from workbench.analyses.comparison import EVIDENCE, declarations
from fixtures import scenes
from workbench.evidence import open_evidence
from workbench.pipeline import Request, analyze_clip
from workbench.registry import build


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    clip = open_evidence(scenes.clean(seed=5, duration_s=20.0, sample_rate_hz=16000).write(folder / "clean.wav"))
    return analyze_clip(clip, folder / "out", Request(build(), "test", formats=("json",)))


def test_every_declared_comparable_key_is_in_a_real_report(report):
    measured = {entry.name: entry for entry in report.analyses}
    checked = 0
    for analysis, items in declarations(build()):
        for declaration in items:
            for owner, key in declaration.keys():
                owner = owner or analysis
                if owner == "evidence":
                    assert key in report.evidence, key
                else:
                    assert measured[owner].status == "ok", (owner, measured[owner].message)
                    assert key in measured[owner].measurements, f"{owner}.{key} is declared but not measured"
                checked += 1
    assert checked >= 30


def test_every_analysis_with_comparable_measures_is_declared_once():
    names = [name for name, _ in declarations(build())]
    assert names[0] == "evidence" and len(names) == len(set(names))
    assert {"voice", "bandwidth", "enf", "noise_floor", "speaker", "metadata"} <= set(names)
    assert len(dict(declarations(build()))["evidence"]) == len(EVIDENCE)
