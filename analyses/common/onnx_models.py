"""The learned models the analyses run, as ONNX graphs in ONNX Runtime on the CPU.

Each network is exported once from its published weights by ``make export-models``
(:mod:`workbench.analyses.export_models`, which needs torch) into the vendored folder that holds the
weights' licence and provenance; the ``.onnx`` file is listed in that folder's ``SHA256SUMS`` and
read through :func:`workbench.core.bundled.bundled_file` like any vendored file. Running them needs
only ``onnxruntime``: torch is a development extra.

A graph a user names (``--param synthesis.model=PATH``) is untrusted input: it arrives as bytes
the workbench read and hashed, is parsed from memory, may not read external data files, and must
have the inputs and outputs of the model it stands in for.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from workbench.core.bundled import bundled_file
from workbench.core.errors import ParameterError
from workbench.core.params import InputFile


@dataclass(frozen=True)
class Graph:
    """Where an exported model lives and what it takes and gives.

    Attributes
    ----------
    folder : str
        Vendored folder in the ``analyses`` package (licence, provenance, ``SHA256SUMS``).
    file : str
        The ``.onnx`` file, relative to ``folder``.
    inputs : tuple of tuple
        Each input's trailing shape after the batch axis (None: any length).
    outputs : tuple of tuple
        Each output's trailing shape after the batch axis (None: any length).
    """

    folder: str
    file: str
    inputs: tuple[tuple[int | None, ...], ...]
    outputs: tuple[tuple[int | None, ...], ...]

    @property
    def bundled(self) -> InputFile:
        """The vendored graph, checked against its folder's ``SHA256SUMS``."""
        return bundled_file("workbench.analyses", self.folder, self.file)


def is_onnx(data: bytes) -> bool:
    """True unless ``data`` is a torch checkpoint (a zip archive or a pickle): how a user's model
    file is told apart. An ONNX graph is a protocol buffer, which starts with neither."""
    return not (data[:4] == b"PK\x03\x04" or data[:1] == b"\x80")


@lru_cache(maxsize=8)
def session(data: bytes):
    """An ONNX Runtime session of the graph in ``data``, on one CPU thread.

    One thread: the pipeline already runs analyses (and clips) side by side on the cores. No
    memory arena: an arena keeps its peak for the life of the process (about 320 MB for an AASIST
    window, in every worker), where plain allocations return after each run, at about 20 % of
    AASIST's time. External data files are looked for only in an empty folder, so a graph cannot
    read a file beside the working directory into its weights.

    Raises
    ------
    ParameterError
        When ``data`` is not a graph ONNX Runtime can load.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 4  # errors reach the user as one line, below
    with tempfile.TemporaryDirectory() as empty:
        options.add_session_config_entry("session.model_external_initializers_file_folder_path", empty)
        try:
            return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a hostile or foreign file: onnxruntime raises several kinds
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ParameterError(f"the file is not an ONNX graph that ONNX Runtime loads ({first[:160]})") from None


def checked_session(data: bytes, graph: Graph):
    """:func:`session` of ``data``, refused unless its inputs and outputs have ``graph``'s shapes.

    Raises
    ------
    ParameterError
        When the graph does not load or takes or gives other shapes.
    """
    loaded = session(data)
    for what, found, wanted in (("inputs", loaded.get_inputs(), graph.inputs),
                                ("outputs", loaded.get_outputs(), graph.outputs)):
        shapes = [tuple(d if isinstance(d, int) else None for d in node.shape[1:]) for node in found]
        if len(shapes) != len(wanted) or any(
                len(s) != len(w) or any(a is not None and b is not None and a != b for a, b in zip(s, w))
                for s, w in zip(shapes, wanted)):
            raise ParameterError(f"the ONNX graph's {what} have shapes {shapes}, not the {list(wanted)} "
                                 "(after the batch axis) of the model it stands in for")
    return loaded


def run(loaded, *inputs: np.ndarray, batch: int = 8) -> list[np.ndarray]:
    """Every output of session ``loaded`` on ``inputs`` (float32, batch first), ``batch`` items
    at a time, joined along the batch axis."""
    names = [node.name for node in loaded.get_inputs()]
    parts = [loaded.run(None, {name: np.ascontiguousarray(x[first : first + batch], dtype=np.float32)
                               for name, x in zip(names, inputs)})
             for first in range(0, len(inputs[0]), batch)]
    return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
