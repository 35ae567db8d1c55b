"""Gradient matching (Zhao, Mopuri & Bilen, "Dataset condensation with gradient matching"), the second method.

Outer loop: a freshly initialised classifier θ (the evaluation family's MLP or ConvNet). Inner loop,
``gm_inner`` times: per class c, match the gradient of the loss on synthetic samples to that on a real batch,

    D = Σ_layers Σ_rows (1 − cos(∇θ L(real_c), ∇θ L(syn_c)))      (layer-wise, per output row; biases skipped)

update the synthetic samples on Σ_c D, then train θ on the synthetic set for ``gm_net_steps`` SGD steps so
that later matches happen along a training trajectory. Small version: no augmentation, fewer loops than the
paper's, and the network is re-drawn every outer iteration as in the paper.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from glance_train.condense.common import ClassSampler, Condensed, CondenseConfig, initial_synthetic
from glance_train.condense.nets import build_classifier


def gradient_matching(x_real: np.ndarray, y_real: np.ndarray, classes: int, cfg: CondenseConfig,
                      log_every: int = 10) -> Condensed:
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    xr, yr = torch.from_numpy(x_real), torch.from_numpy(y_real)
    x_syn, y_syn = initial_synthetic(xr, yr, classes, cfg, gen)
    sampler = ClassSampler(xr, yr, classes, gen)
    opt = torch.optim.Adam([x_syn], lr=cfg.lr)
    shape = tuple(x_real.shape[1:])
    arch = matched_network(cfg.gm_net, shape)
    losses: list[float] = []
    for outer in range(cfg.iterations):
        net = build_classifier(arch, shape, classes)
        params = [p for p in net.parameters() if p.dim() > 1]
        net_opt = torch.optim.SGD(net.parameters(), lr=cfg.gm_net_lr, momentum=0.5)
        for _ in range(cfg.gm_inner):
            loss = torch.zeros(())
            for c in range(classes):
                real = sampler.batch(c, cfg.batch_real)
                target = torch.full((len(real),), c)
                g_real = torch.autograd.grad(nn.functional.cross_entropy(net(real), target), params)
                part = slice(c * cfg.ipc, (c + 1) * cfg.ipc)
                syn_loss = nn.functional.cross_entropy(net(x_syn[part]), y_syn[part])
                g_syn = torch.autograd.grad(syn_loss, params, create_graph=True)
                loss = loss + sum(_distance(gr.detach(), gs) for gr, gs in zip(g_real, g_syn, strict=True))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for _ in range(cfg.gm_net_steps):
                net_loss = nn.functional.cross_entropy(net(x_syn.detach()), y_syn)
                net_opt.zero_grad(set_to_none=True)
                net_loss.backward()
                net_opt.step()
        if outer % log_every == 0 or outer == cfg.iterations - 1:
            losses.append(float(loss) / classes)
    x_out = x_syn.detach().numpy().astype(np.float32)
    return Condensed(x_out, y_syn.numpy(), time.perf_counter() - start, losses)


def matched_network(name: str, shape: tuple[int, ...]) -> str:
    """GM's network for ``name``: "auto" by input (convnet for images, tcn for time series, else mlp); the
    time-series family "series" matches on its TCN (an LSTM's double backward is far slower on a CPU)."""
    if name == "auto":
        return {3: "convnet", 2: "tcn"}.get(len(shape), "mlp")
    return "tcn" if name == "series" else name


def _distance(g_real: torch.Tensor, g_syn: torch.Tensor) -> torch.Tensor:
    """Σ over output rows of 1 − cosine similarity (the GM paper's layer-wise distance)."""
    a = g_real.reshape(g_real.shape[0], -1)
    b = g_syn.reshape(g_syn.shape[0], -1)
    return (1 - (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1) + 1e-6)).sum()
