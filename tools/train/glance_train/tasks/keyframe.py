"""The keyframe task: a policy that says, per scene frame, whether to run segmentation (key) or propagate the last
key result by flow. It is trained by DQN on replayed traces (glance_train.keyframe.train), not by the supervised
Trainer, so only its I/O description is shared with the other tasks."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from glance_train.keyframe.policy import ACTIONS, STATE_FEATURES

MONITOR = "val_miou"


def _not_supervised(*_args: Any) -> Any:
    raise NotImplementedError("the keyframe policy is trained by DQN: glance_train.keyframe.train")


def loss(outputs: tuple[torch.Tensor, ...], target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    return _not_supervised(outputs, target)


def evaluate(model: nn.Module, loader: DataLoader[Any], prefix: str = "val") -> dict[str, float]:
    return _not_supervised(model, loader, prefix)


def baselines(train: torch.Tensor, test: torch.Tensor, prefix: str = "test") -> dict[str, float]:
    return _not_supervised(train, test, prefix)


def io_spec(input_size: int) -> dict[str, Any]:
    if input_size != len(STATE_FEATURES):
        raise ValueError(f"keyframe policy input_size must be {len(STATE_FEATURES)}, got {input_size}")
    return {
        "task": "keyframe",
        "description": "key-frame scheduler: Q-values of propagating the last key result vs running segmentation",
        "inputs": [
            {
                "name": "state",
                "dtype": "float32",
                "shape": ["batch", input_size],
                "layout": "NC",
                "features": list(STATE_FEATURES),
                "normalisation": {
                    "source": "raw features from pipelines/schedulers/deviation.ts and state.ts (160 px grey frames)",
                    "standardised": "inside the graph (training-state mean and std)",
                },
            }
        ],
        "outputs": [
            {
                "name": "q",
                "dtype": "float32",
                "shape": ["batch", len(ACTIONS)],
                "layout": "NC",
                "meaning": "discounted return of each action; key when q[1] > q[0]",
            }
        ],
        "labels": {"q": list(ACTIONS)},
    }
