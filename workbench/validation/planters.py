"""How validation plants each finding kind into a recording, at three strengths, keyed by kind.

A planter is ``plant(x, sr, rng, duration_s, level, condition) -> (samples, [Planted])``: it plants
its kind at ``level``, one of its ``levels`` (weak, moderate, strong); ``condition`` is the base
recording's (its ``room_dbfs`` is the room tone's level). The analysis that owns a kind is the one
that declares it (``Analysis.kinds``); no analysis knows how it is planted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from workbench.analyses.discontinuity import local_error_rms
from workbench.material import plant


@dataclass(frozen=True)
class Planter:
    """How to plant one kind: the function, its weak, moderate and strong levels, and whether it
    needs two channels."""

    plant: Callable
    levels: tuple[float, float, float]
    stereo: bool = False


def _clip_over(x, sr, rng, duration_s, over_db, condition):
    """Clip a 0.5 s stretch driven ``over_db`` past full scale (relative to its own peak)."""
    start_s = plant.in_signal(rng, duration_s)
    span = x[int(start_s * sr) : int((start_s + 0.5) * sr)]
    peak_db = 20 * np.log10(np.max(np.abs(span)) + 1e-12)
    return plant.one(plant.clipping(x, sr, start_s=start_s, length_s=0.5, gain_db=over_db - peak_db))


def _band_limited_insert(x, sr, rng, duration_s, cutoff, condition):
    """Low-pass a 6 s stretch at ``cutoff`` times the sample rate (material from a narrower source)."""
    span = plant.span_s(duration_s, 6.0)
    return plant.band_limit(x, sr, start_s=plant.in_signal(rng, duration_s) - span / 2, length_s=span,
                            cutoff_hz=cutoff * sr)


def _noisier_room(x, sr, rng, duration_s, above_db, condition):
    """Add white noise ``above_db`` over the room tone's level for 8 s (another room)."""
    span = plant.span_s(duration_s, 8.0)
    return plant.noise_floor_change(x, sr, start_s=plant.in_signal(rng, duration_s) - span / 2, length_s=span,
                                    level_dbfs=condition.room_dbfs + above_db, seed=int(rng.integers(1 << 30)))


def splice_with_departure(x, sr, rng, duration_s, target, condition):
    """A butt splice whose departure is within 10 % of ``target`` (full scale): the first sample
    after the join differs by that much from the sample the original had there (what the
    waveform would have done). The reference table's definition of strength."""
    return _splice(x, sr, rng, duration_s, target, None)


def splice_by_visibility(x, sr, rng, duration_s, target, condition):
    """A butt splice whose visibility is within 10 % of ``target``: its departure over the RMS of
    the forward prediction error within 30 ms of the join (the detector's predictor). The same
    visibility is equally plain at every rate; a fixed departure is a 60-sigma event at 48 kHz
    and a 3-sigma one in an 8 kHz noisy room."""
    return _splice(x, sr, rng, duration_s, target, lambda start: local_error_rms(x[:, 0], sr, start))


def _splice(x, sr, rng, duration_s, target, scale):
    """Removals of 50-500 ms tried at up to 20 places in the middle of the recording (in a pause
    the waveform may never move that far); the one whose departure / ``scale(start)`` is
    nearest ``target``, or the first within 10 % of it. ``scale`` None: the departure itself
    (full scale), and no visibility is recorded."""
    best = None
    lengths = np.arange(int(0.05 * sr), int(0.5 * sr))
    for _ in range(20):
        start = int(plant.in_signal(rng, duration_s) * sr)
        unit = 1.0 if scale is None else scale(start)
        if unit <= 0:
            continue
        departures = np.abs(x[start + lengths, 0] - x[start, 0]) / unit
        i = int(np.argmin(np.abs(departures - target)))
        miss = abs(departures[i] - target)
        if best is None or miss < best[0]:
            best = (miss, start, lengths[i], unit)
        if miss <= 0.1 * target:
            break
    _, start, length, unit = best
    out, truth = plant.butt_splice(x, sr, at_s=start / sr, remove_s=length / sr)
    truth.details["visibility"] = None if scale is None else truth.details["departure"] / unit
    return out, [truth]


PLANTERS: dict[str, Planter] = {
    "digital_silence": Planter(lambda x, sr, rng, d, v, c: plant.one(
        plant.digital_silence(x, sr, start_s=plant.in_signal(rng, d), length_s=v)), (0.05, 0.2, 0.5)),
    "clipping": Planter(_clip_over, (1.0, 4.0, 10.0)),
    "dc_offset_change": Planter(lambda x, sr, rng, d, v, c: plant.one(
        plant.dc_step(x, sr, at_s=plant.in_signal(rng, d), offset=v)), (0.004, 0.01, 0.03)),
    "polarity_inversion": Planter(lambda x, sr, rng, d, v, c: plant.one(plant.polarity_inversion(
        x, sr, start_s=plant.in_signal(rng, d) - v / 2, length_s=v)), (1.0, 3.0, 6.0), stereo=True),
    "bandwidth_change": Planter(_band_limited_insert, (0.4, 0.25, 0.125)),
    "noise_floor_change": Planter(_noisier_room, (0.0, 6.0, 12.0)),
    "enf_discontinuity": Planter(lambda x, sr, rng, d, v, c: plant.one(
        plant.enf_cut(x, sr, at_s=plant.in_signal(rng, d), phase_jump_rad=v)), (0.6, 1.2, 2.5)),
    "discontinuity": Planter(splice_by_visibility, (3.0, 10.0, 30.0)),
}
"""The planted kinds, in the order of the validation tables."""

REFERENCE_PLANTERS: dict[str, Planter] = {"discontinuity": Planter(splice_with_departure, (0.02, 0.08, 0.25))}
"""Earlier definitions of a kind's strength, measured beside :data:`PLANTERS` for reference: a
splice by its departure in full-scale units."""
