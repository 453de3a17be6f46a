"""Shared pytest fixtures: seeded RNG, generated evidence files and helpers to run analyses."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from fixtures import scenes
from workbench.core.clip import Clip
from workbench.core.model import SCHEMA
from workbench.registry import BUILTINS
from workbench.reports import writer


def undeclared(report: dict) -> list[str]:
    """What a built-in analysis put in a report without declaring it: findings of a kind it does
    not declare, or flagged though their kind is only ever noted, and measurement keys."""
    builtins = {cls.name: cls for cls in BUILTINS}
    problems = []
    for entry in report["analyses"]:
        cls = builtins.get(entry["name"])
        if cls is None:
            continue
        kinds = {kind.name: kind for kind in cls.kinds}
        for finding in entry["findings"]:
            kind = kinds.get(finding["kind"])
            if kind is None or (finding["flagged"] and not kind.flagged):
                problems.append(f"{entry['name']}: {finding['kind']} (flagged: {finding['flagged']})")
        problems += [f"{entry['name']}: measurement {key}" for key in entry["measurements"]
                     if key not in cls.measurement_keys]
    return problems


@pytest.fixture(scope="session", autouse=True)
def reports_match_their_schema():
    """Every report.json the tests write in this process (and its forked workers) is checked
    against the shipped JSON Schema as it is serialised, and what each built-in analysis put in it
    against what that analysis declares (finding kinds, measurement keys); a report that does not
    match fails the run that wrote it."""
    validator = Draft202012Validator(json.loads(resources.files("workbench.core").joinpath(SCHEMA).read_text()))
    serialise = writer.report_json

    def checked(report) -> str:
        text = serialise(report)
        validator.validate(json.loads(text))
        problems = undeclared(json.loads(text))
        assert not problems, f"undeclared in a report: {problems}"
        return text

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "report_json", checked)
        yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def clip_of(fixture: scenes.Fixture) -> Clip:
    """An in-memory Clip of a generated fixture."""
    return Clip.from_array(fixture.samples, fixture.sample_rate_hz)


def flagged(result, kind: str) -> list:
    return [f for f in result.findings if f.flagged and f.kind == kind]


def lands_near(findings, planted, tolerance_s: float = 0.5) -> bool:
    """True when a finding overlaps the planted span widened by ``tolerance_s`` on each side."""
    return any(
        f.start_s <= planted.end_s + tolerance_s and f.end_s >= planted.start_s - tolerance_s
        for f in findings
    )


@pytest.fixture(scope="session")
def clean_wav(tmp_path_factory) -> Path:
    """A clean 12 s mono 16 kHz 16-bit WAV with its truth beside it."""
    folder = tmp_path_factory.mktemp("clean")
    return scenes.clean(seed=3, duration_s=12.0, sample_rate_hz=16000).write(folder / "clean.wav")


@pytest.fixture(scope="session")
def artifacts_wav(tmp_path_factory) -> Path:
    """A 24 s mono 16 kHz WAV with digital silence, clipping and a DC step planted."""
    folder = tmp_path_factory.mktemp("artifacts")
    return scenes.level_artifacts(seed=4, sample_rate_hz=16000).write(folder / "artifacts.wav")
