"""REXP4: EXP4 (a bandit with expert advice) whose weights restart every Δ_T rounds (DEAL, papers.md §10).

Actions are the K unlabelled candidates; experts are active-learning criteria. Per round:

    advice_e  = a distribution over candidates from criterion e's ranking: advice_e(i) ∝ exp(−rank_e(i) / τ)
                (τ = ``advice_scale``; at τ = 1 the top candidate holds 63% of the mass, the next 23%)
    p         = (1 − γ) · Σ_e w_e · advice_e + γ / K                      (γ = exploration rate)
    ask about b candidates drawn from p (without replacement); each answer gives a reward r_i
    r̂_i       = r_i / p_i  (importance weighting; p_i = probability of i when it was drawn)
    ŷ_e       = (1/b) Σ_i advice_e(i) · r̂_i                  (unbiased estimate of expert e's reward)
    w_e       ← w_e · exp(η · ŷ_e), normalised
    every Δ_T rounds: w ← uniform                                         (the restart that makes it REXP4)

Deviation, stated: EXP4 couples the learning rate to the exploration rate (η = γ / K). With K = the pool size
(hundreds to thousands) that rate is too small to move the weights within one labelling session, so η is its
own knob here; the query distribution keeps the paper's form. The reward (:mod:`glance_train.active.rewards`)
is the paper's kind by default: the importance-weighted accuracy gain the round's labels bought, which may be
negative (the update is in log space, so any real reward is safe).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glance_train.active.criteria import ranks


@dataclass(frozen=True)
class Rexp4Config:
    # Defaults chosen on validation sessions (seeds 100–102, ``tune.py``), not on the evaluated seeds 0–4.
    gamma: float = 0.05
    """Exploration rate: share of the query probability spread uniformly over the candidates."""
    restart: int = 10
    """Δ_T: rounds between weight resets (0 = never: stationary EXP4, the ALBL-like baseline)."""
    eta: float = 3.0
    """Learning rate of the exponential-weights update."""
    advice_scale: float = 1.0
    """τ in advice ∝ exp(−rank/τ)."""


def advice_from_ranks(rank: np.ndarray, scale: float) -> np.ndarray:
    a = np.exp(-rank / max(scale, 1e-9))
    return a / a.sum()


class Rexp4:
    def __init__(self, experts: list[str], cfg: Rexp4Config) -> None:
        self.experts = list(experts)
        self.cfg = cfg
        self.weights = np.full(len(experts), 1.0 / len(experts))
        self.round = 0
        self.history: list[list[float]] = []

    def advice(self, scores: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """E × K advice matrix from each expert's scores (higher = ask sooner)."""
        scale = self.cfg.advice_scale
        return np.stack([advice_from_ranks(ranks(scores[e], rng), scale) for e in self.experts])

    def query_distribution(self, advice: np.ndarray) -> np.ndarray:
        k = advice.shape[1]
        return (1 - self.cfg.gamma) * (self.weights @ advice) + self.cfg.gamma / k

    def draw(self, p: np.ndarray, b: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """b distinct candidates, each with the probability it had when drawn (renormalised over the rest)."""
        p = p.copy()
        chosen, probs = [], []
        for _ in range(min(b, len(p))):
            q = p / p.sum()
            i = int(rng.choice(len(q), p=q))
            chosen.append(i)
            probs.append(float(q[i]))
            p[i] = 0.0
        return np.array(chosen, dtype=np.int64), np.array(probs)

    def update(self, advice: np.ndarray, chosen: np.ndarray, probs: np.ndarray, rewards: np.ndarray) -> None:
        est = (advice[:, chosen] * (rewards / probs)[None, :]).mean(axis=1)
        logw = np.log(np.clip(self.weights, 1e-300, None)) + self.cfg.eta * est
        w = np.exp(logw - logw.max())  # in log space: large η·ŷ must not overflow
        self.weights = w / w.sum()

    def end_round(self) -> None:
        self.history.append(self.weights.tolist())
        self.round += 1
        if self.cfg.restart > 0 and self.round % self.cfg.restart == 0:
            self.weights = np.full(len(self.experts), 1.0 / len(self.experts))

    def state(self) -> dict[str, Any]:
        return {"experts": self.experts, "weights": self.weights.tolist(), "round": self.round}

    def load_state(self, state: dict[str, Any]) -> None:
        if list(state["experts"]) != self.experts:
            raise ValueError(f"state is for experts {state['experts']}, this bandit has {self.experts}")
        self.weights = np.asarray(state["weights"], dtype=float)
        self.round = int(state["round"])
