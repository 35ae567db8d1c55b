"""The label queue: which memories to ask the wearer about, chosen by DEAL, and learning from the answers.

The device side is a port of this class (pipelines/labels/label-queue.ts in the daemon, checked pick for pick
against it through ``replay.py``; candidates are snippets or emotion records with the current model's class
probabilities and an embedding); the pool-based benchmark in ``loop.py`` drives the same class, so what is
measured is what ships. State is a small JSON-able dict (expert weights, round, pending questions), so the
queue survives a restart of the daemon.

    queue = LabelQueue(LabelQueueConfig(), seed=7)
    picks = queue.pick(ids, probs, embeddings=emb, k=3)        # ask the wearer about these
    queue.answer(picks[0].item, label=2)                         # the wearer's answer (any order, any time)
    queue.end_round(round_reward=changed)                        # after retraining on the round's answers
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glance_train.active.criteria import CRITERIA, Candidates
from glance_train.active.rewards import surprise
from glance_train.active.rexp4 import Rexp4, Rexp4Config


@dataclass(frozen=True)
class LabelQueueConfig:
    criteria: tuple[str, ...] = ("uncertainty", "margin", "entropy", "qbc", "density", "random")
    bandit: Rexp4Config = field(default_factory=Rexp4Config)


@dataclass(frozen=True)
class Pick:
    item: str
    probability: float
    """The query probability when drawn (importance weight = 1 / probability)."""
    expert_votes: dict[str, float]
    """Each criterion's advice mass on this item: why it was asked."""


@dataclass
class _Pending:
    advice: np.ndarray
    """E-vector: each expert's advice mass on this item."""
    probability: float
    probs: np.ndarray
    """The model's class probabilities when asked."""


def density_from_embeddings(emb: np.ndarray) -> np.ndarray:
    """Mean Gaussian-kernel similarity of a candidate to the others (bandwidth: median squared distance)."""
    sq = (emb**2).sum(1)
    d2 = np.clip(sq[:, None] + sq[None, :] - 2 * emb @ emb.T, 0.0, None)
    bandwidth = np.median(d2[d2 > 0]) if np.any(d2 > 0) else 1.0
    return np.exp(-d2 / bandwidth).mean(axis=1)


class LabelQueue:
    def __init__(self, config: LabelQueueConfig | None = None, seed: int = 0) -> None:
        self.config = config or LabelQueueConfig()
        unknown = set(self.config.criteria) - set(CRITERIA)
        if unknown:
            raise ValueError(f"unknown criteria {sorted(unknown)}; known: {sorted(CRITERIA)}")
        self.bandit = Rexp4(list(self.config.criteria), self.config.bandit)
        self.rng = np.random.default_rng(seed)
        self._pending: dict[str, _Pending] = {}
        self._round: list[tuple[np.ndarray, float, float]] = []

    def pick(self, items: Sequence[str], probs: np.ndarray, k: int = 1, committee: np.ndarray | None = None,
             embeddings: np.ndarray | None = None, density: np.ndarray | None = None) -> list[Pick]:
        """Choose ``k`` of ``items`` to ask about. ``density`` (precomputed) wins over ``embeddings``."""
        if len(items) != len(probs):
            raise ValueError(f"{len(items)} items but {len(probs)} probability rows")
        if density is None and embeddings is not None:
            density = density_from_embeddings(embeddings)
        cands = Candidates(np.asarray(probs, dtype=float), committee, density)
        scores = {name: CRITERIA[name](cands, self.rng) for name in self.bandit.experts}
        advice = self.bandit.advice(scores, self.rng)
        chosen, qprobs = self.bandit.draw(self.bandit.query_distribution(advice), k, self.rng)
        picks = []
        for i, q in zip(chosen, qprobs, strict=True):
            self._pending[items[i]] = _Pending(advice[:, i].copy(), float(q), cands.probs[i].copy())
            votes = dict(zip(self.bandit.experts, advice[:, i].round(4).tolist(), strict=True))
            picks.append(Pick(items[i], float(q), votes))
        return picks

    def answer(self, item: str, label: int, reward: float | None = None) -> float:
        """Record the wearer's label for ``item``; the reward defaults to the model's surprise at it."""
        pending = self._pending.pop(item)
        r = float(surprise(np.array([pending.probs[label]]))[0]) if reward is None else float(reward)
        self._round.append((pending.advice, pending.probability, r))
        return r

    def skip(self, item: str) -> None:
        """The wearer dismissed the question: no reward either way (unanswered is not evidence)."""
        self._pending.pop(item, None)

    def end_round(self, round_reward: float | None = None) -> None:
        """Update the expert weights from this round's answers, then count the round (restarting if due).

        ``round_reward``, when given, replaces every answer's own reward: a measurement that only exists per
        round, such as the importance-weighted accuracy gain of the retrained model (``rewards.iw_accuracy_gain``,
        in [−1, 1]) or how much its predictions moved (``rewards.prediction_change``, in [0, 1]).
        """
        if self._round:
            advice = np.stack([a for a, _, _ in self._round], axis=1)
            probs = np.array([p for _, p, _ in self._round])
            rewards = np.array([r if round_reward is None else round_reward for _, _, r in self._round])
            self.bandit.update(advice, np.arange(advice.shape[1]), probs, rewards)
        self._round = []
        self.bandit.end_round()

    @property
    def weights(self) -> dict[str, float]:
        return dict(zip(self.bandit.experts, self.bandit.weights.tolist(), strict=True))

    def state(self) -> dict[str, Any]:
        pending = {k: {"advice": v.advice.tolist(), "probability": v.probability, "probs": v.probs.tolist()}
                   for k, v in self._pending.items()}
        return {"bandit": self.bandit.state(), "pending": pending}

    def load_state(self, state: dict[str, Any]) -> None:
        self.bandit.load_state(state["bandit"])
        self._pending = {k: _Pending(np.asarray(v["advice"]), float(v["probability"]), np.asarray(v["probs"]))
                         for k, v in state["pending"].items()}
