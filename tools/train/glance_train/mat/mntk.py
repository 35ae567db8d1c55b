"""Modular NTK principal eigenvalues: λ_max(Θ_m), Θ_m = J_m J_mᵀ, per module m on a probe batch.

J_m is the Jacobian of the network outputs (all B probe samples × C logits, flattened to B·C rows) with
respect to module m's parameters only; the full NTK is Σ_m Θ_m. Rather than the P_m × P_m matrix J_mᵀ J_m we
take the small B·C × B·C Gram matrix J_m J_mᵀ, which has the same non-zero eigenvalues, and ``eigvalsh`` it.

How J is computed decides what MAT costs in wall time on small models. The arithmetic is B one-sample
forwards and B·C one-sample backwards whatever the method; what differs is the Python and dispatch overhead:

- ``vmap(jacrev)`` (functorch, shipped with torch 1.13): one vectorised pass computes every per-sample,
  per-logit row at once, with no cross-sample waste. 3–5× faster than the loop on the ViT here. The default.
- the loop (fallback when functorch is missing or an op has no batching rule): one backward per logit.

Power iteration with JVP/VJP products was considered and rejected: each module needs its own products
(J_m v touches only module m's parameters), so every power step costs one pass *per module*, M passes × a
few steps, while the Gram matrix is only B·C × B·C (40 × 40) and one vectorised Jacobian serves all modules.

The network is probed in eval mode so batch norms use their running statistics and the probe does not move
them. The probe's FLOPs are charged from one counted one-sample forward (all parameters requiring grad):
(B + 1) forwards (the counting pass included) and B·C backwards.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import stateless

from glance_train.mat.flops import FlopCounter, Tally

ModuleGroups = dict[str, list[nn.Parameter]]

try:  # functorch ships with torch 1.13 (torch.func from 2.0)
    from functorch import jacrev, vmap
except ImportError:  # pragma: no cover - depends on the torch build
    jacrev = vmap = None


def module_lambda_max(
    model: nn.Module, groups: ModuleGroups, probe: torch.Tensor, counter: FlopCounter | None = None,
    vectorised: bool = True,
) -> tuple[dict[str, float], Tally]:
    """λ_max per module and the FLOPs the probe spent (B forwards, B·C one-sample backwards).

    ``counter``: the trainer's counter if it has one (the probe counts in its own section); otherwise a
    temporary one is hooked in for the duration of the probe. ``vectorised=False`` forces the loop.
    """
    own = counter is None
    counter = FlopCounter(model) if counter is None else counter
    try:
        return _probe(model, groups, probe, counter, vectorised)
    finally:
        if own:
            counter.close()


def _probe(
    model: nn.Module, groups: ModuleGroups, probe: torch.Tensor, counter: FlopCounter, vectorised: bool
) -> tuple[dict[str, float], Tally]:
    names = list(groups)
    params = [p for n in names for p in groups[n]]
    sizes = [sum(p.numel() for p in groups[n]) for n in names]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    was_training = model.training
    try:
        for p in params:
            p.requires_grad_(True)  # a frozen module's λ must still be measured, or it could never come back
        model.eval()
        with counter.section("mat-probe"), torch.enable_grad():
            outputs = first_sample_outputs(model(probe[:1]))
        one = counter.take("mat-probe")
        spent = Tally(forward=(len(probe) + 1) * one.forward, backward=len(probe) * outputs.numel() * one.backward)
        with counter.paused():
            jac = None
            if vectorised and vmap is not None:
                try:
                    jac = _jacobian_vectorised(model, params, probe)
                except RuntimeError:  # an op without a batching rule: the loop computes the same rows
                    jac = None
            if jac is None:
                jac = torch.cat([_jacobian_rows(first_sample_outputs(model(probe[i : i + 1])), params)
                                 for i in range(len(probe))])
    finally:
        model.train(was_training)
        for p, flag in flags:
            p.requires_grad_(flag)
    lambdas = {}
    for name, part in zip(names, jac.split(sizes, dim=1), strict=True):
        part = part.double()  # (B·C) × P_m
        lambdas[name] = float(torch.linalg.eigvalsh(part @ part.T)[-1])
    return lambdas, spent


def first_sample_outputs(outputs: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
    """All outputs of a one-sample forward as one vector: a classifier's logits, or every head of a
    multi-output model (the pupil net's centre, axes, angle and open logit) side by side. The mNTK is over all of them."""
    if isinstance(outputs, torch.Tensor):
        return outputs[0].reshape(-1)
    return torch.cat([o[0].reshape(-1) for o in outputs])


def _jacobian_vectorised(model: nn.Module, params: list[nn.Parameter], probe: torch.Tensor) -> torch.Tensor:
    """(B·C) × P: per-sample Jacobians of the outputs w.r.t. ``params`` by ``vmap(jacrev)`` over the probe."""
    names = {id(p): n for n, p in model.named_parameters()}
    keys = [names[id(p)] for p in params]

    def outputs(values: tuple[torch.Tensor, ...], x: torch.Tensor) -> torch.Tensor:
        out = stateless.functional_call(model, dict(zip(keys, values, strict=True)), (x.unsqueeze(0),))
        return first_sample_outputs(out)

    values = tuple(p.detach() for p in params)
    per_param = vmap(jacrev(outputs), in_dims=(None, 0))(values, probe)  # each: B × C × *p.shape
    b, c = per_param[0].shape[:2]
    return torch.cat([j.reshape(b * c, -1) for j in per_param], dim=1).detach()


def _jacobian_rows(out: torch.Tensor, params: list[nn.Parameter]) -> torch.Tensor:
    """d out_c / d params for every logit c, as a C × P matrix (unused parameters give zero columns)."""
    per_logit = []
    for c in range(out.numel()):
        g = torch.autograd.grad(out[c], params, retain_graph=c < out.numel() - 1, allow_unused=True)
        per_logit.append(torch.cat([_flat(gi, p) for gi, p in zip(g, params, strict=True)]))
    return torch.stack(per_logit)


def _flat(grad: torch.Tensor | None, param: nn.Parameter) -> torch.Tensor:
    return torch.zeros(param.numel()) if grad is None else grad.reshape(-1).detach()
