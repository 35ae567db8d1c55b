"""Active-learning criteria: each scores unlabelled candidates, higher = more worth asking about.

Every criterion sees the same :class:`Candidates` view, built from what a device also has: the current model's
class probabilities for each candidate, optionally a committee's probabilities (query-by-committee) and an
embedding (density weighting). Ties and the random criterion draw from the caller's generator, so a run is
reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Candidates:
    probs: np.ndarray
    """n × C class probabilities from the current model."""
    committee: np.ndarray | None = None
    """m × n × C probabilities from m committee members (query-by-committee), if any."""
    density: np.ndarray | None = None
    """n, how representative each candidate is of the pool (mean similarity to the others), if known."""

    def __len__(self) -> int:
        return len(self.probs)


def least_confidence(c: Candidates, rng: np.random.Generator) -> np.ndarray:
    return 1.0 - c.probs.max(axis=1)


def margin(c: Candidates, rng: np.random.Generator) -> np.ndarray:
    top2 = np.sort(c.probs, axis=1)[:, -2:]
    return -(top2[:, 1] - top2[:, 0])  # small gap between the two likeliest classes = informative


def entropy(c: Candidates, rng: np.random.Generator) -> np.ndarray:
    p = np.clip(c.probs, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def query_by_committee(c: Candidates, rng: np.random.Generator) -> np.ndarray:
    """Mean KL divergence of the members from the consensus (McCallum & Nigam); entropy if no committee."""
    if c.committee is None:
        return entropy(c, rng)
    members = np.clip(c.committee, 1e-12, 1.0)
    consensus = members.mean(axis=0)
    return (members * (np.log(members) - np.log(consensus))).sum(axis=2).mean(axis=0)


def density_weighted(c: Candidates, rng: np.random.Generator, beta: float = 1.0) -> np.ndarray:
    """Information density (Settles & Craven): entropy × representativeness^β."""
    if c.density is None:
        return entropy(c, rng)
    return entropy(c, rng) * np.power(np.clip(c.density, 1e-12, None), beta)


def random(c: Candidates, rng: np.random.Generator) -> np.ndarray:
    return rng.random(len(c))


Criterion = Callable[[Candidates, np.random.Generator], np.ndarray]

CRITERIA: dict[str, Criterion] = {
    "uncertainty": least_confidence,
    "margin": margin,
    "entropy": entropy,
    "qbc": query_by_committee,
    "density": density_weighted,
    "random": random,
}


def ranks(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """0 for the best candidate; ties broken at random so that equal scores do not favour low indices."""
    jitter = rng.random(len(scores)) * 1e-9 * (np.abs(scores).max() + 1e-12)
    order = np.argsort(-(scores + jitter), kind="stable")
    out = np.empty(len(scores), dtype=np.int64)
    out[order] = np.arange(len(scores))
    return out
