"""``consistency``: where the background and the channel differ either side of a moment (joins
between recordings)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from workbench.analyses.common.boundary_features import MIN_LIVE_S, NAMES, clip_boundaries
from workbench.analyses.common.logistic import Logistic
from workbench.analyses.common.steps import strongest_apart
from workbench.core.analysis import Analysis, Finding, FindingKind, InputFile, Result, Track, param
from workbench.core.bundled import bundled_file
from workbench.core.clip import Clip
from workbench.core.errors import ParameterError

DETECTOR = ("workbench.analyses", "backend", "join_detector.json")
"""The shipped join detector (package, folder, file), listed in the folder's SHA256SUMS."""
DETECTOR_MAX_BYTES = 1 << 20
FORMAT = "workbench-join-detector"


@dataclass(frozen=True)
class JoinDetector:
    """A fitted join detector: the boundary comparison's settings, a logistic model over
    :func:`~workbench.analyses.common.boundary_features.boundary_features` and the log-odds from which a
    boundary is flagged (chosen on the tuning half)."""

    side_s: float
    step_s: float
    threshold: float
    model: Logistic
    fitted_on: tuple[dict, ...]

    @classmethod
    def from_json(cls, data: bytes, where: str) -> "JoinDetector":
        """Parse a detector file; ``where`` names it in the error.

        Raises
        ------
        ParameterError
            When it is not a detector of this format with one weight per feature.
        """
        try:
            try:
                d = json.loads(data)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(f"not a {FORMAT} file (not JSON: {exc})") from None
            if not isinstance(d, dict) or d.get("format") != FORMAT or list(d["features"]) != _feature_names():
                raise ValueError(f"not a {FORMAT} file for features {', '.join(NAMES)}")
            detector = cls(float(d["side_s"]), float(d["step_s"]), float(d["threshold"]),
                           Logistic.from_dict(d["model"]), tuple(d.get("fitted_on", ())))
            if not (detector.side_s > 0 and detector.step_s > 0) or detector.model.weights.size != len(_feature_names()):
                raise ValueError("side_s and step_s must be > 0, with one weight per feature")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ParameterError(f"{where}: {exc}") from None
        return detector

    def to_json(self, **extra) -> str:
        return json.dumps({"format": FORMAT, "features": _feature_names(), "side_s": self.side_s,
                           "step_s": self.step_s, "threshold": self.threshold, "model": self.model.to_dict(),
                           **extra, "fitted_on": list(self.fitted_on)}, indent=1) + "\n"

    def scores(self, clip: Clip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boundary times (s), their log-odds of a join, and the raw comparisons (dB) there."""
        at_s, features = clip_boundaries(clip, side_s=self.side_s, step_s=self.step_s)
        if not at_s.size:
            return at_s, np.empty(0), features
        return at_s, self.model.score(features), features[:, : len(NAMES)]


def _feature_names() -> list[str]:
    return list(NAMES) + [f"{name}_against_clip" for name in NAMES]


@lru_cache(maxsize=1)
def shipped_detector() -> tuple[InputFile, JoinDetector]:
    """The detector the package ships, checked against its SHA256SUMS."""
    file = bundled_file(*DETECTOR)
    return file, JoinDetector.from_json(file.data, "/".join(DETECTOR))


class Consistency(Analysis):
    """Joins between recordings: a change of background, voice spectrum or dynamics across a
    moment, scored by a detector fitted on joins made from the tuning half of the corpus."""

    name = "consistency"
    version = "1.0"
    description = "Changes of background, channel and voice spectrum across each moment (joins between recordings)."
    measures = (
        "For every boundary on a 0.1-s grid, the frames of the few seconds before it against those after: "
        "the level and colour of the background (the quietest frames, and each third-octave band's own "
        "floor), of the voice's spectrum (the louder frames), the loud-to-quiet spread, and the top bands "
        "against the rest, each also against its own spread over the clip. A logistic model fitted on joins "
        "made from the tuning half of the corpus (two recordings from different sources, at pauses and "
        "mid-word, level-matched, 0-10 ms crossfades, and room tone from elsewhere) turns these into a "
        "join score (log-odds); boundaries over the threshold chosen on the tuning half's genuine "
        "recordings are flagged."
    )
    cannot_show = (
        "A change of background or channel is also what a genuine recording shows when a second speaker "
        "talks from another place, music or a jingle starts, a noise suppressor or automatic gain control "
        "adapts, a phone call's codec switches, or a broadcast cuts between studio and field. Two pieces "
        "recorded on the same device in the same room leave little change, and the score misses them; a "
        "deletion inside one recording leaves almost none. The measured rates below are low: read a flag "
        "as a place to listen, never as a join."
    )

    kinds = (
        FindingKind("channel_change", "2 / (1 + exp(threshold - join score)) - 1: 0 at the threshold, 0.46 one log-odds over it"),
    )
    measurement_keys = (
        "boundaries_judged", "detector_sha256", "join_score_highest", "join_score_highest_at_s",
        "join_score_threshold",
    )

    model: InputFile | None = param(
        None, "A join detector file (JSON, as make validate writes it) used instead of the shipped one; "
        "read and hashed by the workbench.", max_bytes=DETECTOR_MAX_BYTES)

    def check(self) -> None:
        self._detector()

    def _detector(self) -> tuple[str, JoinDetector]:
        """The detector's SHA-256 and the detector: the user's file, or the shipped one."""
        if self.model is not None:
            return self.model.sha256, JoinDetector.from_json(self.model.data, "consistency.model")
        file, detector = shipped_detector()
        return file.sha256, detector

    def run(self, clip: Clip) -> Result:
        sha256, detector = self._detector()
        at_s, score, raw = detector.scores(clip)
        if not at_s.size:
            return Result.skipped(f"no boundary has {MIN_LIVE_S:g} s of sound (not digital silence) on both sides")
        findings = strongest_apart([self._finding(at_s[i], score[i], raw[i], detector)
                                    for i in np.flatnonzero(score >= detector.threshold)],
                                   min_gap_s=2 * detector.side_s, by=lambda f: f.details["join_score"])
        top = int(np.argmax(score))
        measurements = {
            "boundaries_judged": int(at_s.size),
            "join_score_highest": float(score[top]),
            "join_score_highest_at_s": float(at_s[top]),
            "join_score_threshold": detector.threshold,
            "detector_sha256": sha256,
        }
        parameters = {"side_s": detector.side_s, "step_s": detector.step_s,
                      "detector_fitted_on_recordings": len(detector.fitted_on)}
        if self.model is not None:
            parameters["detector_file"] = self.model.path
        return Result(measurements=measurements, findings=findings,
                      parameters=parameters, tracks=[Track("join score (log-odds)", at_s, score)])

    @staticmethod
    def _finding(at_s: float, score: float, raw: np.ndarray, detector: JoinDetector) -> Finding:
        values = {name: round(float(v), 2) for name, v in zip(NAMES, raw)}
        return Finding(
            kind="channel_change", start_s=at_s, end_s=at_s,
            strength=1 / (1 + np.exp(-(score - detector.threshold))) * 2 - 1,
            flagged=True,
            summary=(f"Background and channel differ across this moment (join score {score:.1f}, threshold "
                     f"{detector.threshold:.1f}): background {values['background_step_db']:.1f} dB step, "
                     f"voice spectrum {values['voice_colour_db']:.1f} dB change of colour."),
            details={"join_score": float(score), "threshold": detector.threshold, **values})
