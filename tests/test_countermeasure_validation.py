"""The back-end's choice, fit and tables on made-up model outputs with a known structure, and the
channels every recording is passed through."""

import numpy as np
import pytest

from workbench.analyses.common.logistic import Logistic, fit_logistic
from workbench.validation import countermeasure as C
from workbench.validation.channels import CHANNELS, telephone
from workbench.validation.synthetic import auc

DIMS = {"aasist_l": 160, "aasist_asvspoof5": 160, "rawnetlite": 64}


def _outputs(rng, synthetic: bool, windows: int = 2, shift: float = 3.0) -> dict:
    """Model outputs where eight embedding directions (rawnetlite[:8]) carry synthesis, the scores
    carry nothing, and everything else is noise."""
    out = {}
    for name, dims in DIMS.items():
        e = rng.normal(0, 1, (windows, dims))
        if name == "rawnetlite" and synthetic:
            e[:, :8] += shift
        out[f"embedding_{name}"] = e
        out[f"score_{name}"] = rng.normal(0, 1, windows)
    return out


def _measured(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for half, families, sources in (("tuning", ("WaveNet", "MelGAN", "Tacotron 2"), ("s1", "s2")),
                                    ("measuring", ("VITS", "YourTTS"), ("s3", "s4"))):
        for i, source in enumerate(sources):
            for k in range(8):
                rows.append({"path": f"/c/{source}/g{k}.flac", "sha256": "0" * 64, "source": source, "label": "genuine",
                             "family": "", "speaker": "spk", "pair_group": f"{source}:{k}", "half": half,
                             "views": {v: _outputs(rng, False) for v in C.VIEWS}})
        for j, family in enumerate(families):
            source = sources[j % len(sources)]
            for k in range(10):
                rows.append({"path": f"/c/{source}/{family}{k}.flac", "sha256": "1" * 64, "source": source,
                             "label": "synthetic", "family": family, "speaker": "spk", "pair_group": f"{source}:{k}",
                             "half": half, "views": {v: _outputs(rng, True) for v in C.VIEWS}})
    return rows


def test_logistic_regression_finds_the_separating_direction_and_round_trips():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (200, 5))
    y = (x[:, 2] > 0).astype(int)
    model = fit_logistic(x, y, l2=1e-3)
    assert np.argmax(np.abs(model.weights)) == 2 and model.weights[2] > 0
    assert auc(model.score(x[y == 0]), model.score(x[y == 1])) > 0.99
    again = Logistic.from_dict(model.to_dict())
    assert again.score(x) == pytest.approx(model.score(x))


def test_a_fitted_candidate_that_reads_the_carrying_embedding_generalises_to_unseen_families():
    measured = _measured()
    tuning = [r for r in measured if r["half"] == "tuning"]
    carrying = C.Candidate("rawnetlite", ("embedding_rawnetlite",))
    blind = C.Candidate("scores", C.SCORES)
    l2, held_out = C.tune(tuning, carrying)
    assert l2 in C.L2_GRID and held_out > 0.9
    assert C.tune(tuning, blind)[1] < 0.75
    rows = C.view_rows(measured, carrying, C.fit(tuning, carrying, l2))
    pooled = C._row(rows, "measuring", "published", "pooled")
    assert pooled["genuine"] == 16 and pooled["synthetic"] == 20 and pooled["auc"] > 0.9
    families = {r["group"]: r for r in rows if r["half"] == "measuring" and r["view"] == "family"}
    assert set(families) == {"VITS", "YourTTS"} and all(r["synthetic"] == 10 for r in families.values())
    assert C._row(rows, "measuring", "within source", "mean over sources")["sources"] == 2
    assert C._row(rows, "measuring", "paired", "utterances recorded and synthesised")["pairs"] == 16  # utterances 0-7 of each source, in two families


def test_the_reference_reading_uses_only_other_genuine_recordings_of_the_speaker():
    measured = _measured()
    candidate = C.Candidate("rawnetlite score", ("score_rawnetlite",), fitted=False)
    rows = C.reference_rows(measured, candidate, None)
    ref = next(r for r in rows if r["half"] == "measuring" and r["view"].startswith("against"))
    # every measuring recording has 7 or 8 other genuine ones of "spk" in its source
    assert ref["genuine"] == 16 and ref["synthetic"] == 20 and ref["speakers"] == 2
    assert 0.2 < ref["auc"] < 0.8  # the raw scores carry nothing: chance, against references too


def test_the_run_chooses_by_the_tuning_half_and_writes_the_tables(monkeypatch):
    measured = _measured()
    monkeypatch.setattr(C, "measure_all", lambda *a, **k: (measured, []))
    monkeypatch.setattr(C, "CANDIDATES", (C.CANDIDATES[0], C.Candidate("scores", C.SCORES),
                                          C.Candidate("rawnetlite embedding", ("embedding_rawnetlite",))))
    results = C.run_countermeasure(__import__("pathlib").Path("/c"), None, None)
    chosen = next(c for c in results["candidates"] if c["name"] == results["chosen"])
    assert chosen["held_out_auc"] == max(c["held_out_auc"] for c in results["candidates"] if c["l2"] is not None)
    assert results["chosen"] == "rawnetlite embedding"
    text = C.markdown_countermeasure(results)
    assert "**(shipped)**" in text and "### Targets (measuring families)" in text
    cite = C.cite_countermeasure(results)
    assert cite["views"]["published"]["auc"] > 0.9 and cite["read_first"] in ("references", "absolute")
    assert results["shipped_differs"] is False


def test_the_telephone_channel_keeps_the_band_and_the_length():
    rate = 16000
    t = np.arange(rate) / rate
    y = 0.3 * np.sin(2 * np.pi * 1000 * t) + 0.3 * np.sin(2 * np.pi * 6000 * t)
    out = telephone(y)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    freqs = np.fft.rfftfreq(out.size, 1 / rate)
    assert out.size == y.size
    assert spectrum[np.argmin(np.abs(freqs - 6000))] < 1e-3 * spectrum[np.argmin(np.abs(freqs - 1000))]


@pytest.mark.parametrize("name", ["mp3_32", "opus_24"])
def test_the_codec_channels_give_back_16_khz_audio_of_about_the_same_length(name):
    rng = np.random.default_rng(2)
    y = rng.normal(0, 0.1, 32000)
    out = CHANNELS[name](y)
    assert abs(out.size - y.size) < 4000 and 0.02 < np.std(out) < 0.2
