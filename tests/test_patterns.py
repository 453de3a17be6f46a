from reports.patterns import group_repeats


def _entry(kind, start_s, length_s=0.1, analysis="levels", strength=0.5):
    return {"analysis": analysis, "kind": kind, "start_s": start_s, "end_s": start_s + length_s,
            "strength": strength, "summary": f"{kind} at {start_s}"}


def test_fourteen_pauses_are_one_pattern_and_a_pair_stays_two_lines():
    pauses = [_entry("digital_silence", 1.0 + 3 * k, length_s=0.058 + 0.018 * k) for k in range(14)]
    other = [_entry("metadata_note", 0.0, 0.0, analysis="metadata"), _entry("clipping", 5.5), _entry("clipping", 9.0)]
    entries = sorted(pauses + other, key=lambda e: e["start_s"])
    grouped = group_repeats(entries)
    assert [e.get("pattern", False) for e in grouped] == [False, True, False, False]
    pattern = grouped[1]
    assert pattern["count"] == 14 and pattern["members"] == pauses
    assert pattern["start_s"] == 1.0 and pattern["end_s"] == pauses[-1]["end_s"]
    assert [round(v, 3) for v in pattern["length_s_range"]] == [0.058, 0.292]


def test_the_same_kind_of_two_analyses_is_not_merged():
    entries = [_entry("note", t, analysis=a) for a in ("x", "y") for t in (1.0, 2.0)]
    assert group_repeats(entries) == entries


def test_members_of_a_pattern_share_its_place_number():
    entries = [_entry("clipping", 0.5)] + [_entry("digital_silence", 1.0 + k) for k in range(4)] + [_entry("clipping", 9.0)]
    entries.sort(key=lambda e: e["start_s"])
    from reports.patterns import place_numbers

    assert place_numbers(entries) == [1, 2, 2, 2, 2, 3]
