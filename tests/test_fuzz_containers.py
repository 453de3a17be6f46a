"""Hostile containers (bounded here; ``make fuzz`` runs longer) and decoder chatter."""

import functools
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.hostile import SEEDS, mutate, structure_offsets
from fuzz import fuzz, run_case
from workbench.core.containers import READERS, sniff


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_every_seed_opens_and_its_structure_is_found(kind, tmp_path):
    data = SEEDS[kind]()
    assert len(structure_offsets(kind, data)) >= 2
    assert run_case(kind, data, tmp_path) is None


def test_a_bounded_fuzz_run_finds_nothing():
    summary = fuzz(cases=60, seed=1)
    assert sum(summary["tried"].values()) == 60 and all(summary["tried"].values())
    assert summary["findings"] == []


def test_mutations_change_the_bytes():
    rng = np.random.default_rng(3)
    data = SEEDS["wav"]()
    assert all(mutate("wav", data, rng)[0] != data for _ in range(20))


def test_decoder_chatter_never_reaches_the_terminal_and_is_noted(tmp_path):
    """Random bytes inside a valid MP3 make libmpg123 print 'Note: Illegal Audio-MPEG-Header';
    the user sees only the workbench's own lines, and the report notes the decoder's messages."""
    data = SEEDS["mp3"]()
    damaged = data[:1200] + bytes(np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8)) + data[1200:]
    clip = tmp_path / "damaged.mp3"
    clip.write_bytes(damaged)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(np.random.default_rng(6).integers(0, 256, 50000, dtype=np.uint8)))
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "workbench", "analyze", str(clip), str(junk), "-o", str(out),
                          "--only", "overview"], capture_output=True, text=True)
    assert run.returncode == 3
    assert run.stderr.strip().splitlines() == [f"workbench: error: {junk}: is not a recognised audio or video file"]
    report = (out / "damaged" / "report.json").read_text()
    assert "the decoder printed" in report


READER_SEEDS = {"wav": "wav", "ogg": "ogg", "opus": "ogg", "mp3": "mp3", "m4a": "mp4"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(READER_SEEDS)), seed=st.integers(0, 2**32 - 1))
def test_structure_readers_never_raise_on_mutated_files(kind, seed):
    """Each reader itself (not only read_structure's guard) returns a listing, with what did
    not parse in ``errors``, for any mutation of a real file."""
    data, _ = mutate(kind, _seed_bytes(kind), np.random.default_rng(seed))
    if sniff(data[:16]) != READER_SEEDS[kind]:
        return  # the mutation hit the signature: read_structure would not call this reader
    found = READERS[READER_SEEDS[kind]](data)
    assert isinstance(found["errors"], list)
    json.dumps(found, default=lambda value: value.tolist())


@functools.lru_cache(maxsize=None)
def _seed_bytes(kind: str) -> bytes:
    return SEEDS[kind]()
