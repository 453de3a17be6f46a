"""Export every learned model the analyses run to ONNX: ``make export-models``.

Needs the ``export`` extra (torch, onnx, Resemblyzer, resemble-perth); the workbench itself runs the
graphs with ONNX Runtime alone. Each graph is written into the vendored folder that holds its
source's licence and provenance, beside a ``<graph>.json`` that records what it was exported from
(file, SHA-256, licence), by which torch and opset; both are added to the folder's ``SHA256SUMS``.
The exported graphs are checked against their torch originals by ``tests/test_onnx_models.py``.

Run as ``python -m workbench.analyses.export_models [FOLDER]``: FOLDER is the ``analyses`` source folder to
write into (default: the one this module is in).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from workbench.analyses.common import countermeasures as cm
from workbench.core.bundled import CHECKSUMS, bundled_file, installed_file
from workbench.core.params import InputFile

OPSET = 18


@dataclass(frozen=True)
class Export:
    """One graph to export.

    Attributes
    ----------
    folder : str
        Vendored folder (in ``analyses``) the graph is written into.
    file : str
        The graph's path inside ``folder``.
    licence : str
        The source weights' licence, as their ``LICENSE`` file states it.
    source : Callable[[], InputFile]
        The published weights, read and checked.
    build : Callable[[bytes], tuple]
        The torch module from those weights' bytes, an example input tuple, the input names, the
        output names and the axes that stay free ({input name: {axis: name}}).
    """

    folder: str
    file: str
    licence: str
    source: Callable[[], InputFile]
    build: Callable[[bytes], tuple]


def _countermeasure(name: str) -> Callable[[bytes], tuple]:
    def build(data: bytes):
        import torch

        from workbench.analyses.common import torch_countermeasures as tcm

        network = tcm.load(name, data)
        if name == "rawnetlite":
            example = torch.zeros(2, 1, cm.RAWNETLITE_SAMPLES)
            return tcm.RawNetLiteWithHidden(network), (example,), ["x"], ["probability", "embedding"], {"x": {0: "n"}}
        example = torch.zeros(2, cm.WINDOW_SAMPLES)
        return network, (example,), ["x"], ["embedding", "logits"], {"x": {0: "n"}}
    return build


def _perth_decoder(data: bytes):
    import torch

    from workbench.analyses.perth import net

    decoder = net.load_checkpoint(data).decoder
    example = torch.rand(1, net.N_FFT // 2 + 1, 1001)
    return decoder, (example,), ["magnitude"], ["confidence"], {"magnitude": {0: "n", 2: "frames"}}


def _speaker_encoder(data: bytes):
    import torch

    from workbench.analyses.speaker import MEL_BANDS, PARTIAL_FRAMES

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # webrtcvad's own import of pkg_resources warns
        from resemblyzer import VoiceEncoder

    encoder = VoiceEncoder(device="cpu", verbose=False)
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)["model_state"]
    # The checkpoint also holds GE2E's training-only similarity scale and bias.
    encoder.load_state_dict({k: v for k, v in state.items() if not k.startswith("similarity_")})
    encoder.eval()
    example = torch.rand(2, PARTIAL_FRAMES, MEL_BANDS)
    return encoder, (example,), ["mels"], ["embedding"], {"mels": {0: "n"}}


def _resemblyzer_weights() -> InputFile:
    from workbench.analyses.speaker import ENCODER_WEIGHTS

    found = installed_file(*ENCODER_WEIGHTS)
    if found is None:
        raise SystemExit("export-models: Resemblyzer is not installed (pip install '.[export]')")
    return found


def _perth_weights() -> InputFile:
    from workbench.analyses.watermark import WEIGHTS

    found = installed_file(*WEIGHTS)
    if found is None:
        raise SystemExit("export-models: resemble-perth is not installed (pip install '.[export]')")
    return found


EXPORTS = tuple(
    Export(m.folder, m.onnx, "MIT", lambda m=m: bundled_file("workbench.analyses", m.folder, m.weights), _countermeasure(m.name))
    for m in cm.MODELS
) + (
    Export("perth", "perth_decoder.onnx", "MIT", _perth_weights, _perth_decoder),
    Export("resemblyzer", "encoder.onnx", "Apache-2.0", _resemblyzer_weights, _speaker_encoder),
)


def export(item: Export, root: Path) -> dict:
    """Write ``item``'s graph and its ``.json`` record under ``root/item.folder``, list both in
    the folder's ``SHA256SUMS`` and return the record."""
    import torch

    source = item.source()
    module, example, inputs, outputs, free = item.build(source.data)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python values it holds constant
        torch.onnx.export(module, example, buffer, input_names=inputs, output_names=outputs,
                          dynamic_axes=free, opset_version=OPSET, dynamo=False)
    graph = buffer.getvalue()
    folder = root / item.folder
    (folder / item.file).write_bytes(graph)
    record = {"graph": item.file, "graph_sha256": hashlib.sha256(graph).hexdigest(),
              "exported_from": source.path, "source_sha256": source.sha256, "source_licence": item.licence,
              "exporter": f"torch {torch.__version__} torch.onnx.export (TorchScript tracer)", "opset": OPSET,
              "inputs": inputs, "outputs": outputs, "free_axes": free}
    (folder / f"{item.file}.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    _list(folder, [item.file, f"{item.file}.json"])
    return record


def _list(folder: Path, names: list[str]) -> None:
    """Put the SHA-256 of ``names`` (relative to ``folder``) into its ``SHA256SUMS``."""
    listed = folder / CHECKSUMS
    lines = {}
    if listed.exists():
        for line in listed.read_text(encoding="utf-8").splitlines():
            if line.strip():
                digest, name = line.split(None, 1)
                lines[name.strip()] = digest
    for name in names:
        lines[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    listed.write_text("".join(f"{d}  {n}\n" for n, d in lines.items()), encoding="utf-8")


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).parent
    for item in EXPORTS:
        record = export(item, root)
        print(f"{item.folder}/{item.file}: {record['graph_sha256'][:16]}... from {record['exported_from']}")
    bundled_file.cache_clear()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
