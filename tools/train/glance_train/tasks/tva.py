"""The TVA task: attended region and attention score; its loss and its I/O as the manifest states it.

Targets are (B, 6): the attended object's box (cx, cy, w, h as fractions of the frame), whether an object is
attended at all, and whether the frame lies in an attention episode. Box terms count only frames with an
attended object (elsewhere the box has no truth); the score term counts every frame.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

MONITOR = "val_loss"
HEAT_W, HEAT_H = 32, 24


def _iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    lo = torch.maximum(a[:, :2] - a[:, 2:] / 2, b[:, :2] - b[:, 2:] / 2)
    hi = torch.minimum(a[:, :2] + a[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2)
    inter = (hi - lo).clamp(min=0).prod(1)
    return inter / (a[:, 2:].prod(1) + b[:, 2:].prod(1) - inter).clamp(min=1e-9)


def loss(outputs: tuple[torch.Tensor, ...], target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    box, score_logit, heat = outputs
    has = target[:, 4]
    n = float(len(target))
    t = target[:, 0:4]
    centre = ((box[:, 0:2] - t[:, 0:2]).abs().sum(1) * has).sum() / n * 10.0
    size = ((box[:, 2:4] - t[:, 2:4]).abs().sum(1) * has).sum() / n * 5.0
    iou = ((1.0 - _iou(box, t)) * has).sum() / n
    # The heat map learns faster with a direct target: the cell holding the true centre.
    row = (t[:, 1] * HEAT_H).long().clamp(0, HEAT_H - 1)
    cell = row * HEAT_W + (t[:, 0] * HEAT_W).long().clamp(0, HEAT_W - 1)
    heat_l = (F.cross_entropy(heat, cell, reduction="none") * has).sum() / n * 0.2
    score = F.binary_cross_entropy_with_logits(score_logit[:, 0], target[:, 5])
    total = centre + size + iou + heat_l + score
    parts = {"centre": float(centre), "size": float(size), "iou": float(iou), "heat": float(heat_l),
             "score": float(score)}
    return total, parts


def io_spec(input_size: int) -> dict[str, Any]:
    height = input_size * 3 // 4
    scene_norm = {
        "source": "scene camera frames, BGR uint8 (OpenCV order), any size (trained on 640x480)",
        "resize": {"width": input_size, "height": height, "interpolation": "area"},
        "scale": 1 / 255,
        "mean": [0.0] * 6,
        "std": [1.0] * 6,
        "channels": "0-2: the current frame (B, G, R); 3-5: the frame lagFrames scene frames earlier "
        "(B, G, R)",
        "lagFrames": 4,
    }
    gaze_norm = {
        "source": "gaze in scene pixels at each of the last 16 scene frames, newest last",
        "x": "x / sceneWidth",
        "y": "y / sceneHeight",
        "valid": "1 when the frame has a gaze sample; frames without one (blink, not calibrated) are "
        "(0, 0, 0)",
        "historyFrames": 16,
    }
    return {
        "task": "tva",
        "description": "temporal visual attention (MemX): attended region and attention-episode probability "
        "from the current and a 4-frames-earlier scene frame plus the last 16 gaze samples",
        "inputs": [
            {"name": "scene", "dtype": "float32", "shape": ["batch", 6, height, input_size], "layout": "NCHW",
             "lagFrames": 4, "normalisation": scene_norm},
            {"name": "gaze", "dtype": "float32", "shape": ["batch", 16, 3], "layout": "NTC",
             "normalisation": gaze_norm},
        ],
        "outputs": [
            {"name": "box", "dtype": "float32", "shape": ["batch", 4], "layout": "NC",
             "meaning": "attended region (cx, cy, w, h) as fractions of the frame width/height, in [0, 1]"},
            {"name": "score", "dtype": "float32", "shape": ["batch", 1], "layout": "NC",
             "meaning": "probability (sigmoid applied) that the wearer is in an attention episode at this "
             "frame: "
             "a fixation or pursuit of one object lasting >= 0.8 s"},
        ],
        "labels": {"score": ["not attending", "attention episode"]},
    }


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader: Any, prefix: str = "val") -> dict[str, float]:
    """Loss, hit rate and IoU over batches of (scene, gaze, target); glance_train.tva.evaluate has more."""
    model.eval()
    total, n, hit, iou, ep = 0.0, 0, 0.0, 0.0, 0.0
    for scene, gaze, target in loader:
        p = model.parts(scene, gaze)
        out = (p["box"], p["score_logit"], p["heat"])
        total += float(loss(out, target)[0]) * len(target)
        n += len(target)
        m = target[:, 5] > 0.5
        t, b = target[m, 0:4], p["box"][m]
        hit += float(((b[:, 0:2] - t[:, 0:2]).abs() <= t[:, 2:4] / 2).all(1).float().sum())
        iou += float(_iou(b, t).sum())
        ep += float(m.sum())
    return {f"{prefix}_loss": total / max(n, 1), f"{prefix}_hit_rate": hit / max(ep, 1),
            f"{prefix}_iou": iou / max(ep, 1)}


def baselines(
    train_targets: torch.Tensor, test_targets: torch.Tensor, prefix: str = "test"
) -> dict[str, float]:
    """What ignores scene and gaze: the training set's mean attended box, on the test set's episode frames."""
    mean_box = train_targets[train_targets[:, 5] > 0.5, 0:4].mean(0, keepdim=True)
    m = test_targets[:, 5] > 0.5
    t = test_targets[m, 0:4]
    b = mean_box.expand_as(t)
    hit = ((b[:, 0:2] - t[:, 0:2]).abs() <= t[:, 2:4] / 2).all(1).float().mean()
    return {f"{prefix}_mean_box_hit_rate": float(hit), f"{prefix}_mean_box_iou": float(_iou(b, t).mean())}
