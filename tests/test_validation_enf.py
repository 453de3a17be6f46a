"""The ENF tables: what they say when the corpus has no references, and how cases add up."""

from workbench.validation.enf import cite_enf, markdown_enf, run_enf, summary


def test_a_corpus_without_mains_references_is_not_run_and_says_so(tmp_path):
    results = run_enf(tmp_path)
    assert "no enf_whu_refs/" in results["not_run"]
    assert "Not run" in "\n".join(markdown_enf(results))
    rows = [{"kind": "enf_discontinuity"}]
    assert cite_enf(rows, results) == rows


def _results() -> dict:
    base = {"half": "measuring", "reference": "r", "profile": "fundamental", "start_s": 0.0}
    placement = [base | {"length_s": 120.0, "read": "44.1 kHz", "hum": True, "placed": True, "match": True, "below_db": 12.0},
                 base | {"length_s": 120.0, "read": "44.1 kHz", "hum": False, "placed": False, "match": None, "below_db": 38.0},
                 base | {"length_s": 120.0, "read": "400 Hz", "hum": True, "placed": False, "match": False, "below_db": 38.0}]
    wrong = [base | {"length_s": 120.0, "match": True}] + [base | {"length_s": 120.0, "match": False}] * 3
    cuts = [base | {"cut_s": 0.0, "duration_s": 1800.0, "hum": True, "flags": 1},
            base | {"cut_s": 1.0, "hum": True, "found": True},
            base | {"cut_s": 2.0, "hum": False, "found": False}]
    return {"references": {"tuning": ["a"], "measuring": ["r"]}, "hours": {"tuning": 0.2, "measuring": 0.2},
            "rule": "the rule", "placement": placement, "wrong_logs": wrong, "cuts": cuts,
            "genuine": [{"half": "measuring", "own_hum": True, "match": None}], "left_out": []}


def test_the_targets_count_the_measuring_half_at_the_wideband_read_and_say_why():
    results = _results()
    s = summary(results, "measuring")
    assert s["placed_120"] == [1, 2] and s["placed_120_with_hum"] == [1, 1]  # the 400 Hz read is its own row
    assert s["wrong_logs_silent"] == [3, 4] and s["cuts_found"] == [1, 2]
    assert s["false_flags"] == [1, 0.5]
    text = "\n".join(markdown_enf(results))
    assert "2-minute excerpts placed within 2 s: 1 of 2: 50%" in text and "not met" in text
    assert "false `enf_discontinuity` flags on uncut mixes: 2.0 per hour" in text
    assert "1 had no hum found (hum 38-38 dB under the speech)" in text
    cited = cite_enf([{"kind": "enf_discontinuity"}, {"kind": "clipping"}], results)
    assert cited[0]["real_enf"]["rule"] == "the rule" and "real_enf" not in cited[1]
