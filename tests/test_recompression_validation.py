"""The double-compression table: genuine recordings encoded once and twice, each answer counted."""

import pytest

from workbench.analyses.container import Container
from test_realset import _corpus
from workbench.validation.recompression import (
    PAIRS, QUICK_PAIRS, cite_recompression, clopper_pearson, markdown_recompression, run_recompression,
)


def test_clopper_pearson_is_exact_at_the_edges_and_holds_the_share():
    assert clopper_pearson(0, 10)[0] == 0.0 and clopper_pearson(0, 10)[1] == pytest.approx(0.3085, abs=1e-4)
    assert clopper_pearson(10, 10) == [pytest.approx(0.6915, abs=1e-4), 1.0]
    low, high = clopper_pearson(3, 10)
    assert low < 0.3 < high and clopper_pearson(0, 0) is None


def test_each_lossless_genuine_recording_is_encoded_once_and_twice_and_answered(tmp_path):
    results = run_recompression(_corpus(tmp_path), Container(), quick=True)
    left = {r["path"].rsplit("/", 1)[-1] for r in results["left_out"]}
    assert left == {"tampered.wav"}  # its hash differs from the manifest; tts.wav is not genuine
    per_file = len([first for _, firsts in QUICK_PAIRS["wide"] for first in firsts])
    assert len(results["cases"]) == 2 * per_file
    answers = {(c["half"], c["final_kbps"], c["first_kbps"]): c["answer"] for c in results["cases"]}
    # 16 kHz speech: one encoding keeps the band; a first one at 24 kbps (5.85 kHz) narrows it
    assert answers[("tuning", 128, None)] is False and answers[("measuring", 128, None)] is False
    assert answers[("tuning", 128, 24)] is True and answers[("measuring", 128, 24)] is True
    cited = cite_recompression(results)
    assert cited["false_alarm"] == {"files": 1, "yes": 0, "yes_share": 0.0, "yes_95": [0.0, 0.975], "cannot_tell": 0}
    assert cited["detected"]["yes"] == cited["detected"]["files"] == 1
    text = markdown_recompression(results)
    assert "| measuring | one encoding | 1 | 0 of 1: 0% (0%-98%) | 0 |" in text
    assert "| tuning | 16000 | 128 | 24 | 1 | 1 of 1: 100% (3%-100%) | 0 |" in text
    assert len(PAIRS["wide"][1][1]) > len(QUICK_PAIRS["wide"][0][1])  # make validate runs every pair
