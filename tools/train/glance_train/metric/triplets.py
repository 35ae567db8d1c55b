"""Target neighbours and impostors for LMNN, fixed once from Euclidean distances in the input space.

As in the authors' MATLAB code (``generate_knntriplets.m``): every training point ``i`` gets its ``k`` nearest
same-class points ``j`` (target neighbours, Euclidean, fixed for the whole fit as in LMNN) and its
``impostors`` nearest other-class points ``l``; the triplets are all ``(i, j, l)`` combinations and the pull
pairs are the ``(i, j)``. Unlike the authors' code, the impostors are the other-class points inside the LMNN
margin (with a floor and a cap on their number), searched again under the current metric as the fit goes
(``space``), as in Weinberger & Saul's LMNN: with a fixed set of the 5 nearest, LMNN collapsed letters to
rank 4 and lost over 20 points of accuracy, because points that became impostors during the fit went unseen.

A triplet's distances are those of two pairs, (i, j) and (i, l), each shared by several triplets; so the
objective works on the unique pairs (k + impostors per point) and maps triplets onto them, which is several
times cheaper than one difference vector per triplet and side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Triplets:
    """Index arrays into the training set. Triplet ``t`` is ``(anchor[t], target[t], impostor[t])``; its
    (i, j) pair is row ``near[t]`` of the target pairs and its (i, l) pair row ``far[t]`` of the impostor
    pairs."""

    anchor: np.ndarray
    target: np.ndarray
    impostor: np.ndarray
    near: np.ndarray
    far: np.ndarray
    target_pairs: np.ndarray
    """P×2 (i, j): also the pull pairs."""
    impostor_pairs: np.ndarray
    """Q×2 (i, l)."""

    def __len__(self) -> int:
        return int(self.anchor.size)


@dataclass(frozen=True)
class TripletDiffs:
    """The difference vectors the objective needs (rows), and the triplet → pair maps."""

    near: np.ndarray
    """P×D, x_i − x_j over the target pairs."""
    far: np.ndarray
    """Q×D, x_i − x_l over the impostor pairs."""
    jl: np.ndarray
    """T×D, x_l − x_j per triplet: the bisecting hyperplane's normal is M·jl."""
    near_of: np.ndarray
    far_of: np.ndarray

    @property
    def n_triplets(self) -> int:
        return int(self.jl.shape[0])


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """‖a_r − b_c‖² for every row pair, clipped at 0 against rounding."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def _nearest(d: np.ndarray, count: int) -> np.ndarray:
    """Column indices of the ``count`` smallest entries per row, nearest first."""
    count = min(count, d.shape[1])
    part = np.argpartition(d, count - 1, axis=1)[:, :count]
    return np.take_along_axis(part, np.argsort(np.take_along_axis(d, part, axis=1), axis=1), axis=1)


def build_triplets(
    x: np.ndarray, y: np.ndarray, k: int, impostors: tuple[int, int], space: np.ndarray | None = None
) -> Triplets:
    """Targets: the ``k`` Euclidean nearest same-class points on ``x``. Impostors, by distance in ``space``
    (default ``x``; ``x @ L.T`` for the current metric M = LᵀL): every other-class point inside the LMNN
    margin of anchor i (d² < max_j d²(i,j) + 1), at least the ``impostors[0]`` nearest (so that the
    perturbation term always has triplets to work on), at most the ``impostors[1]`` nearest."""
    least, most = impostors
    if k < 1 or least < 1 or most < least:
        raise ValueError(f"need k >= 1 and 1 <= min <= max impostors, got k={k}, impostors={impostors}")
    if len(np.unique(y)) < 2:
        raise ValueError("metric learning needs at least two classes in the training labels")
    d = squared_distances(x, x)
    np.fill_diagonal(d, np.inf)
    same = y[:, None] == y[None, :]
    n = len(y)
    d_same = np.where(same, d, np.inf)
    targets = _nearest(d_same, k)
    ok = np.isfinite(np.take_along_axis(d_same, targets, axis=1))  # a class smaller than k + 1 has fewer
    if space is not None:
        d = squared_distances(space, space)
    reach = np.where(ok, np.take_along_axis(d, targets, axis=1), -np.inf).max(1) + 1.0
    d_other = np.where(same, np.inf, d)
    imps = _nearest(d_other, most)
    keep = np.take_along_axis(d_other, imps, axis=1) < reach[:, None]
    keep[:, :least] = True
    keep &= np.isfinite(np.take_along_axis(d_other, imps, axis=1))
    target_pairs = np.stack([np.repeat(np.arange(n), k)[ok.ravel()], targets[ok]], axis=1)
    impostor_pairs = np.stack([np.repeat(np.arange(n), imps.shape[1])[keep.ravel()], imps[keep]], axis=1)
    # Impostor pairs are anchor-major: anchor i's rows are first[i] … first[i] + count[i] − 1. Each target
    # pair (i, j) makes one triplet with each of them.
    count = keep.sum(1)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    per_pair = count[target_pairs[:, 0]]
    near = np.repeat(np.arange(len(target_pairs)), per_pair)
    offset = np.arange(per_pair.sum()) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    far = first[target_pairs[near, 0]] + offset
    anchor = target_pairs[near, 0]
    target, impostor = target_pairs[near, 1], impostor_pairs[far, 1]
    return Triplets(anchor, target, impostor, near, far, target_pairs, impostor_pairs)


def diffs(x: np.ndarray, t: Triplets) -> TripletDiffs:
    return TripletDiffs(
        near=x[t.target_pairs[:, 0]] - x[t.target_pairs[:, 1]],
        far=x[t.impostor_pairs[:, 0]] - x[t.impostor_pairs[:, 1]],
        jl=x[t.impostor] - x[t.target],
        near_of=t.near,
        far_of=t.far,
    )
