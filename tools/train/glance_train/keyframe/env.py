"""A key-frame scheduling episode replayed from a trace: exact, since a trace holds every (frame, last key) pair.

At frame t with the last key at k (age = t - k), the state is the deviation of t from k plus the decision
history; "key" scores the key frame's quality (the segmentation network's result on it, against the reference
or the truth; 1 in traces whose key result is the ground truth) minus λ, "propagate" scores the mIoU of k's labels warped to t. A frame more than
``max_interval`` after its key is a key whatever the policy says (the traces stop there, and so does the device).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from glance_train.keyframe.traces import Trace

HISTORY = 10
"""Decisions remembered for the recentKeys feature (pipelines/schedulers/state.ts HISTORY)."""
KEY_QUALITY = 1.0

Decide = Callable[[np.ndarray, int, int], bool]
"""(state, frame index, age) → key?"""


def state_vector(trace: Trace, t: int, age: int, max_interval: int, history: list[bool]) -> np.ndarray:
    recent = history[-HISTORY:]
    share = sum(recent) / len(recent) if recent else 1.0
    dev = trace.deviation[t, age - 1]
    return np.concatenate([dev, [age / max_interval, share]]).astype(np.float32)


@dataclass
class Episode:
    keys: list[bool]
    quality: list[float]

    @property
    def key_rate(self) -> float:
        return float(np.mean(self.keys))

    @property
    def miou(self) -> float:
        return float(np.mean(self.quality))


def run_episode(trace: Trace, max_interval: int, decide: Decide) -> Episode:
    """Frame 0 is a key; every later frame asks ``decide`` unless the interval forces a key."""
    keys = [True]
    quality = [trace.key_quality(0)]
    last = 0
    for t in range(1, trace.frames):
        age = t - last
        if age > max_interval:
            key = True
        else:
            key = bool(decide(state_vector(trace, t, age, max_interval, keys), t, age))
        keys.append(key)
        if key:
            quality.append(trace.key_quality(t))
            last = t
        else:
            quality.append(float(trace.miou[t, age - 1]))
    return Episode(keys, quality)


def evaluate(traces: list[Trace], max_interval: int, decide_for: Callable[[Trace], Decide]) -> dict[str, float]:
    """Mean mIoU over all frames of all sequences, and the share of key frames."""
    eps = [run_episode(tr, max_interval, decide_for(tr)) for tr in traces]
    frames = sum(len(e.keys) for e in eps)
    return {
        "miou": sum(sum(e.quality) for e in eps) / frames,
        "keyRate": sum(sum(e.keys) for e in eps) / frames,
    }
