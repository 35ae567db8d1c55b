"""The segmentation task: per-pixel cross-entropy, held-out mIoU and boundary F, and the I/O the manifest states."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from glance_train.seg.data import LABELS
from glance_train.seg.metrics import SegMeter

MONITOR = "val_miou_deficit"
"""1 − mIoU on the validation split: early stopping and the best checkpoint follow it (lower is better)."""


def loss(outputs: torch.Tensor | tuple[torch.Tensor, ...], target: torch.Tensor
         ) -> tuple[torch.Tensor, dict[str, float]]:
    logits = outputs[0] if isinstance(outputs, tuple) else outputs
    ce = F.cross_entropy(logits, target)
    return ce, {"ce": float(ce)}


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader[Any], prefix: str = "val") -> dict[str, float]:
    model.eval()
    meter = SegMeter(len(LABELS))
    total, count = 0.0, 0
    device = next(model.parameters()).device
    for x, t in loader:
        out = model(x.to(device))
        logits = (out[0] if isinstance(out, tuple) else out).cpu()
        total += float(F.cross_entropy(logits, t, reduction="sum")) / t[0].numel()
        count += len(t)
        meter.update(logits.argmax(1), t)
    row = {f"{prefix}_loss": total / max(count, 1)} | meter.summary(prefix, LABELS)
    row[f"{prefix}_miou_deficit"] = 1.0 - row[f"{prefix}_miou"]
    return row


def baselines(train_targets: torch.Tensor, test_targets: torch.Tensor, prefix: str = "test") -> dict[str, float]:
    """What an image-blind model scores: every pixel the training set's most frequent class."""
    majority = int(torch.bincount(train_targets.reshape(-1).long(), minlength=len(LABELS)).argmax())
    meter = SegMeter(len(LABELS), tolerances=(2,))
    for i in range(0, len(test_targets), 64):
        t = test_targets[i : i + 64].long()
        meter.update(torch.full_like(t, majority), t)
    iou = meter.iou()
    return {f"{prefix}_baseline_miou": float(iou.nan_to_num(0.0).mean()),
            f"{prefix}_baseline_pixel_accuracy": float(meter.confusion.diag().sum() / meter.confusion.sum())}


def io_spec(model_config: dict[str, Any]) -> dict[str, Any]:
    width, height = int(model_config["width"]), int(model_config["height"])
    return {
        "task": "segmentation",
        "description": "per-pixel classes of a scene-camera frame (background and the scene's object classes)",
        "inputs": [
            {
                "name": "image",
                "dtype": "float32",
                "shape": ["batch", 3, "height", "width"],
                "layout": "NCHW",
                "normalisation": {
                    "source": "scene frame, BGR uint8 (as OpenCV decodes it)",
                    "channels": "BGR",
                    "resize": {"width": width, "height": height, "interpolation": "area"},
                    "scales": [1.0, 0.75, 0.5, 0.25],
                    "scale": 1 / 255,
                    "mean": [0.0, 0.0, 0.0],
                    "std": [1.0, 1.0, 1.0],
                },
                "meaning": f"trained at {width}x{height}; any size runs (the spatial axes are symbolic), "
                "e.g. the base size times one of normalisation.scales",
            }
        ],
        "outputs": [
            {
                "name": "logits",
                "dtype": "float32",
                "shape": ["batch", len(LABELS), "height", "width"],
                "layout": "NCHW",
                "meaning": "class scores per pixel at the input's size; argmax over C gives labels.logits",
            }
        ],
        "labels": {"logits": list(LABELS)},
    }


def nan_free(metrics: dict[str, float]) -> dict[str, float | None]:
    """JSON has no NaN: a class absent from a split has no IoU (null)."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}
