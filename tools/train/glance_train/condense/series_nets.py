"""Networks for time series of eye images (``eye_emotion`` records: ``(B, T, E·E + 2)``).

The healthcare-sharing paper draws its distribution-matching embedders from a family of time-series networks
(TCN, LSTM, ViT). Here every network first encodes each step on its own (``StepEncoder``: a small conv net on
the eye crop and on its difference from the window's mean crop, because an expression is a change of *this*
wearer's eye, as in emotion-eye; plus the pupil, its confidence and its change from the window's mean), then
models time:

- ``SeriesTcn``: two temporal convolutions (kernel 3, dilation 1 and 2) and mean + max pooling over time;
- ``SeriesRnn``: a GRU or an LSTM, its last output joined to the mean of its outputs.

``random_series_embedder`` draws a frozen TCN or LSTM (widths and activation drawn too) for distribution
matching; the ViT of the paper's family is left out (a CPU budget). ``tcn`` and ``gru`` (and the flat MLP of
nets.py) are the evaluation architectures, and ``tcn`` is gradient matching's network.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
SERIES_FAMILIES = ("tcn", "lstm")


def eye_side(features: int) -> int:
    side = math.isqrt(features - 2)
    if side * side != features - 2 or side % 4:
        raise ValueError(
            f"a step of {features} numbers is not E·E eye pixels + pupil + confidence (E % 4 == 0)")
    return side


class StepEncoder(nn.Module):
    """(B, T, E·E + 2) → (B, T, dim + 3): conv features of each eye crop and of its change, pupil features."""

    def __init__(self, features: int, width: int = 16, dim: int = 32, activation: str = "relu") -> None:
        super().__init__()
        self.side = eye_side(features)
        act = ACTIVATIONS[activation]
        q = self.side // 4
        self.conv = nn.Sequential(
            nn.Conv2d(2, width, 3, stride=2, padding=1), act(),
            nn.Conv2d(width, width, 3, stride=2, padding=1), act(),
            nn.Flatten(), nn.Linear(width * q * q, dim), act(),
        )
        self.out_dim = dim + 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        pix = x[..., :-2].reshape(b, t, self.side, self.side)
        change = pix - pix.mean(1, keepdim=True)
        frames = torch.stack([pix, change], 2).reshape(b * t, 2, self.side, self.side)
        eye = self.conv(frames).reshape(b, t, -1)
        pupil = x[..., -2:]
        pupil_change = pupil[..., :1] - pupil[..., :1].mean(1, keepdim=True)
        return torch.cat([eye, pupil, pupil_change], -1)


class SeriesTcn(nn.Module):
    def __init__(self, shape: tuple[int, ...], classes: int, width: int = 16, dim: int = 32, hidden: int = 32,
                 activation: str = "relu", head: bool = True) -> None:
        super().__init__()
        act = ACTIVATIONS[activation]
        self.steps = StepEncoder(shape[-1], width, dim, activation)
        self.temporal = nn.Sequential(
            nn.Conv1d(self.steps.out_dim, hidden, 3, padding=1), act(),
            nn.Conv1d(hidden, hidden, 3, padding=2, dilation=2), act(),
        )
        self.embed_dim = 2 * hidden
        self.head = nn.Linear(self.embed_dim, classes) if head else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.temporal(self.steps(x).transpose(1, 2))
        z = torch.cat([z.mean(-1), z.amax(-1)], -1)
        return self.head(z) if self.head is not None else z


class SeriesRnn(nn.Module):
    def __init__(self, shape: tuple[int, ...], classes: int, cell: str = "gru", width: int = 16,
                 dim: int = 32, hidden: int = 32, activation: str = "relu", head: bool = True) -> None:
        super().__init__()
        self.steps = StepEncoder(shape[-1], width, dim, activation)
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn(self.steps.out_dim, hidden, batch_first=True)
        self.embed_dim = 2 * hidden
        self.head = nn.Linear(self.embed_dim, classes) if head else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.steps(x))
        z = torch.cat([out[:, -1], out.mean(1)], -1)
        return self.head(z) if self.head is not None else z


def random_series_embedder(shape: tuple[int, ...], rng: np.random.Generator,
                           family: str = "series") -> nn.Module:
    """A freshly initialised, frozen TCN or LSTM ("series": either, drawn), widths and activation drawn."""
    if family == "series":
        family = str(rng.choice(SERIES_FAMILIES))
    width, dim = int(rng.choice([8, 16])), int(rng.choice([16, 32]))
    hidden, activation = int(rng.choice([32, 64])), str(rng.choice(list(ACTIVATIONS)))
    if family == "tcn":
        net: nn.Module = SeriesTcn(shape, 1, width, dim, hidden, activation, head=False)
    elif family == "lstm":
        net = SeriesRnn(shape, 1, "lstm", width, dim, hidden, activation, head=False)
    else:
        raise ValueError(f"unknown series family {family!r}; known: series, {', '.join(SERIES_FAMILIES)}")
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def build_series_classifier(arch: str, shape: tuple[int, ...], classes: int) -> nn.Module:
    if arch == "tcn":
        return SeriesTcn(shape, classes)
    if arch in ("gru", "lstm"):
        return SeriesRnn(shape, classes, arch)
    raise KeyError(f"unknown time-series architecture {arch!r}; known: tcn, gru, lstm")
