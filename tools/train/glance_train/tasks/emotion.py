"""The emotion task: 7-class cross-entropy on the window's last frame, plus (emotionship-aware network) a
per-frame cause loss where the data names the object under the gaze; accuracy, macro-F1 and a confusion
matrix.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from glance_train.emotion.dataset import CROP_FRACTION, PUPIL_MEAN_MM, PUPIL_STD_MM, STEP_HZ
from glance_train.emotion.labels import CAUSE_CLASSES, EMOTIONS

MONITOR = "val_error"
CAUSE_WEIGHT = 0.3


def loss(outputs: tuple[torch.Tensor, ...], target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    label, cause = target[:, 0], target[:, 1:]
    emotion_l = F.cross_entropy(outputs[0], label)
    parts = {"emotion": float(emotion_l)}
    total = emotion_l
    if len(outputs) > 2:
        logits = outputs[2].reshape(-1, outputs[2].shape[-1])
        flat = cause.reshape(-1)
        known = (flat >= 0).float()
        per = F.cross_entropy(logits, flat.clamp(min=0), reduction="none")
        cause_l = (per * known).sum() / max(len(flat), 1)  # per-sample mean, so DDP stays equivalent
        total = total + CAUSE_WEIGHT * cause_l
        parts["cause"] = float(cause_l)
    return total, parts


def confusion(pred: torch.Tensor, label: torch.Tensor, classes: int = len(EMOTIONS)) -> torch.Tensor:
    """Rows: true class; columns: predicted."""
    return torch.bincount(label * classes + pred, minlength=classes * classes).reshape(classes, classes)


def macro_f1(cm: torch.Tensor) -> float:
    tp = cm.diag().float()
    precision = tp / cm.sum(0).clamp(min=1)
    recall = tp / cm.sum(1).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-9)
    return float(f1.mean())


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader[Any]) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """Predicted and true labels, mean loss, and the cause accuracy on frames with a known cause (nan if
    none)."""
    model.eval()
    device = next(model.parameters()).device
    preds, labels, total, n = [], [], 0.0, 0
    cause_hit, cause_n = 0, 0
    for x, t in loader:
        out = tuple(o.cpu() for o in model(*(v.to(device) for v in x)))
        total += float(loss(out, t)[0]) * len(t)
        n += len(t)
        preds.append(out[0].argmax(1))
        labels.append(t[:, 0])
        if len(out) > 2:
            known = t[:, 1:] >= 0
            cause_hit += int((out[2].argmax(2) == t[:, 1:])[known].sum())
            cause_n += int(known.sum())
    acc = cause_hit / cause_n if cause_n else float("nan")
    return torch.cat(preds), torch.cat(labels), total / max(n, 1), acc


def evaluate(model: nn.Module, loader: DataLoader[Any], prefix: str = "val") -> dict[str, float]:
    pred, label, mean_loss, cause_acc = predict(model, loader)
    cm = confusion(pred, label)
    acc = float((pred == label).float().mean())
    out = {
        f"{prefix}_loss": mean_loss,
        f"{prefix}_accuracy": acc,
        f"{prefix}_error": 1.0 - acc,
        f"{prefix}_macro_f1": macro_f1(cm),
    }
    if cause_acc == cause_acc:  # not nan
        out[f"{prefix}_cause_accuracy"] = cause_acc
    return out


def baselines(
    train_targets: torch.Tensor, test_targets: torch.Tensor, prefix: str = "test"
) -> dict[str, float]:
    """A model that ignores its input: the training set's majority class; and chance."""
    majority = int(torch.bincount(train_targets, minlength=len(EMOTIONS)).argmax())
    return {
        f"{prefix}_baseline_majority_accuracy": float((test_targets == majority).float().mean()),
        f"{prefix}_baseline_chance_accuracy": 1.0 / len(EMOTIONS),
    }


def _tensor(
    name: str, shape: list[Any], meaning: str, normalisation: dict[str, Any] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "dtype": "float32", "shape": shape, "meaning": meaning}
    if normalisation is not None:
        spec["normalisation"] = normalisation
    return spec


def io_spec(input_size: int, steps: int = 16, aware: bool = False, embedding: int = 48) -> dict[str, Any]:
    window = {"steps": steps, "stepHz": STEP_HZ, "order": "oldest first, the last step is the newest frame"}
    inputs = [
        _tensor(
            "eye",
            ["batch", steps, input_size, input_size],
            "grey eye crops of the window",
            {"source": "grey eye image, uint8", "resize": {"width": input_size, "height": input_size,
             "interpolation": "area"}, "scale": 1 / 255, "mean": [0.0], "std": [1.0], "window": window},
        ),
        _tensor(
            "pupil",
            ["batch", steps, 2],
            "per step: (pupil diameter mm - mean) / std, held over low confidence; tracker confidence 0..1",
            {"pupilMeanMm": PUPIL_MEAN_MM, "pupilStdMm": PUPIL_STD_MM, "holdBelowConfidence": 0.5},
        ),
    ]
    outputs = [
        _tensor("logits", ["batch", len(EMOTIONS)], "emotion logits, softmax for probabilities"),
        _tensor("embedding", ["batch", embedding], "window embedding (input of the on-device personal head)"),
    ]
    labels: dict[str, list[str]] = {"logits": list(EMOTIONS)}
    if aware:
        inputs.append(
            _tensor(
                "scene",
                ["batch", steps, 3, input_size, input_size],
                "RGB crops of the scene at the gaze (or the attended region) per step",
                {"source": "scene frame, uint8 BGR", "crop": {"squareSideOfHeight": CROP_FRACTION,
                 "centre": "gaze, shifted to stay inside the frame"}, "channels": "RGB",
                 "resize": {"width": input_size, "height": input_size, "interpolation": "area"},
                 "scale": 1 / 255, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
            )
        )
        cause_shape = ["batch", steps, len(CAUSE_CLASSES)]
        outputs.append(_tensor("cause_logits", cause_shape, "per step: what the gaze rests on"))
        labels["cause_logits"] = list(CAUSE_CLASSES)
    kind = "emotionship-aware (eye + attended scene)" if aware else "eye-only (expression)"
    return {
        "task": "emotion",
        "description": f"{kind} emotion of the wearer over a {steps / STEP_HZ:.0f} s window of eye crops",
        "inputs": inputs,
        "outputs": outputs,
        "labels": labels,
    }
