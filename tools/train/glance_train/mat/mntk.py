"""Modular NTK principal eigenvalues: λ_max(Θ_m), Θ_m = J_m J_mᵀ, per module m on a probe batch.

J_m is the Jacobian of the network outputs (all B probe samples × C logits, flattened to B·C rows) with
respect to module m's parameters only; the full NTK is Σ_m Θ_m. Rather than the P_m × P_m matrix J_mᵀ J_m we
take the small B·C × B·C Gram matrix J_m J_mᵀ, which has the same non-zero eigenvalues, and ``eigvalsh`` it.

Each probe sample runs a forward pass of its own and C backward passes (one per logit): B·C backward passes
of a one-sample graph instead of B·C passes of a B-sample graph. The network is probed in eval mode so batch
norms use their running statistics and the probe does not move them.
"""

from __future__ import annotations

import torch
from torch import nn

from glance_train.mat.flops import FlopCounter, Tally

ModuleGroups = dict[str, list[nn.Parameter]]


def module_lambda_max(
    model: nn.Module, groups: ModuleGroups, probe: torch.Tensor, counter: FlopCounter | None = None
) -> tuple[dict[str, float], Tally]:
    """λ_max per module and the FLOPs the probe spent (B forwards, B·C one-sample backwards).

    ``counter``: the trainer's counter if it has one (the probe counts in its own section); otherwise a
    temporary one is hooked in for the duration of the probe.
    """
    own = counter is None
    counter = FlopCounter(model) if counter is None else counter
    try:
        with counter.section("mat-probe"):
            return _probe(model, groups, probe, counter)
    finally:
        if own:
            counter.close()


def _probe(
    model: nn.Module, groups: ModuleGroups, probe: torch.Tensor, counter: FlopCounter
) -> tuple[dict[str, float], Tally]:
    names = list(groups)
    params = [p for n in names for p in groups[n]]
    sizes = [sum(p.numel() for p in groups[n]) for n in names]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    was_training = model.training
    rows: list[list[torch.Tensor]] = [[] for _ in names]
    spent = Tally()
    try:
        for p in params:
            p.requires_grad_(True)  # a frozen module's λ must still be measured, or it could never come back
        model.eval()
        for i in range(len(probe)):
            with torch.enable_grad():
                out = first_sample_outputs(model(probe[i : i + 1]))
            one = counter.take("mat-probe")
            spent.forward += one.forward
            spent.backward += one.backward * out.numel()  # one backward per logit
            flat = _jacobian_rows(out, params)  # C × P
            for j, part in enumerate(flat.split(sizes, dim=1)):
                rows[j].append(part)
    finally:
        model.train(was_training)
        for p, flag in flags:
            p.requires_grad_(flag)
    lambdas = {}
    for name, parts in zip(names, rows, strict=True):
        jac = torch.cat(parts).double()  # (B·C) × P_m
        lambdas[name] = float(torch.linalg.eigvalsh(jac @ jac.T)[-1])
    return lambdas, spent


def first_sample_outputs(outputs: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
    """All outputs of a one-sample forward as one vector: a classifier's logits, or every head of a
    multi-output model (the pupil net's centre, axes, angle and open logit) side by side. The mNTK is over all of them."""
    if isinstance(outputs, torch.Tensor):
        return outputs[0].reshape(-1)
    return torch.cat([o[0].reshape(-1) for o in outputs])


def _jacobian_rows(out: torch.Tensor, params: list[nn.Parameter]) -> torch.Tensor:
    """d out_c / d params for every logit c, as a C × P matrix (unused parameters give zero columns).

    One backward per logit through the one-sample graph. ``is_grads_batched`` (vmap over the backward) gives
    the same rows but was no faster on CPU for these small models, and falls back for some ops.
    """
    per_logit = []
    for c in range(out.numel()):
        g = torch.autograd.grad(out[c], params, retain_graph=c < out.numel() - 1, allow_unused=True)
        per_logit.append(torch.cat([_flat(gi, p) for gi, p in zip(g, params, strict=True)]))
    return torch.stack(per_logit)


def _flat(grad: torch.Tensor | None, param: nn.Parameter) -> torch.Tensor:
    return torch.zeros(param.numel()) if grad is None else grad.reshape(-1).detach()
