"""The whole validation run: the generated set, then (with a corpus) the real recordings, the
double-compression table (the join detector is fitted first, on the tuning half, and written
beside as join_detector.json), the candidate cues of synthetic speech, the countermeasures and their
fitted back-end on genuine against synthetic speech (the back-end written beside as
countermeasure_backend.json) and the Perth watermark's false alarms and detection, written
together as validation.json and validation.md."""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import Callable

from workbench.analyses.synthesis import BACKEND
from workbench.core.atomic import atomic_write_text
from workbench.core.errors import WorkbenchError
from workbench.core.params import InputFile
from workbench.rates import RATES_FILE, packaged
from workbench.registry import available
from workbench.validation.countermeasure import cite_countermeasure, markdown_countermeasure, run_countermeasure
from workbench.validation.enf import cite_enf, markdown_enf, run_enf
from workbench.validation.generated import markdown, run_validation
from workbench.validation.joins import markdown_training, train
from workbench.validation.real import cite_real, markdown_real, run_real
from workbench.validation.recompression import cite_recompression, markdown_recompression, run_recompression
from workbench.validation.synthetic import markdown_cues, run_cues
from workbench.validation.watermark import cite_watermark, markdown_watermark, run_watermark


def shipped_backend() -> bytes | None:
    """The countermeasure back-end the package ships, or None before the first fit."""
    try:
        return resources.files(BACKEND[0]).joinpath(BACKEND[1], BACKEND[2]).read_bytes()
    except OSError:
        return None


QUICK = dict(rates=(16000,), contents=("speech",), rooms=("quiet",), seeds=(1,), duration_s=20.0,
             clean_seeds=(11,), clean_duration_s=30.0)
"""The smoke-test set of ``workbench validate --quick``."""


def validate_into(outdir, *, quick: bool = False, corpus=None,
                  progress: Callable[[str], None] | None = None) -> str:
    """Run the generated set (and, with ``corpus``, the real recordings), write validation.json,
    validation.md and the rows that ship with the tool (rates.json) into ``outdir``; return the Markdown."""
    analyses = {name: cls() for name, cls in available().items() if not cls.needs_references}
    training = None
    if corpus is not None:
        try:
            training = train(corpus, Path(outdir), progress=progress)
            analyses["consistency"] = available()["consistency"](model=InputFile.read(training["file"]))
        except WorkbenchError as exc:  # a small corpus: the shipped detector is measured instead
            training = {"not_fitted": str(exc)}
    results = run_validation(analyses, progress=progress, **(QUICK if quick else {}))
    text = markdown(results)
    if corpus is not None:
        results["join_detector"] = training
        results["real"] = run_real(corpus, analyses, progress=progress)
        results["rows"] = cite_real(results["rows"], results["real"])
        text += "\n" + markdown_real(results["real"]) + "\n".join(markdown_training(training)) + "\n"
        results["recompression"] = run_recompression(corpus, available()["container"](), quick=quick,
                                                     progress=progress)
        results["rows"].append(cite_recompression(results["recompression"]))
        text += "\n" + markdown_recompression(results["recompression"])
        results["enf"] = run_enf(corpus, progress=progress)
        results["rows"] = cite_enf(results["rows"], results["enf"])
        text += "\n" + "\n".join(markdown_enf(results["enf"]))
        results["cues"] = run_cues(corpus, analyses, progress=progress)
        text += "\n" + markdown_cues(results["cues"])
        results["countermeasure"] = run_countermeasure(corpus, Path(outdir) / "countermeasure_cache",
                                                       shipped_backend(), progress=progress)
        results["rows"].append(cite_countermeasure(results["countermeasure"]))
        text += "\n" + markdown_countermeasure(results["countermeasure"])
        Path(outdir).mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(outdir) / BACKEND[2], results["countermeasure"]["backend"])
        if importlib.util.find_spec("torch") is not None and importlib.util.find_spec("perth") is not None:
            # The marked copies are made by the Perth encoder, in torch (the export extra).
            results["watermark"] = run_watermark(corpus, available()["watermark"](), progress=progress)
            results["rows"].append(cite_watermark(results["watermark"]))
            text += "\n" + markdown_watermark(results["watermark"])
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(outdir / "validation.json", json.dumps(results, indent=1) + "\n")
    atomic_write_text(outdir / "validation.md", text)
    atomic_write_text(outdir / RATES_FILE, json.dumps(packaged(results), indent=1) + "\n")
    return text
