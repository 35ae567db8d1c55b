"""Tasks: what a model family is trained to do, i.e. its loss, its metrics and its I/O description."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from glance_train.models.emotion_net import SHIP_OUTPUTS
from glance_train.models.pupil_net import OUTPUT_NAMES as PUPIL_OUTPUTS
from glance_train.keyframe.policy import OUTPUT_NAMES as KEYFRAME_OUTPUTS
from glance_train.tasks import emotion, keyframe, pupil, tva


@dataclass(frozen=True)
class Task:
    name: str
    loss: Callable[[tuple[torch.Tensor, ...], torch.Tensor], tuple[torch.Tensor, dict[str, float]]]
    evaluate: Callable[[nn.Module, DataLoader[Any], str], dict[str, float]]
    baselines: Callable[[torch.Tensor, torch.Tensor, str], dict[str, float]]
    io_spec: Callable[[int], dict[str, Any]]
    output_names: tuple[str, ...]
    monitor: str
    """Validation metric that drives early stopping and the best checkpoint; lower is better."""


TASKS: dict[str, Task] = {
    "pupil": Task(
        name="pupil",
        loss=pupil.loss,
        evaluate=pupil.evaluate,
        baselines=pupil.baselines,
        io_spec=pupil.io_spec,
        output_names=PUPIL_OUTPUTS,
        monitor=pupil.MONITOR,
    ),
    # TVA has two inputs (scene, gaze): glance_train.tva.run drives it; loss and I/O spec are the task's.
    "tva": Task(
        name="tva",
        loss=tva.loss,
        evaluate=tva.evaluate,
        baselines=tva.baselines,
        io_spec=tva.io_spec,
        output_names=("box", "score"),
        monitor=tva.MONITOR,
    ),
    "keyframe": Task(
        name="keyframe",
        loss=keyframe.loss,
        evaluate=keyframe.evaluate,
        baselines=keyframe.baselines,
        io_spec=keyframe.io_spec,
        output_names=KEYFRAME_OUTPUTS,
        monitor=keyframe.MONITOR,
    ),
    "emotion": Task(
        name="emotion",
        loss=emotion.loss,
        evaluate=emotion.evaluate,
        baselines=emotion.baselines,
        io_spec=emotion.io_spec,
        output_names=SHIP_OUTPUTS,  # the eye-only network has the first two; its class says which
        monitor=emotion.MONITOR,
    ),
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(sorted(TASKS))}") from None
