"""The pupil task: its loss, its held-out metrics and trivial baselines, and its I/O as a manifest states it.

A pupil is "measurable" when the eye is open and at least half of the pupil is visible between the lids;
ellipse losses and errors count only those images, the open/closed loss counts all of them.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from glance_train.data.eye_dataset import TARGETS
from glance_train.synth.eye_model import REFERENCE_SIZE

_I = {name: i for i, name in enumerate(TARGETS)}
MONITOR = "val_centre_err_px"
"""Early stopping and the best checkpoint follow this metric (lower is better)."""
ROUND_RATIO = 0.85
"""Ellipses rounder than this have no well-defined angle; the angle error skips them."""


def measurable(target: torch.Tensor) -> torch.Tensor:
    return (target[:, _I["open"]] > 0.5) & (target[:, _I["visible"]] >= 0.5)


def loss(outputs: tuple[torch.Tensor, ...], target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    centre, axes, angle, open_logit = outputs
    w = measurable(target).float()
    # Every term is a plain mean over the batch (unmeasurable pupils count as zero), never a mean over a
    # data-dependent count: DDP averages the workers' gradients, and only a per-sample mean keeps N workers
    # with batch B/N equal to one worker with batch B.
    n = float(len(target))
    # Centre and axes in pixels of the 192 image (smooth L1: robust to the odd label under a reflection); the
    # other terms are scaled to about the centre term's size once training has settled.
    centre_px, axes_px = centre * REFERENCE_SIZE, axes * REFERENCE_SIZE
    centre_t, axes_t = target[:, 0:2] * REFERENCE_SIZE, target[:, 2:4] * REFERENCE_SIZE
    centre_l = (F.smooth_l1_loss(centre_px, centre_t, reduction="none").sum(1) * w).sum() / n
    axes_l = (F.smooth_l1_loss(axes_px, axes_t, reduction="none").sum(1) * w).sum() / n
    ecc = (1.0 - target[:, _I["minor"]] / target[:, _I["major"]].clamp(min=1e-6)).clamp(0.0, 1.0)
    angle_l = (((angle - target[:, 4:6]) ** 2).sum(1) * ecc * w).sum() / n * 10.0
    open_l = F.binary_cross_entropy_with_logits(open_logit[:, 0], target[:, _I["open"]]) * 4.0
    total = centre_l + axes_l + angle_l + open_l
    parts = {"centre": float(centre_l), "axes": float(axes_l), "angle": float(angle_l), "open": float(open_l)}
    return total, parts


def _angle_err_deg(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    a = torch.atan2(pred[:, 0], pred[:, 1]) / 2
    b = torch.atan2(target[:, 0], target[:, 1]) / 2
    d = torch.remainder(a - b + math.pi / 2, math.pi) - math.pi / 2
    return d.abs() * 180.0 / math.pi


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader[Any], prefix: str = "val") -> dict[str, float]:
    """Errors in pixels of the 192x192 eye image, and open/closed accuracy."""
    model.eval()
    preds: list[list[torch.Tensor]] = [[], [], [], []]
    targets: list[torch.Tensor] = []
    losses: list[float] = []
    device = next(model.parameters()).device
    for x, t in loader:
        out = tuple(o.cpu() for o in model(x.to(device)))  # metrics on the CPU, whatever trained
        losses.append(float(loss(out, t)[0]) * len(x))
        for i, o in enumerate(out):
            preds[i].append(o)
        targets.append(t)
    centre, axes, angle, open_logit = (torch.cat(p) for p in preds)
    t = torch.cat(targets)
    m = measurable(t)
    err = ((centre - t[:, 0:2]) * REFERENCE_SIZE).norm(dim=1)[m]
    axes_err = ((axes - t[:, 2:4]) * REFERENCE_SIZE).abs().mean(dim=1)[m]
    oval = m & (t[:, _I["minor"]] < ROUND_RATIO * t[:, _I["major"]])
    ang = _angle_err_deg(angle[oval], t[oval, 4:6])
    open_pred = (open_logit[:, 0] > 0).float()
    return {
        f"{prefix}_loss": sum(losses) / max(len(t), 1),
        f"{prefix}_centre_err_px": float(err.mean()) if len(err) else math.nan,
        f"{prefix}_centre_err_p90_px": float(err.quantile(0.9)) if len(err) else math.nan,
        f"{prefix}_axes_err_px": float(axes_err.mean()) if len(axes_err) else math.nan,
        f"{prefix}_angle_err_deg": float(ang.median()) if len(ang) else math.nan,
        f"{prefix}_open_accuracy": float((open_pred == t[:, _I["open"]]).float().mean()),
    }


def baselines(
    train_targets: torch.Tensor, test_targets: torch.Tensor, prefix: str = "test"
) -> dict[str, float]:
    """What a model that ignores the image scores: the training set's mean centre, and its majority class."""
    mean_centre = train_targets[measurable(train_targets), 0:2].mean(0)
    m = measurable(test_targets)
    err = ((test_targets[m, 0:2] - mean_centre) * REFERENCE_SIZE).norm(dim=1)
    majority = float(train_targets[:, _I["open"]].mean() >= 0.5)
    acc = (test_targets[:, _I["open"]] == majority).float().mean()
    return {
        f"{prefix}_baseline_centre_err_px": float(err.mean()),
        f"{prefix}_baseline_open_accuracy": float(acc),
    }


def io_spec(input_size: int) -> dict[str, Any]:
    """Inputs, outputs and labels as the manifest (and the device's I/O check) describe them."""
    return {
        "task": "pupil",
        "description": "pupil centre, ellipse axes and angle, and eye open/closed from a grey near-IR eye",
        "inputs": [
            {
                "name": "eye",
                "dtype": "float32",
                "shape": ["batch", 1, input_size, input_size],
                "layout": "NCHW",
                "normalisation": {
                    "source": f"grey eye image {REFERENCE_SIZE}x{REFERENCE_SIZE}, uint8",
                    "resize": {"width": input_size, "height": input_size, "interpolation": "area"},
                    "scale": 1 / 255,
                    "mean": [0.0],
                    "std": [1.0],
                },
            }
        ],
        "outputs": [
            _out("centre", 2, "pupil centre (x, y) as a fraction of the image side; x_px = x * side - 0.5"),
            _out("axes", 2, "full major, minor axis lengths as a fraction of the image side"),
            _out("angle", 2, "(sin 2θ, cos 2θ), θ the major axis direction from +x towards +y"),
            _out("open_logit", 1, "logit of P(eye open); pupil outputs are meaningless when closed"),
        ],
        "labels": {"open_logit": ["closed", "open"]},
    }


def _out(name: str, width: int, meaning: str) -> dict[str, Any]:
    return {"name": name, "dtype": "float32", "shape": ["batch", width], "layout": "NC", "meaning": meaning}
