import json
import math

import numpy as np

from workbench.core.model import AnalysisEntry, Finding, Report, jsonable


def test_jsonable_converts_numpy_and_non_finite():
    value = {"a": np.float32(1.5), "b": np.array([1, 2]), "c": float("nan"), "d": (np.bool_(True),),
             "e": math.inf}
    assert jsonable(value) == {"a": 1.5, "b": [1, 2], "c": None, "d": [True], "e": None}


def test_finding_strength_is_clamped():
    assert Finding("x", 0, 1, 3.0, True, "s").strength == 1.0
    assert Finding("x", 0, 1, -2.0, True, "s").strength == 0.0


def test_report_round_trips_through_json():
    report = Report(
        tool={"name": "t"}, run={"command": "c"}, evidence={"sha256": "a", "sha256_after": "a"},
        analyses=[AnalysisEntry(name="levels", version="1.0", status="ok",
                                findings=[Finding("clipping", 2.0, 2.5, 0.5, True, "s"),
                                          Finding("note", 0.0, 9.0, 0.1, False, "n")])],
        limitations=["l"], figures={"timeline": "figures/timeline.png"},
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data["timeline"] == [{"analysis": "levels", "kind": "clipping", "start_s": 2.0, "end_s": 2.5,
                                 "strength": 0.5, "flagged": True, "summary": "s", "details": {}}]
    again = Report.from_dict(data)
    assert again.to_dict() == data
    assert not again.evidence_changed and again.errored == []


def test_measurement_display_rounds_nested_values():
    from workbench.reports.html import fmt

    assert fmt([[1.0, 0.876915483], [0.876915483, 1.0]]) == "[[1.0, 0.8769], [0.8769, 1.0]]"
    assert fmt(-0.000265123) == "-0.0002651"
    assert fmt(True) == "yes" and fmt(None) == "—" and fmt([1.5, 2]) == "1.5, 2"
