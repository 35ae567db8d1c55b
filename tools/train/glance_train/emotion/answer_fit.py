"""Fit an emotion head's weights to the wearer's answers, starting from (and pulled towards) the base head.

Answers are few and unbalanced (the queue asks about what the device is unsure of), so, as the device's
personal head does (docs/labels.md, ``ANSWER_FIT``), the bias stays frozen at the base's: a bias learnt from a
handful of answers learns their class mix, not the wearer. Each answer's cross-entropy is weighted by the
inverse of its class's share of the answers and by 1/query_probability (clipped, so one rarely-asked answer
cannot dominate): the queue chose what to ask, and importance weighting undoes that choice. An L2 pull to the
base weights keeps the head close to the population model where the answers say little.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class AnswerFit:
    epochs: int = 200
    lr: float = 0.02
    l2_to_base: float = 0.05
    """Weight of mean squared distance to the base weights, relative to the mean weighted cross-entropy."""
    min_query_probability: float = 0.05
    """1/query_probability is clipped at 1/this (20)."""


def answer_weights(
    classes: np.ndarray, query_probability: np.ndarray, n_classes: int, fit: AnswerFit
) -> np.ndarray:
    """Per answer: class-mix weight x clipped inverse query probability, normalised to mean 1."""
    counts = np.bincount(classes, minlength=n_classes).astype(np.float64)
    present = counts > 0
    per_class = np.zeros(n_classes)
    per_class[present] = len(classes) / (present.sum() * counts[present])
    w = per_class[classes] / np.clip(query_probability, fit.min_query_probability, 1.0)
    return w / w.mean()


def fit_head_weights(
    base_weight: np.ndarray,
    bias: np.ndarray,
    embeddings: np.ndarray,
    classes: np.ndarray,
    sample_weights: np.ndarray,
    fit: AnswerFit,
) -> np.ndarray:
    """New (classes, embedding) weights; the bias is used as is and never changes."""
    torch.set_num_threads(1)
    w0 = torch.tensor(base_weight, dtype=torch.float64)
    w = w0.clone().requires_grad_(True)
    b = torch.tensor(bias, dtype=torch.float64)
    x = torch.tensor(embeddings, dtype=torch.float64)
    y = torch.tensor(classes, dtype=torch.long)
    sw = torch.tensor(sample_weights, dtype=torch.float64)
    opt = torch.optim.Adam([w], lr=fit.lr)
    for _ in range(fit.epochs):
        opt.zero_grad()
        ce = torch.nn.functional.cross_entropy(x @ w.T + b, y, reduction="none")
        loss = (ce * sw).mean() + fit.l2_to_base * ((w - w0) ** 2).sum(dim=1).mean()
        loss.backward()
        opt.step()
    return w.detach().numpy()


def accuracy(weight: np.ndarray, bias: np.ndarray, embeddings: np.ndarray, classes: np.ndarray) -> float:
    if len(classes) == 0:
        return float("nan")
    return float(np.mean(np.argmax(embeddings @ weight.T + bias, axis=1) == classes))
