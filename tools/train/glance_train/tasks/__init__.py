"""Tasks: what a model family is trained to do, i.e. its loss, its metrics and its I/O description."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from glance_train.models.emotion_net import SHIP_OUTPUTS
from glance_train.models.pupil_net import OUTPUT_NAMES as PUPIL_OUTPUTS
from glance_train.keyframe.policy import OUTPUT_NAMES as KEYFRAME_OUTPUTS
from glance_train.seg.model import OUTPUT_NAMES as SEG_OUTPUTS
from glance_train.tasks import emotion, keyframe, pupil, segmentation, tva


@dataclass(frozen=True)
class DataKit:
    """How a task's data is split, rendered, wrapped and fingerprinted, and where golden inputs come from."""

    splits: Callable[[dict[str, Any], Any], Any]
    """(experiment ``[data]``, model config dataclass) → the splits (train/val/test configs)."""
    render: Callable[[Any, int, Path | None], dict[str, Any]]
    """(splits, jobs, cache dir) → rendered sets per split, each with ``.targets``."""
    datasets: Callable[[dict[str, Any]], dict[str, Any]]
    record: Callable[[Any, dict[str, Any]], dict[str, Any]]
    """The manifest's ``dataset``."""
    golden_inputs: Callable[[dict[str, Any], int], torch.Tensor]


def _eye_kit() -> DataKit:
    from glance_train.data import splits as eye
    from glance_train.export import golden_inputs

    return DataKit(
        splits=lambda raw, mcfg: eye.EyeSplits.from_dict(raw, mcfg.input_size),
        render=eye.render_splits,
        datasets=eye.datasets,
        record=eye.dataset_record,
        golden_inputs=golden_inputs,
    )


def _seg_kit() -> DataKit:
    from glance_train.seg import data as seg

    return DataKit(
        splits=lambda raw, mcfg: seg.SegSplits.from_dict(raw, mcfg.width, mcfg.height),
        render=seg.render_splits,
        datasets=seg.datasets,
        record=seg.dataset_record,
        golden_inputs=seg.golden_inputs,
    )


@dataclass(frozen=True)
class Task:
    name: str
    loss: Callable[[tuple[torch.Tensor, ...], torch.Tensor], tuple[torch.Tensor, dict[str, float]]]
    evaluate: Callable[[nn.Module, DataLoader[Any], str], dict[str, float]]
    baselines: Callable[[torch.Tensor, torch.Tensor, str], dict[str, float]]
    io_spec: Callable[[dict[str, Any]], dict[str, Any]]
    """(model config as a dict) → inputs, outputs and labels as the manifest states them; a string dimension
    in a shape is symbolic in the ONNX export."""
    output_names: tuple[str, ...]
    monitor: str
    """Validation metric that drives early stopping and the best checkpoint; lower is better."""
    data: Callable[[], DataKit] = _eye_kit


TASKS: dict[str, Task] = {
    "pupil": Task(
        name="pupil",
        loss=pupil.loss,
        evaluate=pupil.evaluate,
        baselines=pupil.baselines,
        io_spec=lambda cfg: pupil.io_spec(int(cfg["input_size"])),
        output_names=PUPIL_OUTPUTS,
        monitor=pupil.MONITOR,
    ),
    # TVA has two inputs (scene, gaze): glance_train.tva.run drives it; loss and I/O spec are the task's.
    "tva": Task(
        name="tva",
        loss=tva.loss,
        evaluate=tva.evaluate,
        baselines=tva.baselines,
        io_spec=lambda cfg: tva.io_spec(int(cfg["input_size"])),
        output_names=("box", "score"),
        monitor=tva.MONITOR,
    ),
    "keyframe": Task(
        name="keyframe",
        loss=keyframe.loss,
        evaluate=keyframe.evaluate,
        baselines=keyframe.baselines,
        io_spec=lambda cfg: keyframe.io_spec(int(cfg["input_size"])),
        output_names=KEYFRAME_OUTPUTS,
        monitor=keyframe.MONITOR,
    ),
    "emotion": Task(
        name="emotion",
        loss=emotion.loss,
        evaluate=emotion.evaluate,
        baselines=emotion.baselines,
        # The eye-only form; emotion/export.py states the aware model's wider embedding itself.
        io_spec=lambda cfg: emotion.io_spec(int(cfg["input_size"]), int(cfg.get("steps", 16))),
        output_names=SHIP_OUTPUTS,  # the eye-only network has the first two; its class says which
        monitor=emotion.MONITOR,
    ),
    "segmentation": Task(
        name="segmentation",
        loss=segmentation.loss,
        evaluate=segmentation.evaluate,
        baselines=segmentation.baselines,
        io_spec=segmentation.io_spec,
        output_names=SEG_OUTPUTS,
        monitor=segmentation.MONITOR,
        data=_seg_kit,
    ),
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(sorted(TASKS))}") from None
