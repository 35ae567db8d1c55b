"""The key-frame policy network: standardise the state, a small MLP, one Q-value per action (non-key, key)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

STATE_FEATURES = (
    "meanAbsDiff",
    "residual",
    "poorBlocks",
    "flowMean",
    "flowSpread",
    "outside",
    "age",
    "recentKeys",
)
"""Must match pipelines/schedulers/state.ts STATE_FEATURES (the device builds the vector)."""
ACTIONS = ("propagate", "key")
OUTPUT_NAMES = ("q",)


@dataclass(frozen=True)
class KeyframePolicyConfig:
    input_size: int = len(STATE_FEATURES)
    hidden: int = 64


class KeyframePolicy(nn.Module):
    """Q(state) for (propagate, key). The standardisation is part of the graph, so the device feeds raw features."""

    def __init__(self, config: KeyframePolicyConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(config.input_size))
        self.register_buffer("std", torch.ones(config.input_size))
        self.net = nn.Sequential(
            nn.Linear(config.input_size, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, len(ACTIONS)),
        )

    def set_standardisation(self, states: torch.Tensor) -> None:
        self.mean.copy_(states.mean(0))
        self.std.copy_(states.std(0).clamp(min=1e-3))

    def forward(self, state: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.net((state - self.mean) / self.std),)


def policy_from_onnx(path: str | Path) -> KeyframePolicy:
    """An exported policy back in the PyTorch module (the graph is Sub mean → Div std → Gemm/Relu ×2 → Gemm, and its
    initializers carry the state-dict names), so the toolchain can replay a zoo model on traces."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    hidden = int(weights["net.0.weight"].shape[0])
    policy = KeyframePolicy(KeyframePolicyConfig(hidden=hidden))
    policy.load_state_dict(weights)
    return policy.eval()
