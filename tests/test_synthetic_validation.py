import numpy as np
import pytest

from workbench.validation.synthetic import auc, eer, markdown_synthetic, separation_row


def test_auc_and_eer_of_separated_overlapping_and_equal_scores():
    assert auc([0, 1], [2, 3]) == 1.0 and eer([0, 1], [2, 3]) == 0.0
    assert auc([2, 3], [0, 1]) == 0.0
    assert auc([1, 1], [1, 1]) == 0.5
    assert auc([0, 2], [1, 3]) == 0.75  # 3 of the 4 pairs are in order


def test_a_row_has_bootstrap_intervals_only_with_two_recordings_a_side():
    rng = np.random.default_rng(0)
    row = separation_row("family", list(rng.normal(0, 1, 20)), list(rng.normal(2, 1, 20)))
    assert 0.8 < row["auc"] <= 1.0 and row["auc_95"][0] <= row["auc"] <= row["auc_95"][1]
    assert 0.0 <= row["eer_95"][0] <= row["eer"] <= row["eer_95"][1] <= 0.5
    lone = separation_row("one each", [0.0], [1.0])
    assert lone["auc"] == 1.0 and lone["auc_95"] is None
    text = markdown_synthetic({"model": "AASIST-L", "rows": [{"half": "all", **row}, {"half": "all", **lone}],
                               "left_out": []})
    assert "| all | one each | 1 | 1 | 1.00 (too few) |" in text
    assert f"| all | family | 20 | 20 | {row['auc']:.2f} ({row['auc_95'][0]:.2f}-{row['auc_95'][1]:.2f}) |" in text
