"""Confusion matrices as PNG, and the eye-only vs emotionship-aware table."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from glance_train.emotion.labels import EMOTIONS  # noqa: E402


def draw_confusion(ax: plt.Axes, cm: torch.Tensor | np.ndarray, title: str) -> None:
    m = np.asarray(cm, dtype=float)
    rows = m / np.maximum(m.sum(1, keepdims=True), 1)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right")
    ax.set_yticks(range(len(EMOTIONS)), EMOTIONS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    for i in range(len(EMOTIONS)):
        for j in range(len(EMOTIONS)):
            ax.text(j, i, f"{rows[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if rows[i, j] > 0.5 else "black")


def plot_confusion(path: Path, cm: torch.Tensor | np.ndarray, title: str) -> None:
    fig, ax = plt.subplots(figsize=(5, 4.6))
    draw_confusion(ax, cm, title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_side_by_side(path: Path, panels: list[tuple[np.ndarray, str]]) -> None:
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.6))
    for ax, (cm, title) in zip(np.atleast_1d(axes), panels, strict=True):
        draw_confusion(ax, cm, title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
