"""Attention-tracking accuracy: TVA and eye tracking alone, frame by frame, inside true attention episodes.

Hit rate: the predicted box centre lies inside the attended object's true bbox. IoU: of the predicted box with
that bbox. Score F1: score > 0.5 against "this frame lies in an attention episode", over every frame.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from glance_train.tva import baseline
from glance_train.tva.baseline import EyeOnly


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of (N, 4) centre-size boxes."""
    ax0, ay0 = a[:, 0] - a[:, 2] / 2, a[:, 1] - a[:, 3] / 2
    ax1, ay1 = a[:, 0] + a[:, 2] / 2, a[:, 1] + a[:, 3] / 2
    bx0, by0 = b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2
    bx1, by1 = b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return inter / np.maximum(union, 1e-12)


def hits(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    inside_x = np.abs(pred[:, 0] - truth[:, 0]) <= truth[:, 2] / 2
    return inside_x & (np.abs(pred[:, 1] - truth[:, 1]) <= truth[:, 3] / 2)


def box_metrics(pred: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    p, t = pred[mask], truth[mask]
    return {"hit_rate": float(hits(p, t).mean()), "iou": float(iou(p, t).mean()), "frames": int(mask.sum())}


@torch.no_grad()
def predict(
    model: nn.Module, scene: np.ndarray, gaze: np.ndarray, batch: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """TvaNet's (box, score) on uint8 scene arrays (scaled here as the manifest says) and gaze histories."""
    model.eval()
    boxes, scores = [], []
    for i in range(0, len(scene), batch):
        s = torch.from_numpy(scene[i : i + batch]).float().div_(255.0)
        b, sc = model(s, torch.from_numpy(gaze[i : i + batch]))
        boxes.append(b.numpy())
        scores.append(sc.numpy()[:, 0])
    return np.concatenate(boxes), np.concatenate(scores)


def side_by_side(tva_box: np.ndarray, tva_score: np.ndarray | None, data: dict[str, np.ndarray], eye: EyeOnly,
                 prefix: str = "") -> dict[str, float]:
    """TVA and eye-only metrics with the manifest's names (``tva_hit_rate``, ``eye_only_iou``, ...)."""
    ep = data["episode"].astype(bool)
    eye_box = baseline.boxes(data["gaze"], eye.box_wh)
    t, e = box_metrics(tva_box, data["box"], ep), box_metrics(eye_box, data["box"], ep)
    out = {
        f"{prefix}tva_hit_rate": t["hit_rate"],
        f"{prefix}eye_only_hit_rate": e["hit_rate"],
        f"{prefix}tva_iou": t["iou"],
        f"{prefix}eye_only_iou": e["iou"],
        f"{prefix}episode_frames": float(t["frames"]),
    }
    if tva_score is not None:
        out[f"{prefix}score_f1"] = baseline.f1(tva_score > 0.5, ep)
        out[f"{prefix}eye_only_score_f1"] = baseline.f1(baseline.scores(data["gaze"], eye) > 0.5, ep)
        # What "always attending" scores: F1 is lenient when most frames are episode frames.
        out[f"{prefix}always_on_score_f1"] = baseline.f1(np.ones(len(ep), bool), ep)
    return out
