"""The shared training loop: any registered model on any task, one process or several (DDP).

Per epoch: shuffle (the same permutation for any number of workers), step through the global batches,
evaluate on rank 0, keep the best checkpoint by the task's monitored metric, write metrics JSON and the
curves' plot, and stop early when the metric has not improved for ``patience`` epochs. Each worker gets
``batch_size / world_size`` of every global batch and DDP averages the gradients, so N workers follow the
same path as one.

With ``mat.enabled`` (an ``Experiment``'s ``[mat]`` section) the loop trains with MAT
(``glance_train.mat.option``): λ_max per module every ``mat.period`` steps, inactive modules frozen before the
forward pass so autograd computes none of their gradients, and the per-epoch λ_max and active set written to
``metrics.json`` under ``mat``.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler
from tqdm import tqdm

from glance_train.checkpoint import save_checkpoint
from glance_train.config import MatOptions, TrainConfig
from glance_train.curves import plot_curves, write_metrics
from glance_train.distributed import WorkerContext, broadcast_flag, threads_per_worker
from glance_train.mat.option import TrainerMat, probe_batch
from glance_train.tasks import Task

Batch = tuple[torch.Tensor, torch.Tensor]


def one_cycle(fraction: float, max_lr: float, warmup: float = 0.15) -> float:
    """OneCycleLR's cosine shape (start and end at max_lr/25 and max_lr/25e4) at ``fraction`` ∈ [0, 1]."""
    f = min(max(fraction, 0.0), 1.0)
    start, end = max_lr / 25.0, max_lr / 25.0 / 1e4
    if f < warmup:
        return start + (max_lr - start) * (1 - math.cos(math.pi * f / warmup)) / 2
    return end + (max_lr - end) * (1 + math.cos(math.pi * (f - warmup) / (1 - warmup))) / 2


def _set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


def _project_constraints(net: nn.Module) -> None:
    """Modules with a parameter constraint (e.g. the LI layer's W_c ∈ [0, 1]) project back after each step."""
    for m in net.modules():
        project = getattr(m, "project_", None)
        if callable(project):
            project()


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best: dict[str, float] = field(default_factory=dict)
    best_epoch: int = -1
    steps: int = 0
    stopped_early: bool = False
    out_of_time: bool = False
    seconds: float = 0.0
    mat: dict[str, Any] = field(default_factory=dict)
    """MAT's record (``TrainerMat.record``) when MAT is on: per-epoch λ_max per module and the active set."""

    def summary(self) -> str:
        """One line for the terminal: why training stopped, the best epoch, steps and time."""
        why = "early stop" if self.stopped_early else "done"
        return f"{why}: best epoch {self.best_epoch}, {self.steps} steps, {self.seconds:.1f} s"


@dataclass(frozen=True)
class Trainer:
    config: TrainConfig
    task: Task
    seed: int
    out_dir: Path | None
    meta: dict[str, Any]
    """Saved in every checkpoint: model name and config, experiment, dataset."""
    quiet: bool = False
    mat: MatOptions = field(default_factory=MatOptions)

    def fit(
        self, ctx: WorkerContext, model: nn.Module, train_set: Dataset[Batch], val_set: Dataset[Batch]
    ) -> FitResult:
        cfg = self.config
        if cfg.batch_size % ctx.world_size != 0:
            raise ValueError(f"batch_size {cfg.batch_size} does not split over {ctx.world_size} workers")
        torch.set_num_threads(threads_per_worker(cfg.threads, ctx.world_size))
        model.to(ctx.device)
        mat = None
        if self.mat.enabled:
            mat = TrainerMat(ctx, model, probe_batch(train_set, self.mat.probe_size), self.mat)
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        # MAT leaves frozen modules out of the autograd graph: DDP must look for unused parameters.
        net: nn.Module = (
            DistributedDataParallel(model, device_ids=ids, find_unused_parameters=mat is not None)
            if ctx.distributed
            else model
        )
        sampler = DistributedSampler(
            train_set, ctx.world_size, ctx.rank, shuffle=True, seed=self.seed, drop_last=True
        )
        per_worker = cfg.batch_size // ctx.world_size
        loader = DataLoader(train_set, batch_size=per_worker, sampler=sampler, drop_last=True)
        val_loader = DataLoader(val_set, batch_size=256)
        steps_total = cfg.epochs * len(loader)
        if cfg.max_steps > 0:
            steps_total = min(steps_total, cfg.max_steps)
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=cfg.lr, total_steps=max(steps_total, 1), pct_start=0.15
        )

        result = FitResult()
        start = time.perf_counter()
        stale = 0
        for epoch in range(cfg.epochs):
            sampler.set_epoch(epoch)
            deadline = start + cfg.max_seconds if cfg.max_seconds > 0 and not ctx.distributed else math.inf
            train_loss = self._epoch(ctx, net, loader, opt, sched, epoch, result, steps_total, mat, deadline)
            stop = result.steps >= steps_total
            if mat is not None:
                mat.end_epoch(epoch + 1)
                result.mat = mat.record()
            if ctx.is_main:
                improved = self._end_epoch(model, val_loader, epoch, train_loss, opt, result, start)
                stale = 0 if improved else stale + 1
                if stale >= cfg.patience and not stop:
                    result.stopped_early = stop = True
            # The budget covers validation too: no epoch starts once it is spent.
            if cfg.max_seconds > 0 and time.perf_counter() - start > cfg.max_seconds:
                result.out_of_time = stop = True
            if broadcast_flag(ctx, stop):
                break
        if mat is not None:
            mat.release()  # every parameter trainable again, as export and fine-tuning expect
        result.seconds = time.perf_counter() - start
        return result

    def _epoch(
        self,
        ctx: WorkerContext,
        net: nn.Module,
        loader: DataLoader[Batch],
        opt: torch.optim.Optimizer,
        sched: Any,
        epoch: int,
        result: FitResult,
        steps_total: int,
        mat: TrainerMat | None = None,
        deadline: float = math.inf,
    ) -> float:
        net.train()
        show = ctx.is_main and not self.quiet and sys.stderr.isatty()
        desc = f"epoch {epoch + 1}/{self.config.epochs}"
        bar = tqdm(loader, desc=desc, leave=False, disable=not show, file=sys.stderr)
        total, count = 0.0, 0
        device = next(net.parameters()).device
        for x, t in bar:
            # A model with several inputs (e.g. eye crops, pupil, scene) gets a tuple of tensors per batch.
            xs = [v.to(device, non_blocking=True) for v in x] if isinstance(x, list | tuple) else [x.to(device)]
            t = t.to(device, non_blocking=True)
            if mat is not None:
                mat.before_step()  # probe if due; freeze inactive modules before autograd sees the forward
            loss, _ = self.task.loss(net(*xs), t)
            if not math.isfinite(float(loss)):
                raise FloatingPointError(f"loss is {float(loss)} at step {result.steps}")
            opt.zero_grad(set_to_none=True)  # None, not zero: AdamW then skips frozen parameters entirely
            loss.backward()
            if mat is not None:
                mat.check_skipped()
            opt.step()
            _project_constraints(net)
            if math.isfinite(deadline):
                # A time-budgeted run follows the one-cycle shape over its wall-time budget instead of a step
                # count: on a busy machine the step count is unknown, and a schedule cut off at its peak
                # learning rate leaves a worse model than a full, shorter one.
                _set_lr(opt, one_cycle(1.0 - (deadline - time.perf_counter()) / self.config.max_seconds,
                                       self.config.lr))
            else:
                sched.step()
            if mat is not None:
                mat.after_step()
            result.steps += 1
            total, count = total + float(loss), count + 1
            bar.set_postfix(loss=f"{total / count:.3f}")
            if result.steps >= steps_total or time.perf_counter() > deadline:
                break
        bar.close()
        return total / max(count, 1)

    def _end_epoch(
        self,
        model: nn.Module,
        val_loader: DataLoader[Batch],
        epoch: int,
        train_loss: float,
        opt: torch.optim.Optimizer,
        result: FitResult,
        start: float,
    ) -> bool:
        lr = opt.param_groups[0]["lr"]
        row = {"epoch": epoch + 1, "step": result.steps, "train_loss": train_loss, "lr": lr}
        row |= self.task.evaluate(model, val_loader, "val")
        row["seconds"] = time.perf_counter() - start
        result.history.append(row)
        monitor = self.task.monitor
        best = result.best.get(monitor, math.inf)
        improved = not result.best or row[monitor] < best - self.config.min_delta
        if improved:
            result.best, result.best_epoch = dict(row), epoch + 1
        if not self.quiet:
            shown = ", ".join(f"{k}={v:.4g}" for k, v in row.items() if k not in ("epoch", "step"))
            print(f"epoch {epoch + 1}: {shown}{' *' if improved else ''}", file=sys.stderr, flush=True)
        if self.out_dir is not None:
            extra = {"epoch": epoch + 1, "steps": result.steps, "metrics": row}
            if improved:
                save_checkpoint(self.out_dir / "best.pt", model, self.meta, **extra)
            save_checkpoint(self.out_dir / "last.pt", model, self.meta, optimizer=opt.state_dict(), **extra)
            record = {"history": result.history, "best": result.best, "bestEpoch": result.best_epoch}
            if result.mat:
                record["mat"] = result.mat
            write_metrics(self.out_dir / "metrics.json", record)
            plot_curves(self.out_dir / "curves.png", result.history, monitor, str(self.meta.get("model", "")))
        return improved
