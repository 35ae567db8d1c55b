"""The paper's closed-form adversarial margin of a triplet, and the perturbation loss built on it (§7).

For a triplet (anchor x_i, target neighbour x_j, impostor x_l) and a metric M, the points equally far from x_j
and x_l under M form the hyperplane ``g(x) = d²_M(x, x_l) − d²_M(x, x_j) = 0``. ``g`` is affine in x (the
quadratic terms cancel): ``∇g = −2 M (x_l − x_j)`` and ``g(x_i) = d²_M(i,l) − d²_M(i,j) =: Δ``. So the nearest
adversarial example of x_i — the closest input (Euclidean, in the input space) at which x_l is as near as
x_j — is its projection on that hyperplane:

    x̃_i = x_i + Δ / (2 ‖M(x_l − x_j)‖²) · M(x_l − x_j),     d² = ‖x̃_i − x_i‖² = Δ² / (4 ‖M(x_l − x_j)‖²).

The perturbation loss asks that distance to be at least τ: ``[τ² − d²]₊`` when Δ ≥ 0, and τ² (its largest
value, a constant) when the triplet is already violated (Δ < 0), as in the authors' ``calculate_obj.m``.
Note d² does not change when M is scaled: the term shapes the metric, the hinge sets its scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-12


def nearest_adversarial(m: np.ndarray, x_i: np.ndarray, x_j: np.ndarray, x_l: np.ndarray) -> np.ndarray:
    """x̃_i for one triplet (vectors): the point the closed form says is nearest. Used by the tests."""
    n = m @ (x_l - x_j)
    gap = (x_i - x_l) @ m @ (x_i - x_l) - (x_i - x_j) @ m @ (x_i - x_j)
    return x_i + gap / (2.0 * (n @ n) + EPS) * n


def adversarial_sq_distance(gap: np.ndarray, normal_sq: np.ndarray) -> np.ndarray:
    """d² = Δ² / (4‖M(x_l − x_j)‖²) per triplet, from Δ and ‖M(x_l − x_j)‖²."""
    return gap**2 / (4.0 * normal_sq + EPS)


def normal_sq(m: np.ndarray, jl: np.ndarray) -> np.ndarray:
    """‖M(x_l − x_j)‖² per row of ``jl``."""
    mj = jl @ m
    return (mj * mj).sum(1)


@dataclass(frozen=True)
class PerturbationState:
    """Which triplets the loss sees: ``active`` (Δ ≥ 0 and d² < τ²: has a gradient), ``violated`` (Δ < 0)."""

    gap: np.ndarray
    normal_sq: np.ndarray
    sq_distance: np.ndarray
    active: np.ndarray
    violated: np.ndarray


def state(gap: np.ndarray, q: np.ndarray, tau: float) -> PerturbationState:
    sq = adversarial_sq_distance(gap, q)
    violated = gap < 0
    return PerturbationState(gap, q, sq, ~violated & (sq < tau * tau), violated)


def state_pruned(
    m: np.ndarray, gap: np.ndarray, jl: np.ndarray, jl_sq: np.ndarray, tau: float
) -> PerturbationState:
    """:func:`state` without computing ‖M(x_l − x_j)‖² where it cannot matter. Since ‖M v‖ ≤ σ_max(M)‖v‖,
    d² ≥ Δ² / (4 σ_max² ‖x_l − x_j‖²): a triplet whose lower bound is already ≥ τ² is inactive for sure, and a
    violated one needs no distance. Its q is left at +inf (so d² = 0 there, which nothing reads)."""
    top = float(np.linalg.eigvalsh(m)[-1])
    maybe = (gap >= 0) & (gap * gap < 4.0 * tau * tau * top * top * jl_sq)
    q = np.full(gap.shape, np.inf)
    q[maybe] = normal_sq(m, jl[maybe])
    sq = np.where(maybe, gap**2 / (4.0 * np.where(maybe, q, 1.0) + EPS), np.inf)
    violated = gap < 0
    return PerturbationState(gap, q, sq, maybe & (sq < tau * tau), violated)


def loss(s: PerturbationState, tau: float) -> float:
    """Σ over triplets of [τ² − d²]₊, with τ² for violated triplets (not yet divided by their number)."""
    return float((tau * tau - s.sq_distance[s.active]).sum() + tau * tau * s.violated.sum())


@dataclass(frozen=True)
class GradientParts:
    """∂/∂M Σ_active (τ² − Δ²/4q), q = jlᵀM²jl, split so the caller can fold it into its pair sums. With
    A = Δ/q:  ∂(−Δ²/4q) = −(A/2)(il ilᵀ − ij ijᵀ) + (A²/4)(M jl jlᵀ + jl jlᵀ M), i.e. a weight A/2 on the
    triplet's (i,j) outer product, −A/2 on its (i,l) one, and ``M S + S M`` with S = Σ (A²/4) jl jlᵀ.
    Violated triplets contribute a constant, so no gradient (as in the authors' ``calculate_grad.m``)."""

    pair_weight: np.ndarray
    """A/2 per triplet (0 where not active): + on the (i,j) pair, − on the (i,l) pair."""
    s: np.ndarray


def gradient_parts(jl: np.ndarray, st: PerturbationState) -> GradientParts:
    a = np.where(st.active, st.gap / (st.normal_sq + EPS), 0.0)
    on = st.active
    s = (jl[on] * (a[on] ** 2 / 4.0)[:, None]).T @ jl[on]
    return GradientParts(a / 2.0, s)
