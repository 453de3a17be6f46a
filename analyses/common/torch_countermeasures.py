"""The vendored countermeasures as their published torch networks (the ``torch`` extra).

The analyses run the exported ONNX graphs (:mod:`workbench.analyses.common.countermeasures`). The torch
networks serve three things: exporting those graphs (:mod:`workbench.analyses.export_models`), checking in
a test that the graphs agree with them, and a user checkpoint given as a ``.pth`` state dict.
"""

from __future__ import annotations

import io
import json
import types
from functools import lru_cache

import numpy as np

from workbench.analyses.common.countermeasures import BY_NAME, log_odds, rawnetlite_input
from workbench.core.bundled import bundled_file
from workbench.core.errors import ParameterError


@lru_cache(maxsize=6)
def load(name: str, data: bytes):
    """The network of model ``name`` built from its vendored code, with the state dict ``data``.

    Raises
    ------
    ParameterError
        When ``data`` is not a state dict of that architecture that loads with ``weights_only``.
    """
    import torch

    torch.set_num_threads(1)  # the pipeline runs analyses side by side on the cores
    model = BY_NAME[name]
    code = bundled_file("workbench.analyses", *model.code)
    module = types.ModuleType(f"{name}_model")
    # The code that runs is the code whose hash was checked, not whatever an import finds.
    exec(compile(code.data, code.path, "exec"), module.__dict__)  # noqa: S102 (vendored, hash-checked)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if model.config is None:
            network = module.RawNetLite()
        else:
            network = module.Model(json.loads(bundled_file("workbench.analyses", model.folder, model.config).data)["model_config"])
        network.load_state_dict(state)
    except Exception as exc:  # a hostile or foreign file: torch raises many kinds
        raise ParameterError(f"the file is not a {model.label} state dict that loads with weights_only=True "
                             f"({type(exc).__name__})") from None
    network.eval()
    return network


def score(name: str, network, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`workbench.analyses.common.countermeasures.score` gives, from the torch ``network``."""
    import torch

    windows = np.asarray(windows, dtype=np.float32)
    with torch.no_grad():
        if name == "rawnetlite":
            probability, hidden = RawNetLiteWithHidden(network)(torch.from_numpy(rawnetlite_input(windows)))
            return log_odds(probability[:, 0].numpy()), hidden.numpy()
        hidden, logits = network(torch.from_numpy(windows))
    return (logits[:, 0] - logits[:, 1]).numpy().astype(float), hidden.numpy()


def RawNetLiteWithHidden(network):  # noqa: N802 (builds a torch module class lazily: torch is optional)
    """``network`` (a RawNetLite) wrapped to give its fake probability and its fc1 output, the
    embedding the back-end reads: the pair the exported graph gives."""
    import torch

    class _WithHidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.network = network

        def forward(self, x):
            captured = {}
            hook = self.network.fc1.register_forward_hook(lambda _m, _i, out: captured.update(h=out))
            try:
                probability = self.network(x)
            finally:
                hook.remove()
            return probability, captured["h"]

    return _WithHidden().eval()
