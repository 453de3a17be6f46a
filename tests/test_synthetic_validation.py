import numpy as np
import pytest

from workbench.validation.synthetic import auc, eer, markdown_cues, separation_row


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
    text = markdown_cues({"rows": [{"cue": "c", "half": "all", **row}, {"cue": "c", "half": "all", **lone}],
                          "left_out": []})
    assert "| `c` | all | one each | 1 | 1 | 1.00 (too few) |" in text
    assert f"| `c` | all | family | 20 | 20 | {row['auc']:.2f} ({row['auc_95'][0]:.2f}-{row['auc_95'][1]:.2f}) |" in text


def test_cues_are_measured_on_every_labelled_recording_and_read_per_half(tmp_path):
    """A synthetic recording with exact zero between its phrases against a genuine one without:
    the zero-run cue separates them completely, the native-rate cue not at all."""
    import csv

    import soundfile as sf

    from workbench.material import plant
    from fixtures import scenes
    from workbench.core.hashing import sha256_file
    from workbench.registry import available
    from workbench.validation.synthetic import markdown_cues, run_cues

    root = tmp_path / "corpus"
    rows = []
    for name, label, seed, zeros in (("a.wav", "genuine", 5, ()), ("b.wav", "synthetic", 6, (3.0, 6.0, 9.0))):
        samples = scenes.clean(seed=seed, duration_s=12.0, sample_rate_hz=16000).samples
        for at in zeros:
            samples, _ = plant.digital_silence(samples, 16000, start_s=at, length_s=0.1)
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, samples, 16000, subtype="PCM_16")
        rows.append({"path": f"src/{name}", "label": label, "sha256": sha256_file(path)})
    with (root / "MANIFEST.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["path", "label", "sha256"])
        writer.writeheader()
        writer.writerows(rows)
    analyses = {name: cls() for name, cls in available().items() if name in ("levels", "bandwidth")}
    results = run_cues(root, analyses)
    by = {(r["cue"], r["half"], r["group"]): r for r in results["rows"]}
    assert by[("exact_zero_runs_per_min", "measuring", "pooled")]["auc"] == 1.0
    assert by[("lower_native_rate", "measuring", "pooled")]["auc"] == 0.5
    zeros = {r["label"]: r["exact_zero_runs_per_min"] for r in results["measured"]}
    assert zeros == {"genuine": 0.0, "synthetic": pytest.approx(3 / 0.2, rel=0.01)}
    assert "| `exact_zero_runs_per_min` | measuring | pooled | 1 | 1 | 1.00 (too few) |" in markdown_cues(results)
