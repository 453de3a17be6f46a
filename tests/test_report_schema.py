"""The shipped JSON Schema of report.json: valid, of the current version, and able to refuse."""

import copy
import json
from importlib import resources

import jsonschema
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from workbench.cli import cli
from workbench.core.errors import ReportError
from workbench.core.model import FORMAT_VERSION, READABLE_VERSIONS, SCHEMA
from workbench.reports.writer import load_report


@pytest.fixture(scope="module")
def schema():
    return json.loads(resources.files("workbench.core").joinpath(SCHEMA).read_text())


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert CliRunner().invoke(cli, ["-q", "demo", "-o", str(out)]).exit_code == 0
    return json.loads((out / "report" / "report.json").read_text())


def test_the_schema_is_valid_and_of_the_version_written(schema):
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["format_version"] == {"const": FORMAT_VERSION}
    assert FORMAT_VERSION == max(READABLE_VERSIONS)


def test_the_demo_report_matches_and_every_analysis_entry_is_declared(schema, demo_report):
    Draft202012Validator(schema).validate(demo_report)
    assert demo_report["timeline"]  # the demo plants artifacts: findings are checked too


@pytest.mark.parametrize("break_it", [
    lambda r: r["analyses"][0]["findings"].append({"kind": "Bad Kind", "start_s": 0, "end_s": 1, "strength": 0.5,
                                                   "flagged": False, "summary": "", "details": {}}),
    lambda r: r["timeline"][0].update(strength=1.5),
    lambda r: r["analyses"][0].update(status="fine"),
    lambda r: r["analyses"][0].update(undeclared_field=1),
    lambda r: r["evidence"].update(sha256="not-a-hash"),
    lambda r: r["analyses"][0]["figures"].append("../../etc/passwd"),
    lambda r: r.pop("limitations"),
])
def test_a_report_that_breaks_the_format_is_refused(schema, demo_report, break_it):
    broken = copy.deepcopy(demo_report)
    break_it(broken)
    with pytest.raises(jsonschema.ValidationError):
        Draft202012Validator(schema).validate(broken)


def test_a_version_1_report_is_still_read_and_an_unknown_version_is_refused(tmp_path, demo_report):
    older = dict(demo_report, format_version=1)
    (tmp_path / "v1.json").write_text(json.dumps(older))
    assert load_report(tmp_path / "v1.json").format_version == 1
    (tmp_path / "v9.json").write_text(json.dumps(dict(demo_report, format_version=9)))
    with pytest.raises(ReportError, match="reads versions 1, 2"):
        load_report(tmp_path / "v9.json")
