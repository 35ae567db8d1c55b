"""Networks for condensation: the random embedders distribution matching samples, and the evaluation models.

Embedders (distribution matching draws a fresh one every iteration, frozen: only the synthetic data learn):
- images: a ConvNet (conv 3×3 → instance norm → ReLU → 2×2 average pool, repeated), its width and depth drawn
  from the family, as in the DM paper's ConvNet embedder;
- tabular: an MLP whose width, depth and activation are drawn, the tabular counterpart of the paper's family
  of time-series embedders (TCN, LSTM, ViT), whose inputs we do not have here.

Evaluation models (trained fresh on a condensed set, tested on real held-out records): ``mlp``, ``convnet``
(images only) and ``logreg`` (a linear softmax classifier); for time series of eye images (``eye-series``)
``tcn`` and ``gru`` (series_nets.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from glance_train.condense.series_nets import SERIES_FAMILIES, build_series_classifier, random_series_embedder

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class ConvNet(nn.Module):
    """conv(width) → instance norm → ReLU → avgpool, ``depth`` times, then a linear head (``head=False``:
    the embedding only). Instance norm, as in the DM/GM papers' ConvNet, works on any batch size."""

    def __init__(self, shape: tuple[int, ...], classes: int, width: int = 64, depth: int = 2,
                 head: bool = True) -> None:
        super().__init__()
        c, h, w = shape
        layers: list[nn.Module] = []
        for _ in range(depth):
            norm = nn.GroupNorm(width, width)  # one group per channel: instance norm
            layers += [nn.Conv2d(c, width, 3, padding=1), norm, nn.ReLU(), nn.AvgPool2d(2)]
            c, h, w = width, h // 2, w // 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.embed_dim = c * h * w
        self.head = nn.Linear(self.embed_dim, classes) if head else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.features(x)
        return self.head(z) if self.head is not None else z


class Mlp(nn.Module):
    def __init__(self, in_dim: int, classes: int, width: int = 128, depth: int = 2, activation: str = "relu",
                 head: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        d = in_dim
        for _ in range(depth):
            layers += [nn.Linear(d, width), ACTIVATIONS[activation]()]
            d = width
        self.features = nn.Sequential(*layers)
        self.embed_dim = d
        self.head = nn.Linear(d, classes) if head else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.features(x)
        return self.head(z) if self.head is not None else z


def random_embedder(shape: tuple[int, ...], rng: np.random.Generator, family: str = "auto") -> nn.Module:
    """A freshly initialised, frozen embedder drawn from ``family`` ("convnet", "mlp", time series: "series",
    "tcn", "lstm"; "auto": by input)."""
    if family == "auto":
        family = {3: "convnet", 2: "series"}.get(len(shape), "mlp")
    if family == "series" or family in SERIES_FAMILIES:
        return random_series_embedder(shape, rng, family)
    if family == "convnet":
        depth = 2 if shape[1] <= 8 else int(rng.integers(2, 4))
        net: nn.Module = ConvNet(shape, 1, width=int(rng.choice([16, 32, 64])), depth=depth, head=False)
    else:
        width, depth = int(rng.choice([64, 128, 256])), int(rng.integers(1, 3))
        activation = str(rng.choice(list(ACTIVATIONS)))
        net = Mlp(int(np.prod(shape)), 1, width=width, depth=depth, activation=activation, head=False)
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def architectures(kind: str) -> list[str]:
    if kind == "eye-series":
        # The flat MLP was measured too: at chance on held-out participants even with all the data (0.25 vs
        # majority 0.25), so it says nothing about what condensation keeps.
        return ["tcn", "gru"]
    return ["mlp", "convnet", "logreg"] if kind == "image" else ["mlp", "logreg"]


def build_classifier(arch: str, shape: tuple[int, ...], classes: int) -> nn.Module:
    dim = int(np.prod(shape))
    if arch == "mlp":
        return Mlp(dim, classes, width=256, depth=2)
    if arch == "convnet":
        if len(shape) != 3:
            raise ValueError("convnet needs image data")
        return ConvNet(shape, classes, width=32, depth=2)  # small on purpose: evaluated many times on a CPU
    if arch == "logreg":
        return nn.Sequential(nn.Flatten(), nn.Linear(dim, classes))
    if arch in ("tcn", "gru", "lstm"):
        return build_series_classifier(arch, shape, classes)
    raise KeyError(f"unknown architecture {arch!r}; known: mlp, convnet, logreg, tcn, gru, lstm")
