"""Clustering metrics computed by the project (checked against scikit-learn in the tests): NMI and WCP, and the
agglomerative clustering both the evaluation and the daemon use (average linkage on cosine distance)."""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def nmi(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Normalised mutual information, arithmetic-mean normalisation (scikit-learn's default)."""
    _, li = np.unique(labels, return_inverse=True)
    _, ci = np.unique(clusters, return_inverse=True)
    table = np.zeros((li.max() + 1, ci.max() + 1))
    np.add.at(table, (li, ci), 1)
    n = table.sum()
    pij = table / n
    pi, pj = pij.sum(1, keepdims=True), pij.sum(0, keepdims=True)
    nz = pij > 0
    mi = float((pij[nz] * np.log(pij[nz] / (pi @ pj)[nz])).sum())
    h = (_entropy(table.sum(1)) + _entropy(table.sum(0))) / 2
    return mi / h if h > 0 else 1.0


def wcp(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Weighted clustering purity: each cluster's share of its majority label, weighted by cluster size."""
    total = 0
    for c in np.unique(clusters):
        _, counts = np.unique(labels[clusters == c], return_counts=True)
        total += counts.max()
    return total / len(labels)


def agglomerate(emb: np.ndarray, n_clusters: int | None = None, threshold: float | None = None) -> np.ndarray:
    """Average-linkage clustering on cosine distance, cut at ``n_clusters`` or at distance ``threshold``."""
    if len(emb) < 2:
        return np.ones(len(emb), int)
    z = linkage(pdist(emb, "cosine"), "average")
    if n_clusters is not None:
        return fcluster(z, n_clusters, "maxclust")
    return fcluster(z, threshold, "distance")


def tune_threshold(emb: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The cut distance, with the number of people unknown, that maximises the harmonic mean of purity (WCP) and
    inverse purity (NMI alone rewards splitting everyone into many small clusters); returns (threshold, score)."""
    best = (0.5, -1.0)
    # candidates at quantiles of the pairwise distances: the useful range depends on how spread the model is
    for t in np.quantile(pdist(emb, "cosine"), np.linspace(0.002, 0.5, 60)):
        c = agglomerate(emb, threshold=float(t))
        p, ip = wcp(labels, c), wcp(c, labels)
        score = 2 * p * ip / (p + ip)
        if score > best[1]:
            best = (float(t), score)
    return best
