"""What both condensation methods share: the experiment config, the result, the synthetic set's start and the
per-class sampling of real records. Condensation happens in the standardised feature space of the training
split (``datasets_real.standardiser``), so one learning rate serves images and tabular data alike."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass(frozen=True)
class CondenseConfig:
    method: str = "dm"
    """"dm" (distribution matching) or "gm" (gradient matching)."""
    ipc: int = 10
    """Synthetic samples per class."""
    iterations: int = 2000
    """DM: embedder draws. GM: outer loops (each with a freshly initialised network)."""
    lr: float = 0.1
    """Adam on the synthetic samples. The paper's code uses 1e-3 over many thousand GPU iterations; a CPU
    budget of a few thousand iterations needs a larger step (same optimiser). On digits.png, 10 per class:
    300 iterations → 0.78 MLP accuracy, 1000 → 0.81, 3000 → 0.85."""
    batch_real: int = 128
    """Real records per class per iteration."""
    init: str = "noise"
    """"noise" (the paper's choice, and the private one), "smooth" (time series: noise that is the same at
    every step plus a little per-step noise, ``smooth_step_noise``; still no real record), "mean" (time
    series: the class's mean record plus smooth noise, ``mean_noise``) or "real" (real records: faster, not
    private)."""
    mean_noise: float = 0.5
    """"mean" init: each synthetic sample starts at its class's mean real record (an aggregate over every
    training record of the class, no one's record) plus this much "smooth" noise."""
    smooth_step_noise: float = 0.15
    """"smooth" init: per-step noise (standardised units); real eye pixels vary by ~0.15 within a window."""
    family: str = "mlp"
    """DM embedder family: "mlp" (any input, flattened), "convnet" (images; the DM paper's family, about 50×
    slower on a CPU for the same accuracy on digits.png), time series of eye images: "series" (a TCN or an
    LSTM drawn each iteration, as the paper's family), "tcn", "lstm"; "auto" (convnet for images, series for
    time series, mlp otherwise)."""
    guard: bool = True
    """Move any synthetic sample closer to a real record than the real records' median nearest-neighbour
    distance out to that distance (``privacy.enforce_distance``) before the set is evaluated or shared."""
    seed: int = 0
    gm_inner: int = 5
    """GM: matching steps per fresh network, each followed by ``gm_net_steps`` updates of that network."""
    gm_net_steps: int = 5
    gm_net_lr: float = 0.01
    gm_net: str = "mlp"
    """GM's network: "mlp", "convnet" (images), "tcn"/"series" (time series), "auto" (by input)."""


@dataclass
class Condensed:
    x: np.ndarray
    """Standardised space, float32, ``classes·ipc × feature_shape``."""
    y: np.ndarray
    seconds: float
    losses: list[float] = field(default_factory=list)


def initial_synthetic(x_real: torch.Tensor, y_real: torch.Tensor, classes: int, cfg: CondenseConfig,
                      gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    shape = (classes * cfg.ipc, *x_real.shape[1:])
    y_syn = torch.arange(classes).repeat_interleave(cfg.ipc)
    if cfg.init == "noise":
        x_syn = torch.randn(shape, generator=gen)
    elif cfg.init in ("smooth", "mean"):
        if len(shape) != 3:
            raise ValueError(f"init {cfg.init!r} is for time series (records of steps × features)")
        base = torch.randn((shape[0], 1, shape[2]), generator=gen)
        x_syn = base + cfg.smooth_step_noise * torch.randn(shape, generator=gen)
        if cfg.init == "mean":
            means = torch.stack([x_real[by_class(y_real, c)].mean(0) for c in range(classes)])
            x_syn = means.repeat_interleave(cfg.ipc, 0) + cfg.mean_noise * x_syn
    elif cfg.init == "real":
        picks = [by_class(y_real, c)[torch.randperm(int((y_real == c).sum()), generator=gen)[: cfg.ipc]]
                 for c in range(classes)]
        x_syn = x_real[torch.cat(picks)].clone()
    else:
        raise ValueError(f"init must be noise, smooth or real, not {cfg.init!r}")
    return x_syn.requires_grad_(True), y_syn


def by_class(y: torch.Tensor, c: int) -> torch.Tensor:
    return torch.nonzero(y == c).flatten()


class ClassSampler:
    """Random real batches of one class, without replacement within a batch."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, classes: int, gen: torch.Generator) -> None:
        self.x = x
        self.index = [by_class(y, c) for c in range(classes)]
        self.gen = gen

    def batch(self, c: int, n: int) -> torch.Tensor:
        idx = self.index[c]
        return self.x[idx[torch.randperm(len(idx), generator=self.gen)[:n]]]
