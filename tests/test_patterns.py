from workbench.reports.patterns import group_repeats


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
    entries = [_entry("clipping", 0.2)] + [_entry("digital_silence", 1.0 + k) for k in range(4)] + [_entry("clipping", 9.0)]
    entries.sort(key=lambda e: e["start_s"])
    from workbench.reports.patterns import place_numbers

    assert place_numbers(entries) == [1, 2, 2, 2, 2, 3]


def test_indicators_at_one_moment_are_one_place_and_others_stay_apart():
    from workbench.reports.patterns import AGREE_S, place_numbers

    join = [_entry("channel_change", 12.3, 0.0, analysis="consistency", strength=0.4),
            _entry("speaker_change", 10.0, 4.0, analysis="speaker", strength=0.7),
            _entry("discontinuity", 12.35, 0.001, analysis="discontinuity", strength=0.2)]
    apart = [_entry("clipping", 3.0), _entry("clipping", 14.6)]  # 0.6 s after the speaker segment ends
    entries = sorted(join + apart, key=lambda e: e["start_s"])
    grouped = group_repeats(entries, agree_s=AGREE_S)
    assert [e.get("agreement", False) for e in grouped] == [False, True, False]
    place = grouped[1]
    assert place["kind"] == "speaker_change + channel_change + discontinuity"
    assert place["analysis"] == "speaker, consistency, discontinuity"
    assert (place["start_s"], place["end_s"], place["strength"]) == (10.0, 14.0, 0.7)
    assert all(m["summary"] in place["summary"] for m in join)
    assert place_numbers(entries) == [1, 2, 2, 2, 3]
    assert group_repeats(entries) == entries  # notes and other lists are not merged unless asked


def test_breaks_at_the_ends_of_other_findings_join_them_before_repeats_are_grouped():
    """The demo clip: a break at the end of a silence, at both ends of a clipped stretch and at
    the start of an inverted one reads as four places, not a pattern of breaks across them."""
    from workbench.reports.patterns import AGREE_S, place_numbers

    entries = [_entry("digital_silence", 5.84, 0.3), _entry("discontinuity", 6.14, 0.0, analysis="discontinuity"),
               _entry("clipping", 12.15, 0.7), _entry("discontinuity", 12.15, 0.0, analysis="discontinuity"),
               _entry("discontinuity", 12.85, 0.0, analysis="discontinuity"),
               _entry("polarity_inversion", 18.0, 3.0, analysis="channels"),
               _entry("discontinuity", 18.0, 0.0, analysis="discontinuity"), _entry("dc_offset_change", 24.0, 0.0)]
    grouped = group_repeats(entries, agree_s=AGREE_S)
    assert [e["kind"] for e in grouped] == ["digital_silence + discontinuity", "clipping + discontinuity",
                                            "polarity_inversion + discontinuity", "dc_offset_change"]
    assert grouped[1]["count"] == 3 and not any(e.get("pattern") for e in grouped)
    assert place_numbers(entries) == [1, 1, 2, 2, 2, 3, 3, 4]
    many = [_entry("digital_silence", 1.0 + 0.3 * k, 0.1) for k in range(5)]  # one kind close together
    assert [e.get("pattern", False) for e in group_repeats(many, agree_s=AGREE_S)] == [True]
