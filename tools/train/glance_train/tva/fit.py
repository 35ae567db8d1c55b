"""The TVA training loop: seeded, tqdm, flip augmentation, per-epoch validation, early stopping, checkpoints.

The shared ``trainer.Trainer`` feeds one input tensor; TVA has two (scene, gaze), so it has this small loop
with the same records: ``best.pt``/``last.pt`` (glance_train.checkpoint), ``metrics.json`` and ``curves.png``.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from glance_train.checkpoint import save_checkpoint
from glance_train.config import TrainConfig
from glance_train.curves import plot_curves, write_metrics
from glance_train.tasks import tva as task

Split = dict[str, np.ndarray]


def targets(data: Split) -> torch.Tensor:
    flags = [data["has_object"][:, None].astype(np.float32), data["episode"][:, None].astype(np.float32)]
    t = np.concatenate([data["box"], *flags], 1)
    return torch.from_numpy(t.astype(np.float32))


def batch(
    data: Split, idx: np.ndarray, flip: np.ndarray | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    scene = torch.from_numpy(data["scene"][idx]).float().div_(255.0)
    gaze = torch.from_numpy(data["gaze"][idx].copy())
    t = targets({k: data[k][idx] for k in ("box", "has_object", "episode")})
    if flip is not None and flip.any():
        f = torch.from_numpy(flip)
        scene[f] = scene[f].flip(3)
        g = gaze[f]
        g[:, :, 0] = torch.where(g[:, :, 2] > 0.5, 1.0 - g[:, :, 0], g[:, :, 0])
        gaze[f] = g
        tf = t[f]
        tf[:, 0] = torch.where(tf[:, 4] > 0.5, 1.0 - tf[:, 0], tf[:, 0])
        t[f] = tf
    return scene, gaze, t


def appearance(scene: torch.Tensor, gaze: torch.Tensor, t: torch.Tensor, gen: torch.Generator) -> None:
    """In place: what a real scene camera varies and the renderer does not (exposure, white balance, contrast,
    colourless scenes, sensor noise) and object scale (zoom 0.6-1.2 about the centre, moving gaze and box with
    it), so the network relies less on the renderer's look. Both frames of a sample get the same change."""
    b = scene.shape[0]

    def u(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(*shape, generator=gen)

    grey = (u(0, 1, b) < 0.25).view(b, 1, 1, 1)
    mono = scene.view(b, 2, 3, *scene.shape[2:]).mean(2, keepdim=True)
    mono = mono.expand(-1, -1, 3, -1, -1).reshape(scene.shape)
    scene.copy_(torch.where(grey, mono, scene))
    mean = scene.mean((1, 2, 3), keepdim=True)
    contrast = u(0.6, 1.3, b).view(b, 1, 1, 1)
    colour = u(0.85, 1.15, b, 3).repeat(1, 2).view(b, 6, 1, 1)
    scene.copy_(((scene - mean) * contrast + mean) * colour * u(0.6, 1.4, b).view(b, 1, 1, 1))
    bias = u(-0.1, 0.1, b).view(b, 1, 1, 1)  # drawn before the noise: the shipped model's draw order
    scene.add_(bias + torch.randn(scene.shape, generator=gen) * u(0, 0.03, b).view(b, 1, 1, 1))
    scene.clamp_(0.0, 1.0)
    zoom = u(0.6, 1.2, b)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = 1.0 / zoom
    theta[:, 1, 1] = 1.0 / zoom
    grid = F.affine_grid(theta, list(scene.shape), align_corners=False)
    scene.copy_(F.grid_sample(scene, grid, mode="bilinear", padding_mode="reflection", align_corners=False))
    z = zoom.view(b, 1)
    valid = gaze[:, :, 2:3] > 0.5
    gaze[:, :, 0:2] = torch.where(valid, 0.5 + (gaze[:, :, 0:2] - 0.5) * z.unsqueeze(2), gaze[:, :, 0:2])
    has = t[:, 4:5] > 0.5
    lo = (0.5 + (t[:, 0:2] - t[:, 2:4] / 2 - 0.5) * z).clamp(0, 1)
    hi = (0.5 + (t[:, 0:2] + t[:, 2:4] / 2 - 0.5) * z).clamp(0, 1)
    box = torch.cat([(lo + hi) / 2, hi - lo], 1)
    t[:, 0:4] = torch.where(has, box, t[:, 0:4])


def outputs(model: nn.Module, scene: torch.Tensor, gaze: torch.Tensor) -> tuple[torch.Tensor, ...]:
    p = model.parts(scene, gaze)  # type: ignore[operator]
    return p["box"], p["score_logit"], p["heat"]


@torch.no_grad()
def validate(model: nn.Module, data: Split, prefix: str = "val") -> dict[str, float]:
    from glance_train.tva.evaluate import box_metrics

    model.eval()
    total, boxes, scores = 0.0, [], []
    n = len(data["scene"])
    for i in range(0, n, 256):
        idx = np.arange(i, min(i + 256, n))
        s, g, t = batch(data, idx)
        out = outputs(model, s, g)
        total += float(task.loss(out, t)[0]) * len(idx)
        boxes.append(out[0].numpy())
        scores.append(torch.sigmoid(out[1]).numpy()[:, 0])
    box = np.concatenate(boxes)
    ep = data["episode"].astype(bool)
    m = box_metrics(box, data["box"], ep)
    score = np.concatenate(scores) > 0.5
    acc = float((score == ep).mean())
    return {f"{prefix}_loss": total / n, f"{prefix}_hit_rate": m["hit_rate"], f"{prefix}_iou": m["iou"],
            f"{prefix}_score_accuracy": acc}


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best: dict[str, float] = field(default_factory=dict)
    best_epoch: int = -1
    steps: int = 0
    stopped_early: bool = False
    seconds: float = 0.0


def fit(model: nn.Module, train: Split, val: Split, cfg: TrainConfig, seed: int, out: Path | None,
        meta: dict[str, Any], quiet: bool = False, augment: bool = False) -> FitResult:
    torch.set_num_threads(max(cfg.threads, 1))
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    n = len(train["scene"])
    per_epoch = n // cfg.batch_size
    steps_total = cfg.epochs * per_epoch if cfg.max_steps <= 0 else min(cfg.max_steps, cfg.epochs * per_epoch)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=max(steps_total, 1), pct_start=0.15
    )
    result, stale, start = FitResult(), 0, time.perf_counter()
    for epoch in range(cfg.epochs):
        model.train()
        order = rng.permutation(n)
        show = not quiet and sys.stderr.isatty()
        bar = tqdm(range(per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False, disable=not show)
        total = 0.0
        count = 0
        for b in bar:
            idx = np.sort(order[b * cfg.batch_size : (b + 1) * cfg.batch_size])
            s, g, t = batch(train, idx, rng.random(len(idx)) < 0.5)
            if augment:
                appearance(s, g, t, gen)
            loss, _ = task.loss(outputs(model, s, g), t)
            if not math.isfinite(float(loss)):
                raise FloatingPointError(f"loss is {float(loss)} at step {result.steps}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            result.steps += 1
            total, count = total + float(loss), count + 1
            bar.set_postfix(loss=f"{total / count:.3f}")
            if result.steps >= steps_total:
                break
        bar.close()
        row = {"epoch": epoch + 1, "step": result.steps, "train_loss": total / max(count, 1),
               "lr": opt.param_groups[0]["lr"], **validate(model, val)}
        row["seconds"] = time.perf_counter() - start
        result.history.append(row)
        improved = not result.best or row[task.MONITOR] < result.best[task.MONITOR] - cfg.min_delta
        if improved:
            result.best, result.best_epoch, stale = dict(row), epoch + 1, 0
        else:
            stale += 1
        if not quiet:
            shown = ", ".join(f"{k}={v:.4g}" for k, v in row.items() if k not in ("epoch", "step"))
            print(f"epoch {epoch + 1}: {shown}{' *' if improved else ''}", file=sys.stderr, flush=True)
        if out is not None:
            extra = {"epoch": epoch + 1, "steps": result.steps, "metrics": row}
            if improved:
                save_checkpoint(out / "best.pt", model, meta, **extra)
            save_checkpoint(out / "last.pt", model, meta, optimizer=opt.state_dict(), **extra)
            write_metrics(out / "metrics.json", {"history": result.history, "best": result.best,
                                                 "bestEpoch": result.best_epoch})
            plot_curves(out / "curves.png", result.history, "val_iou", "tva")
        if result.steps >= steps_total:
            break
        if stale >= cfg.patience:
            result.stopped_early = True
            break
    result.seconds = time.perf_counter() - start
    return result
