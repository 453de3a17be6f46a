"""PerthNet (implicit), the neural audio watermark of resemble-perth 1.0.1, adapted to plain torch.

Adapted from resemble-ai/Perth (MIT, ``LICENSE`` beside this file; provenance in
``PROVENANCE.md``): the encoder and decoder networks of ``perth_net_implicit/model`` and the
spectrogram of ``audio_processor.py``/``utils.py``, with ``torch.stft``/``torch.istft`` in place of
torchaudio's ``Spectrogram``/``InverseSpectrogram`` (same arguments: centred, reflect padding,
periodic Hann window, no normalisation). Nothing else of the package is used: it imports
torchaudio and pkg_resources and writes into its model folder when loading. The layer names
match the published checkpoint, so its ``model`` state dict loads unchanged.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from workbench.analyses.perth.spectrum import HEADROOM_DB, HOP, MAG_MIN, N_FFT
from workbench.analyses.perth.spectrum import RATE_HZ as SAMPLE_RATE_HZ
from workbench.core.errors import ParameterError

MAX_MARK_HZ = 2000.0
"""The mark lives in the magnitude spectrogram below this frequency."""
HIDDEN = 256
SUBBAND = int(round((N_FFT // 2 + 1) * MAX_MARK_HZ / (SAMPLE_RATE_HZ / 2)))
"""128 frequency bins carry the mark."""


class Conv(nn.Module):
    """1-D convolution with 'same' padding and an optional leaky ReLU."""

    def __init__(self, i: int, o: int, k: int, act: bool = True):
        super().__init__()
        self.conv = nn.Conv1d(i, o, k, padding=(k - 1) // 2)
        self.act = nn.LeakyReLU() if act else None

    def forward(self, x):
        x = self.conv(x)
        return self.act(x) if self.act is not None else x


def magmask(magspec: torch.Tensor, p: float = 0.05) -> torch.Tensor:
    """Frames (B, T) whose summed normalised magnitude exceeds ``p`` of the loudest frame's."""
    s = magspec.sum(dim=1)
    return (s > s.max(dim=1).values[:, None] * p).float()


class Encoder(nn.Module):
    """Adds the mark to a normalised magnitude spectrogram (B, F, T) as a residual below 2 kHz."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(Conv(SUBBAND, HIDDEN, 1), *[Conv(HIDDEN, HIDDEN, 7) for _ in range(5)],
                                    Conv(HIDDEN, SUBBAND, 1, act=False))

    def forward(self, magspec):
        magspec = magspec.clone()
        mask = magmask(magspec)[:, None]
        magspec[:, :SUBBAND] += self.layers(magspec[:, :SUBBAND]) * mask
        return magspec


def _branch() -> nn.Sequential:
    return nn.Sequential(Conv(SUBBAND, HIDDEN, 1), *[Conv(HIDDEN, HIDDEN, 7) for _ in range(5)],
                         Conv(HIDDEN, 2, 1, act=False))


def _masked_mean(x, m):
    return (x * m).sum(dim=2) / m.sum(dim=2)


class Decoder(nn.Module):
    """Reads the mark from a normalised magnitude spectrogram (B, F, T): one confidence per item,
    from three time scales weighted by their own attention."""

    def __init__(self):
        super().__init__()
        self.slow_layers, self.normal_layers, self.fast_layers = _branch(), _branch(), _branch()

    def forward(self, magspec):
        mask = magmask(magspec.detach())[:, None]
        subband = magspec[:, :SUBBAND]
        marks, attention = [], []
        for layers, scale in ((self.slow_layers, 1.25), (self.normal_layers, 1.0), (self.fast_layers, 0.75)):
            # scale_factor with recompute_scale_factor gives size floor(frames * scale), as the
            # published decoder's size=int(frames * scale) does, and traces to ONNX with frames free.
            x = subband if scale == 1.0 else F.interpolate(subband, scale_factor=scale, mode="linear",
                                                            align_corners=True, recompute_scale_factor=True)
            out = layers(x)
            m = F.interpolate(mask, size=out.size(2), mode="nearest")
            attention.append(_masked_mean(out[:, :1], m))
            marks.append(_masked_mean(out[:, 1:], m))
        weights = F.softmax(torch.cat(attention, dim=1), dim=1)
        return (torch.cat(marks, dim=1) * weights).sum(dim=1)


class PerthNet(nn.Module):
    """Encoder and decoder with the published checkpoint's layer names."""

    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()


def _window() -> torch.Tensor:
    return torch.hann_window(N_FFT)


def magnitude_phase(signal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised dB magnitude (F, T) and phase of a 32 kHz signal, as Perth computes them."""
    spec = torch.stft(signal.float(), N_FFT, HOP, N_FFT, _window(), center=True, pad_mode="reflect",
                      normalized=False, onesided=True, return_complex=True)
    min_db = 20 * math.log10(MAG_MIN)
    mag = 20 * torch.log10(spec.abs().clip(MAG_MIN))
    return (mag - min_db) / (-min_db + HEADROOM_DB), torch.angle(spec)


def signal_of(mag: torch.Tensor, phase: torch.Tensor, length: int) -> torch.Tensor:
    """The 32 kHz signal of a normalised magnitude and a phase (inverse of :func:`magnitude_phase`)."""
    min_db = 20 * math.log10(MAG_MIN)
    db = mag * (-min_db + HEADROOM_DB) + min_db
    spec = 10.0 ** (db / 20).clip(max=10) * torch.exp(1j * phase)
    return torch.istft(spec, N_FFT, HOP, N_FFT, _window(), center=True, normalized=False, onesided=True,
                       length=length)


def confidence(net: PerthNet, signal) -> float:
    """The decoder's confidence (0-1, clipped) that a 32 kHz signal (array or tensor) carries the mark."""
    with torch.no_grad():
        mag, _ = magnitude_phase(torch.as_tensor(signal))
        return float(net.decoder(mag[None])[0].clip(0.0, 1.0))


@lru_cache(maxsize=2)
def load_checkpoint(data: bytes) -> PerthNet:
    """The PerthNet of the checkpoint in ``data`` (the published ``{"model": state dict}`` or a
    bare state dict), loaded with ``weights_only``.

    Raises
    ------
    ParameterError
        When ``data`` is not a PerthNet checkpoint that loads with ``weights_only``.
    """
    torch.set_num_threads(1)  # the pipeline runs analyses side by side on the cores
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        state = state.get("model", state)
        network = PerthNet()
        # The published file also holds the STFT window of the package's audio processor.
        network.load_state_dict({k: v for k, v in state.items() if not k.startswith("ap.")})
    except Exception as exc:  # a hostile or foreign file: torch raises many kinds
        raise ParameterError("the file is not a PerthNet checkpoint that loads with weights_only=True "
                             f"({type(exc).__name__})") from None
    return network.eval()


def embed(net: PerthNet, signal: torch.Tensor) -> torch.Tensor:
    """The 32 kHz signal with the mark added (what Perth's ``apply_watermark`` does at 32 kHz)."""
    mag, phase = magnitude_phase(signal)
    return signal_of(net.encoder(mag[None])[0], phase, signal.shape[-1])
