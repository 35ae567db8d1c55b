"""The pool-based active-learning benchmark: a cheap learner, a labelling budget, learning curves, AULC.

Per run: a stratified seed set (``initial_per_class`` labels per class) → repeat: fit the learner on the
labels so far, record held-out accuracy, let the strategy pick ``batch`` pool items, reveal their labels →
until the budget is spent. A single criterion asks about its top-``batch`` items; ``deal`` draws them from
REXP4's query distribution through :class:`LabelQueue` (the class the device uses); ``exp4`` is the same
without restarts, the stationary ALBL-style ensemble the paper compares with.

AULC is the area under accuracy-vs-labels, normalised by the label range (so it is a mean accuracy in [0, 1]).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from glance_train.active.criteria import CRITERIA, Candidates, ranks
from glance_train.active.queue import LabelQueue, LabelQueueConfig, density_from_embeddings
from glance_train.active.rewards import iw_accuracy, iw_accuracy_gain, prediction_change
from glance_train.active.rexp4 import Rexp4Config
from glance_train.datasets_real import load_dataset, standardiser, stratified_split


@dataclass(frozen=True)
class PoolTask:
    dataset: str
    budget: int
    """Labels asked for after the seed set."""
    batch: int
    """Labels asked per round."""
    max_per_class: int | None = None
    test_fraction: float = 0.3
    initial_per_class: int = 1


# Small batches: REXP4 learns from every round's answers, so a session needs rounds (the paper asks one label
# a round; a few a round keeps the larger pools affordable on a CPU).
TASKS: dict[str, PoolTask] = {
    "iris": PoolTask("iris", budget=30, batch=1),
    "wine": PoolTask("wine", budget=30, batch=1),
    "breast_cancer": PoolTask("breast_cancer", budget=60, batch=2),
    "sk-digits": PoolTask("sk-digits", budget=120, batch=4),
    "letters": PoolTask("letters", budget=156, batch=6, max_per_class=100),
}


def with_batch(tasks: dict[str, PoolTask], batch: int | None) -> dict[str, PoolTask]:
    """``tasks`` asking ``batch`` labels a round each (same budgets), or unchanged for ``None``."""
    if batch is None:
        return dict(tasks)
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    return {name: replace(task, batch=batch) for name, task in tasks.items()}


REWARDS = ("iw_gain", "change", "surprise", "iw_acc", "oracle")
"""Rewards for the ensembles (``rewards``); ``iw_gain`` is the paper's: importance-weighted accuracy
gain. ``oracle`` is the round's gain in *test-set* accuracy, which no real session can see: only for
``diagnose.py``, to measure how well REXP4 could do with an exact reward."""


@dataclass(frozen=True)
class PoolData:
    x_pool: np.ndarray
    y_pool: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    density: np.ndarray


def prepare_pool(task: PoolTask, seed: int) -> PoolData:
    ds = load_dataset(task.dataset, max_per_class=task.max_per_class, seed=seed)
    pool, test = stratified_split(ds, task.test_fraction, seed)
    scale = standardiser(pool)
    xp, xt = scale(pool.x).reshape(len(pool.y), -1), scale(test.x).reshape(len(test.y), -1)
    return PoolData(xp, pool.y, xt, test.y, ds.n_classes, density_from_embeddings(xp))


class Learner:
    """Logistic regression, plus a small committee for query-by-committee: Gaussian naive Bayes and a strongly
    regularised logistic regression beside the learner itself (a k-NN member cost more than all the rest).

    Probabilities always have one column per class, classes not yet labelled getting zero.
    """

    def __init__(self, classes: int) -> None:
        self.classes = classes
        # Warm start: each round refits from the previous round's weights (the seed set has every class, so
        # the coefficient shape never changes); a few lbfgs iterations then suffice.
        self.model = LogisticRegression(C=1.0, max_iter=300, warm_start=True)
        self.smooth = LogisticRegression(C=0.05, max_iter=300, warm_start=True)  # strongly regularised
        self.members: list = []

    def fit(self, x: np.ndarray, y: np.ndarray, committee: bool) -> Learner:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(x, y)
            self.members = []
            if committee:
                self.members = [GaussianNB().fit(x, y), self.smooth.fit(x, y)]
        return self

    def _full(self, est, x: np.ndarray) -> np.ndarray:  # noqa: ANN001 (any fitted sklearn classifier)
        out = np.zeros((len(x), self.classes))
        out[:, est.classes_] = est.predict_proba(x)
        return out

    def proba(self, x: np.ndarray) -> np.ndarray:
        return self._full(self.model, x)

    def committee(self, x: np.ndarray, own: np.ndarray) -> np.ndarray:
        return np.stack([own, *(self._full(m, x) for m in self.members)])


@dataclass
class Curve:
    strategy: str
    labels: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    weights: list[dict[str, float]] = field(default_factory=list)
    """DEAL/EXP4 only: expert weights after each round."""


def aulc(curve: Curve) -> float:
    x, y = np.asarray(curve.labels, dtype=float), np.asarray(curve.accuracy)
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))


def run_strategy(task: PoolTask, data: PoolData, strategy: str, seed: int, bandit: Rexp4Config | None = None,
                 reward: str = "iw_gain", weights: dict[str, float] | None = None) -> Curve:
    """One labelling session; ``reward`` (one of ``REWARDS``; see ``rewards``) is for ensembles, as are
    ``weights``: the experts' starting weights instead of uniform (with η = 0 and no restart: fixed)."""
    if reward not in REWARDS:
        raise ValueError(f"unknown reward {reward!r}")
    rng = np.random.default_rng(seed)
    labelled = _seed_set(data, task.initial_per_class, rng)
    unlabelled = np.setdiff1d(np.arange(len(data.y_pool)), labelled)
    queue = _ensemble_queue(strategy, bandit, seed)
    if queue is not None and weights is not None:
        w = np.array([weights.get(e, 0.0) for e in queue.bandit.experts])
        queue.bandit.weights = w / w.sum()
    needs_committee = queue is not None or strategy == "qbc"
    learner = Learner(data.classes)
    curve = Curve(strategy)
    asked: list[tuple[int, float]] = []  # (pool index, query probability) of every label an ensemble asked
    before: np.ndarray | None = None
    while True:
        learner.fit(data.x_pool[labelled], data.y_pool[labelled], needs_committee)
        predicted = learner.proba(data.x_pool).argmax(1)
        accuracy = float((learner.proba(data.x_test).argmax(1) == data.y_test).mean())
        if queue is not None and before is not None:  # the previous round's answers are in and trained on
            if reward == "oracle":
                queue.end_round(accuracy - curve.accuracy[-1])
            else:
                queue.end_round(_round_reward(reward, before, predicted, data, asked))
            curve.weights.append(queue.weights)
        curve.labels.append(len(labelled))
        curve.accuracy.append(accuracy)
        spent = len(labelled) - task.initial_per_class * data.classes
        if spent >= task.budget or len(unlabelled) == 0:
            break
        k = min(task.batch, task.budget - spent, len(unlabelled))
        x_u = data.x_pool[unlabelled]
        probs = learner.proba(x_u)
        committee = learner.committee(x_u, probs) if needs_committee else None
        cands = Candidates(probs, committee, data.density[unlabelled])
        if queue is None:
            picked = unlabelled[np.argsort(ranks(CRITERIA[strategy](cands, rng), rng))[:k]]
        else:
            ids = [str(i) for i in unlabelled]
            picks = queue.pick(ids, probs, k=k, committee=committee, density=cands.density)
            picked = np.array([int(p.item) for p in picks])
            for p in picks:
                queue.answer(p.item, int(data.y_pool[int(p.item)]))  # the oracle answers at once
                asked.append((int(p.item), p.probability))
        before = predicted
        labelled = np.concatenate([labelled, picked])
        unlabelled = np.setdiff1d(unlabelled, picked)
    return curve


def _ensemble_queue(strategy: str, bandit: Rexp4Config | None, seed: int) -> LabelQueue | None:
    if strategy not in ("deal", "exp4"):
        if strategy not in CRITERIA:
            raise KeyError(f"unknown strategy {strategy!r}; known: deal, exp4, {', '.join(CRITERIA)}")
        return None
    cfg = bandit or Rexp4Config()
    if strategy == "exp4":
        cfg = replace(cfg, restart=0)
    return LabelQueue(LabelQueueConfig(bandit=cfg), seed=seed)


def _round_reward(reward: str, before: np.ndarray, after: np.ndarray, data: PoolData,
                  asked: list[tuple[int, float]]) -> float | None:
    if reward == "change":
        return prediction_change(before, after)
    if reward in ("iw_acc", "iw_gain"):
        idx = np.array([i for i, _ in asked])
        q = np.array([p for _, p in asked])
        correct = (after[idx] == data.y_pool[idx]).astype(float)
        if reward == "iw_acc":
            return iw_accuracy(correct, q, len(data.y_pool))
        return iw_accuracy_gain(correct, (before[idx] == data.y_pool[idx]).astype(float), q, len(data.y_pool))
    return None  # surprise: each answer keeps its own


def _seed_set(data: PoolData, per_class: int, rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([rng.choice(np.flatnonzero(data.y_pool == c), per_class, replace=False)
                           for c in range(data.classes)])
