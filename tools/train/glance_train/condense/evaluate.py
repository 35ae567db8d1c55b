"""Does a condensed set still teach? Train fresh models of several architectures on it; test on real records.

The same recipe (Adam, weight decay, a fixed number of steps) trains on the condensed set and on the full real
training split, so the ratio of their held-out accuracies (``relative``) measures what condensation kept.
Several seeds per architecture; the mean is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
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
    return held_out_scores(x, y, x_test, y_test, classes, kind, cfg)[0]


def held_out_scores(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, classes: int,
                    kind: str, cfg: EvalConfig) -> tuple[dict[str, float], dict[str, float]]:
    """Mean held-out accuracy and macro one-vs-rest AUC (the paper reports AUC) per architecture."""
    accs: dict[str, float] = {}
    aucs: dict[str, float] = {}
    for arch in architectures(kind):
        probs = [predict_proba(train_classifier(arch, x, y, classes, cfg, seed), x_test)
                 for seed in range(cfg.seeds)]
        accs[arch] = float(np.mean([(p.argmax(1) == y_test).mean() for p in probs]))
        aucs[arch] = float(np.mean([macro_auc(y_test, p) for p in probs]))
    return accs, aucs


def macro_auc(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean one-vs-rest ROC AUC over the classes present (with negatives) in ``y``."""
    scores = [roc_auc_score(y == c, proba[:, c])
              for c in range(proba.shape[1]) if 0 < (y == c).sum() < len(y)]
    return float(np.mean(scores)) if scores else float("nan")


def relative(condensed: dict[str, float], full: dict[str, float]) -> dict[str, float]:
    return {arch: condensed[arch] / full[arch] if full[arch] > 0 else float("nan") for arch in condensed}
