"""Property-based fuzzing of evidence intake: whatever bytes a file holds, intake either returns
a Clip or raises the project's own EvidenceError with a clear message. Bounded for CI."""

import io

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.errors import EvidenceError
from workbench.evidence import open_evidence


def valid(fmt: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    t = np.arange(4000) / 8000
    sf.write(buffer, 0.3 * np.sin(2 * np.pi * 300 * t), 8000, format=fmt, subtype=subtype)
    return buffer.getvalue()


SEEDS = {"wav": valid("WAV", "PCM_16"), "flac": valid("FLAC", "PCM_16"), "ogg": valid("OGG", "VORBIS")}

mutation = st.tuples(
    st.sampled_from(sorted(SEEDS)),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=12),
    st.one_of(st.none(), st.integers(1, 4000)),
)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation)
def test_mutated_files_give_a_clip_or_a_clear_evidence_error(tmp_path, case):
    name, edits, cut = case
    data = bytearray(SEEDS[name])
    for offset, value in edits:  # headers live in the first bytes: mutate there
        if offset < len(data):
            data[offset] = value
    if cut is not None:
        data = data[:cut]
    path = tmp_path / f"fuzz.{name}"
    path.write_bytes(bytes(data))
    try:
        clip = open_evidence(path)
    except EvidenceError as exc:
        message = str(exc)
        assert message and "\n" not in message and len(message) < 500
        return
    assert clip.frames > 0 and clip.sample_rate_hz > 0
    assert np.isfinite(clip.samples).all()
