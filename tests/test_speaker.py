"""The speaker encoder runs as an ONNX graph: these tests need no extra."""

import numpy as np
import pytest

from workbench.analyses.speaker import Speaker
from conftest import clip_of, flagged, lands_near
from fixtures import scenes
from workbench.analyses.common.comparable import Side
from workbench.analyses.comparison import compare as compare_declared, declarations
from workbench.core.clip import Clip
from workbench.core.errors import ParameterError
from workbench.core.model import jsonable
from workbench.registry import build


def compare(disputed, references):
    """The comparison over every built-in analysis's declarations."""
    return compare_declared(disputed, references, declarations(build()))


@pytest.mark.parametrize("seed, length_s", [(21, 8.0), (23, 4.0)])
def test_a_spliced_in_voice_is_found_where_it_is(seed, length_s):
    fixture = scenes.voice_splice(seed=seed, length_s=length_s)
    result = Speaker().run(clip_of(fixture))
    hits = flagged(result, "speaker_change")
    assert hits and lands_near(hits, fixture.truth[0], tolerance_s=1.0), hits
    assert all(lands_near([hit], fixture.truth[0], tolerance_s=4.0) for hit in hits)


@pytest.mark.parametrize("name, seed", [("a", 30), ("b", 31)])
def test_one_voice_throughout_raises_no_flag(name, seed):
    result = Speaker().run(clip_of(scenes.speaker(name, seed=seed, duration_s=40.0)))
    assert result.status == "ok"
    assert flagged(result, "speaker_change") == []
    assert len(result.measurements["embedding"]) == 256
    # 0-4 s and 36-40 s hold 7 encoder windows, not 8: left out, so the clip's edges cannot flag
    segments = result.measurements["segments"]
    assert [s["start_s"] for s in segments] == [4.0 * k for k in range(1, 9)]
    assert all(s["partials"] == 8 for s in segments)


def test_comparison_sets_speaker_embeddings_beside_the_references():
    run = lambda name, seed: Side(f"{name}{seed}", {"duration_s": 30.0}, {"speaker": jsonable(
        Speaker().run(clip_of(scenes.speaker(name, seed=seed, duration_s=30.0))).measurements)})
    refs = [run("a", seed) for seed in (41, 42, 43)]
    same = {r["measure"]: r for r in compare(run("a", 44), refs).measurements["rows"]}["speaker.similarity"]
    other = {r["measure"]: r for r in compare(run("b", 45), refs).measurements["rows"]}["speaker.similarity"]
    assert not same["outside"] and other["outside"]
    assert other["disputed"] < same["disputed"] - 0.05


def test_silence_is_skipped():
    assert Speaker().run(Clip.from_array(np.zeros(16000 * 5), 16000)).status == "skipped"


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError):
        Speaker(segment_s=1.0)
