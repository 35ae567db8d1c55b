"""The record of a run: metrics JSON (every epoch, the best, the held-out test) and a PNG of the curves."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a training box; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; a missing metric reads as null
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def write_metrics(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_clean(record), indent=2) + "\n")
    os.replace(tmp, path)


def plot_curves(path: Path, history: list[dict[str, float]], monitor: str, title: str) -> None:
    """Loss (train and validation) on the left, the monitored validation metric on the right."""
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [h["train_loss"] for h in history], label="train")
    left.plot(epochs, [h["val_loss"] for h in history], label="validation")
    left.set_xlabel("epoch")
    left.set_ylabel("loss")
    left.set_yscale("log")
    left.legend()
    right.plot(epochs, [h[monitor] for h in history], color="tab:green")
    right.set_xlabel("epoch")
    right.set_ylabel(monitor)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
