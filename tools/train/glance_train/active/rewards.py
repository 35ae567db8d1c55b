"""What a round of answers was worth, for REXP4's update. All are computable with no held-out labels:

- ``iw_gain`` (default, the paper's): the improvement that retraining on the round's answers brought to the
  model's importance-weighted accuracy (ALBL's IW-ACC, below) over every label the ensemble asked so far:
  IW-ACC(f_t) − IW-ACC(f_{t−1}) on the same labels, each weighted by 1 / (its query probability). DEAL rewards
  a criterion for the accuracy its query bought, estimated without a test set; the weighting makes the asked
  labels stand for the pool. In [−1, 1]. One value per round.
- ``change``: the share of candidates whose predicted class changed when the model was retrained on
  the round's answers: how much the answers moved the model. One value per round.
- ``surprise``: 1 − p(y | x), the probability the model gave the label the wearer then supplied, before
  retraining. Known per answer. Measured on our datasets it is *anti*-correlated with the accuracy a label
  buys early in a session (outliers surprise the model most), so it is not the default.
- ``iw_acc``: ALBL's importance-weighted accuracy (Hsu & Lin 2015) of the retrained model on every label asked
  so far, each weighted by 1 / (its query probability). One value per round.
"""

from __future__ import annotations

import numpy as np


def prediction_change(before: np.ndarray, after: np.ndarray) -> float:
    """Share of candidates whose predicted class differs between two models (class indices, same order)."""
    return float(np.mean(np.asarray(before) != np.asarray(after)))


def surprise(prob_of_answer: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - prob_of_answer, 0.0, 1.0)


def iw_accuracy(correct: np.ndarray, query_probs: np.ndarray, pool_size: int) -> float:
    """Σ_t W_t [f(x_t) = y_t] / Σ_t W_t, W_t = 1 / p_t: the labelled set re-weighted towards the pool's shape.

    Normalised by the weights' sum rather than ALBL's n·T so that the reward stays in [0, 1] for any pool.
    """
    w = 1.0 / np.clip(query_probs, 1.0 / max(pool_size, 1) ** 2, None)
    return float((w * correct).sum() / w.sum())


def iw_accuracy_gain(correct_after: np.ndarray, correct_before: np.ndarray, query_probs: np.ndarray,
                     pool_size: int) -> float:
    """IW-ACC of the retrained model minus that of the model before the round, on the same asked labels."""
    return (iw_accuracy(correct_after, query_probs, pool_size)
            - iw_accuracy(correct_before, query_probs, pool_size))
