"""The paper's baselines: a fixed key interval (at any rate, so it can match a policy's) and a threshold on
the deviation from the last key frame."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from glance_train.keyframe.env import Decide, evaluate
from glance_train.keyframe.traces import Trace

THRESHOLD_FEATURE = 1
"""Index of the deviation the heuristic thresholds: the motion-compensated residual (state.ts order)."""


def fixed_rate(rate: float) -> Callable[[Trace], Decide]:
    """Keys evenly spaced at ``rate`` keys a frame (interval 1/rate, fractional intervals alternate)."""

    def decide_for(_trace: Trace) -> Decide:
        def decide(_state: np.ndarray, t: int, _age: int) -> bool:
            return math.floor(t * rate + 1e-9) > math.floor((t - 1) * rate + 1e-9)

        return decide

    return decide_for


def threshold(level: float) -> Callable[[Trace], Decide]:
    def decide_for(_trace: Trace) -> Decide:
        return lambda state, _t, _age: bool(state[THRESHOLD_FEATURE] > level)

    return decide_for


def threshold_for_rate(traces: list[Trace], max_interval: int, rate: float) -> float:
    """The lowest residual threshold whose key rate on ``traces`` is at most ``rate`` (bisection; the rate falls
    as the threshold rises)."""
    lo, hi = 0.0, 64.0
    for _ in range(30):
        mid = (lo + hi) / 2
        if evaluate(traces, max_interval, threshold(mid))["keyRate"] > rate:
            lo = mid
        else:
            hi = mid
    return hi
