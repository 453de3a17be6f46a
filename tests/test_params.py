import hashlib

import pytest

from workbench.core.analysis import Analysis, InputFile, Result, param, require
from workbench.core.errors import ParameterError


class Example(Analysis):
    name = "example"
    version = "0"
    description = measures = cannot_show = "-"

    window_s: float = param(0.5, "A window.", above=0)
    share: float = param(0.1, "A share.", at_least=0, below=1)
    count: int = param(3, "A count.", at_least=2)
    on: bool = param(True, "A switch.")
    mode: str = param("a", "A mode.", choices=("a", "b"))
    table: InputFile | None = param(None, "A table.", max_bytes=100)
    low_hz: float = param(10.0, "Bottom.", above=0)
    high_hz: float = param(20.0, "Top.", above=0)

    def check(self):
        require(self.low_hz < self.high_hz, "example.low_hz must be below high_hz")

    def run(self, clip):
        return Result()


def test_defaults_units_and_descriptions_come_from_the_declaration():
    example = Example()
    assert example.window_s == 0.5 and example.count == 3 and example.table is None
    fields = Example.declared_parameters()
    assert list(fields)[:3] == ["window_s", "share", "count"]
    assert fields["window_s"].unit == "s" and fields["low_hz"].unit == "Hz" and fields["share"].unit == ""
    assert fields["share"].describe() == "example.share = 0.1 (float, in [0, 1)): A share."
    assert Example(count=4).count == 4 and Example.window_s is fields["window_s"]


@pytest.mark.parametrize("values, message", [
    ({"window_s": 0}, "example.window_s must be > 0"),
    ({"share": 1.0}, r"example.share must be in \[0, 1\)"),
    ({"count": 1}, "example.count must be >= 2"),
    ({"count": 2.5}, "must be a whole number"),
    ({"on": "yes"}, "must be true or false"),
    ({"mode": "c"}, "must be one of a, b"),
    ({"low_hz": 30.0}, "low_hz must be below high_hz"),
    ({"nosuch": 1}, "has no parameter 'nosuch'"),
])
def test_bad_values_are_refused_with_the_rule(values, message):
    with pytest.raises(ParameterError, match=message):
        Example(**values)


def test_text_is_converted_by_the_annotation():
    fields = Example.declared_parameters()
    assert fields["count"].from_text("7") == 7
    assert fields["window_s"].from_text("2") == 2.0
    assert fields["on"].from_text("No") is False
    with pytest.raises(ParameterError, match="expected a whole number"):
        fields["count"].from_text("7.5")
    with pytest.raises(ParameterError, match="expected true or false"):
        fields["on"].from_text("maybe")


def test_a_file_parameter_is_read_hashed_and_capped(tmp_path):
    table = tmp_path / "t.csv"
    table.write_bytes(b"1,2\n")
    value = Example.declared_parameters()["table"].from_text(str(table))
    assert value.data == b"1,2\n" and value.sha256 == hashlib.sha256(b"1,2\n").hexdigest()
    assert Example(table=value).parameters()["table"] == {"path": str(table), "sha256": value.sha256, "bytes": 4}
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 101)
    with pytest.raises(ParameterError, match="more than the 100 accepted"):
        Example(table=str(big))
    with pytest.raises(ParameterError, match="no such file"):
        Example.declared_parameters()["table"].from_text(str(tmp_path / "missing"))
    with pytest.raises(ParameterError, match="no such file"):
        Example(table=str(tmp_path))
