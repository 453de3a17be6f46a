import pytest

from workbench import registry
from workbench.core.analysis import Analysis, Result, param
from workbench.core.errors import ParameterError


class Plugin(Analysis):
    name = "plugin_check"
    version = "0.1"
    description = "A third-party analysis."
    measures = "nothing"
    cannot_show = "anything"

    gain_db: float = param(1.0, "A gain.")
    enabled: bool = param(True, "Whether it is on.")
    label: str = param("x", "A label.")

    def run(self, clip):
        return Result(measurements={"gain_db": self.gain_db})


class FakeEntryPoint:
    def __init__(self, name, target):
        self.name, self.target = name, target

    def load(self):
        if isinstance(self.target, Exception):
            raise self.target
        return self.target


def with_plugins(monkeypatch, *points):
    monkeypatch.setattr(registry, "entry_points", lambda group: list(points))


def test_entry_point_plugins_join_the_registry(monkeypatch):
    with_plugins(monkeypatch, FakeEntryPoint("plugin_check", Plugin))
    names = list(registry.available())
    assert names[:4] == ["overview", "levels", "channels", "metadata"]
    assert names[-1] == "plugin_check"
    (built,) = registry.build(only=["plugin_check"], params={"plugin_check": {"gain_db": "2.5", "enabled": "no"}})
    assert built.parameters() == {"gain_db": 2.5, "enabled": False, "label": "x"}


@pytest.mark.parametrize(
    "target, message",
    [(ImportError("boom"), "cannot be loaded"), (object, "not a workbench Analysis")],
)
def test_broken_plugins_are_named(monkeypatch, target, message):
    with_plugins(monkeypatch, FakeEntryPoint("bad", target))
    with pytest.raises(ParameterError, match=message):
        registry.available()


def test_parse_params():
    assert registry.parse_params(["levels.a=1", "levels.b = x", "enf.reference=a=b.csv"]) == {
        "levels": {"a": "1", "b": "x"}, "enf": {"reference": "a=b.csv"},
    }
    for bad in ("levels", "levels.a", ".a=1", "levels.=1"):
        with pytest.raises(ParameterError):
            registry.parse_params([bad])


def test_only_and_skip_select_in_registry_order():
    names = [a.name for a in registry.build(only=["metadata", "overview"])]
    assert names == ["overview", "metadata"]
    assert "levels" not in [a.name for a in registry.build(skip=["levels"])]
    with pytest.raises(ParameterError, match="no analysis left"):
        registry.build(only=["levels"], skip=["levels"])


def test_int_and_bool_parameters_are_type_checked():
    (levels,) = registry.build(only=["levels"], params={"levels": {"min_clip_run_samples": "4"}})
    assert levels.min_clip_run_samples == 4
    with pytest.raises(ParameterError, match="expected a whole number"):
        registry.build(only=["levels"], params={"levels": {"min_clip_run_samples": "4.5"}})
