"""Distribution matching (Zhao & Bilen; the healthcare-sharing paper's public method, papers.md §9).

Synthetic samples start from noise. Each iteration draws a freshly initialised, frozen embedder f from a
family (``nets.random_embedder``) and minimises, summed over classes c,

    ‖ mean_{x ∈ real_c} f(x) − mean_{s ∈ syn_c} f(s) ‖²

with Adam on the synthetic samples only. The paper's code also applies differentiable siamese augmentation to
image batches; this small version leaves it out (the 8×8 and 20×20 digits here need none to work).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from glance_train.condense.common import ClassSampler, Condensed, CondenseConfig, initial_synthetic
from glance_train.condense.nets import random_embedder


def distribution_matching(x_real: np.ndarray, y_real: np.ndarray, classes: int, cfg: CondenseConfig,
                          log_every: int = 50) -> Condensed:
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)  # embedder initialisation draws from torch's global generator
    xr, yr = torch.from_numpy(x_real), torch.from_numpy(y_real)
    x_syn, y_syn = initial_synthetic(xr, yr, classes, cfg, gen)
    sampler = ClassSampler(xr, yr, classes, gen)
    opt = torch.optim.Adam([x_syn], lr=cfg.lr)
    losses: list[float] = []
    shape = tuple(x_real.shape[1:])
    for it in range(cfg.iterations):
        embed = random_embedder(shape, rng, cfg.family)
        # One forward for all classes' real batches and one for the synthetic set: fewer, larger calls.
        batches = [sampler.batch(c, cfg.batch_real) for c in range(classes)]
        with torch.no_grad():
            real_emb = embed(torch.cat(batches)).split([len(b) for b in batches])
        real_mean = torch.stack([e.mean(0) for e in real_emb])
        syn_mean = embed(x_syn).reshape(classes, cfg.ipc, -1).mean(1)  # x_syn is ordered class by class
        loss = ((real_mean - syn_mean) ** 2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it % log_every == 0 or it == cfg.iterations - 1:
            losses.append(float(loss) / classes)
    x_out = x_syn.detach().numpy().astype(np.float32)
    return Condensed(x_out, y_syn.numpy(), time.perf_counter() - start, losses)
