"""Does a condensed set still teach? Train fresh models of several architectures on it; test on real records.

The same recipe (Adam, weight decay, a fixed number of steps) trains on the condensed set and on the full real
training split, so the ratio of their held-out accuracies (``relative``) measures what condensation kept.
Several seeds per architecture; the mean is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from glance_train.condense.nets import architectures, build_classifier


@dataclass(frozen=True)
class EvalConfig:
    seeds: int = 3
    steps: int = 300
    """Optimiser steps for every model, condensed or full data."""
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 5e-4


def train_classifier(arch: str, x: np.ndarray, y: np.ndarray, classes: int, cfg: EvalConfig,
                     seed: int) -> nn.Module:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = build_classifier(arch, tuple(x.shape[1:]), classes)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    net.train()
    for _ in range(cfg.steps):
        idx = torch.randperm(len(xt), generator=gen)[: cfg.batch_size]
        loss = nn.functional.cross_entropy(net(xt[idx]), yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return net.eval()


@torch.no_grad()
def predict_proba(net: nn.Module, x: np.ndarray, batch: int = 1024) -> np.ndarray:
    xt = torch.from_numpy(x)
    return torch.cat([torch.softmax(net(xt[i : i + batch]), -1) for i in range(0, len(xt), batch)]).numpy()


def accuracy(net: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict_proba(net, x).argmax(1) == y).mean())


def held_out_accuracy(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, classes: int,
                      kind: str, cfg: EvalConfig) -> dict[str, float]:
    """Mean held-out accuracy per architecture, models trained on (x, y)."""
    out = {}
    for arch in architectures(kind):
        nets = (train_classifier(arch, x, y, classes, cfg, seed) for seed in range(cfg.seeds))
        accs = [accuracy(net, x_test, y_test) for net in nets]
        out[arch] = float(np.mean(accs))
    return out


def relative(condensed: dict[str, float], full: dict[str, float]) -> dict[str, float]:
    return {arch: condensed[arch] / full[arch] for arch in condensed}
