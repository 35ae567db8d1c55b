"""kNN under a Mahalanobis metric, and the certified 1-NN radius that the closed-form margins give.

Certified radius. Let x be a test point whose 1-NN label under M is its true class c. For a same-class
training point j and an other-class point l, x stays nearer to j than to l under any perturbation δ with
‖δ‖₂ < h_jl(x) = (d²_M(x,l) − d²_M(x,j)) / (2‖M(x_l − x_j)‖) — the distance to their bisecting hyperplane,
the closed form of :mod:`.perturbation`. If for every l some j has ‖δ‖ < h_jl, no impostor can become the
nearest neighbour, so ``r(x) = min_l max_j h_jl(x)`` is a certified radius (a lower bound on the true one;
taking the max over only the ``genuine`` nearest j keeps it a lower bound). A misclassified point has
radius 0.
"""

from __future__ import annotations

import numpy as np

from glance_train.metric.triplets import squared_distances

CHUNK = 512


def predict(
    train_z: np.ndarray, train_y: np.ndarray, test_z: np.ndarray, k: int, n_classes: int
) -> np.ndarray:
    """Majority vote of the k nearest (Euclidean in the transformed space z = Lx); ties go to the class
    whose voters are nearer (each vote carries a tiny bonus that decreases with rank)."""
    out = np.empty(len(test_z), dtype=np.int64)
    bonus = 1e-3 / (1.0 + np.arange(k))
    for s in range(0, len(test_z), CHUNK):
        d = squared_distances(test_z[s:s + CHUNK], train_z)
        nn = np.argpartition(d, k - 1, axis=1)[:, :k] if k < d.shape[1] else np.argsort(d, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(d, nn, axis=1), axis=1)
        nn = np.take_along_axis(nn, order, axis=1)
        votes = np.zeros((len(nn), n_classes))
        np.add.at(votes, (np.arange(len(nn))[:, None], train_y[nn]), 1.0 + bonus[None, :])
        out[s:s + CHUNK] = votes.argmax(1)
    return out


def accuracy(
    train_z: np.ndarray, train_y: np.ndarray, test_z: np.ndarray, test_y: np.ndarray, k: int
) -> float:
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    return float((predict(train_z, train_y, test_z, k, n_classes) == test_y).mean())


def certified_radii(
    m: np.ndarray,
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    genuine: int = 10,
) -> np.ndarray:
    """r(x) per test point (0 where 1-NN under M is wrong), in the units of the input space."""
    u = train_x @ m  # rows M x_t (M symmetric)
    uu = (u * u).sum(1)
    d_all = (test_x @ m * test_x).sum(1)[:, None] + (train_x @ m * train_x).sum(1)[None, :] - 2 * test_x @ u.T
    radii = np.zeros(len(test_x))
    for i, (d, c) in enumerate(zip(d_all, test_y, strict=True)):
        same = np.flatnonzero(train_y == c)
        other = np.flatnonzero(train_y != c)
        if d[same].min() >= d[other].min():
            continue  # 1-NN already wrong
        j = same[np.argsort(d[same])[:genuine]]
        norm_sq = uu[j][:, None] + uu[other][None, :] - 2 * u[j] @ u[other].T  # ‖M(x_l − x_j)‖²
        h = (d[other][None, :] - d[j][:, None]) / (2 * np.sqrt(np.maximum(norm_sq, 1e-18)))
        radii[i] = h.max(0).min()
    return radii
