"""A small standalone training loop that counts what training costs, with or without MAT.

Reads top-down: config → data (tensors) → model → optimiser → loop → per-epoch record. It exists so that
tests and the benchmark can compare MAT against full back-propagation on identical data, initial weights,
batches and learning-rate schedule; the shared trainer takes the same ``MatController`` through its hooks.

Compute is measured, not estimated: every forward pass is counted by :class:`FlopCounter`, and each backward
pass is charged what autograd will do given which parameters and inputs require grad (see ``flops.py``).
MAT's probes are charged to MAT. Wall time covers training steps and probes, not evaluation;
``train_side_by_side`` alternates the two methods' steps so that their wall-time ratio is fair on a shared
machine.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from glance_train.mat.controller import MatConfig, MatController
from glance_train.mat.flops import FlopCounter, full_backward_flops


@dataclass(frozen=True)
class LoopConfig:
    epochs: int = 12
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0


@dataclass
class RunResult:
    method: str
    history: list[dict[str, float]] = field(default_factory=list)
    """Per epoch: accuracy, train loss, cumulative GFLOPs (total, backward, probe), seconds, CPU seconds."""
    full_bp_gflops: float = 0.0
    """What full back-propagation would have spent on the same steps (forward + backward, no probes)."""
    mat_log: dict[str, Any] = field(default_factory=dict)
    step_seconds: list[float] = field(default_factory=list)
    """Wall time of every training step, probes included, in order (for paired comparisons)."""

    @property
    def final_accuracy(self) -> float:
        return self.history[-1]["accuracy"]

    @property
    def gflops(self) -> float:
        return self.history[-1]["gflops"]

    @property
    def seconds(self) -> float:
        return self.history[-1]["seconds"]

    def to_target(self, target: float) -> dict[str, float] | None:
        """The first epoch's cumulative cost at which held-out accuracy reached ``target``, or None."""
        for row in self.history:
            if row["accuracy"] >= target:
                return {"epoch": row["epoch"], "gflops": row["gflops"], "seconds": row["seconds"],
                        "cpu_seconds": row["cpu_seconds"]}
        return None

    def summary(self) -> dict[str, Any]:
        return {"method": self.method, "final_accuracy": self.final_accuracy, "gflops": self.gflops,
                "full_bp_gflops": self.full_bp_gflops, "seconds": self.seconds, "history": self.history}


def train(
    model: nn.Module,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    cfg: LoopConfig,
    mat: MatConfig | None = None,
) -> RunResult:
    """Train ``model`` in place on ``data`` = (x_train, y_train, x_test, y_test); MAT if ``mat`` is given."""
    run = _Run(model, data, cfg, mat)
    try:
        for epoch in range(1, cfg.epochs + 1):
            run.epoch(epoch)
    finally:
        run.close()
    return run.result


def train_side_by_side(
    model: nn.Module,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    cfg: LoopConfig,
    mat: MatConfig,
) -> tuple[RunResult, RunResult]:
    """Full back-propagation and MAT from copies of ``model``, one epoch of each in turn.

    Each run is exactly what :func:`train` does (same generator seeds, so the same batches and results), but
    their steps alternate, so on a shared machine both see the same load and their wall-time ratio is
    meaningful even when absolute times are not. Steps, not epochs: at loads of 5–12 on 2 cores, with epochs
    alternating, the wall-time ratio of identical runs swung from 0.71 to 1.08; with steps alternating each
    step has a neighbour that saw the same load, which ``paired_wall_ratio`` uses.
    """
    runs = (_Run(copy.deepcopy(model), data, cfg, None), _Run(copy.deepcopy(model), data, cfg, mat))
    try:
        for epoch in range(1, cfg.epochs + 1):
            for run in runs:
                run.begin_epoch()
            for s in range(runs[0].steps_per_epoch):
                for run in runs:
                    run.step(s)
            for run in runs:
                run.end_epoch(epoch)
    finally:
        for run in runs:
            run.close()
    return runs[0].result, runs[1].result


def paired_wall_ratio(full: RunResult, mat: RunResult, burst: float = 3.0) -> float:
    """MAT's training wall time over full BP's, from steps that ran side by side (``train_side_by_side``).

    A step that the scheduler preempted for another process's burst takes several times its usual time, and on
    a shared 2-core machine that happens to either run at random; such pairs (either step over ``burst`` × its
    run's median) are dropped from both sums. Under a load of 17 on 2 cores the plain ratio of the same runs
    measured 0.85–0.94 and this one 0.78–0.80.
    """
    a, b = np.asarray(full.step_seconds), np.asarray(mat.step_seconds)
    if len(a) != len(b) or len(a) == 0:
        raise ValueError(f"needs runs with the same steps, got {len(a)} and {len(b)}")
    keep = (a < burst * np.median(a)) & (b < burst * np.median(b))
    return float(b[keep].sum() / a[keep].sum())


class _Run:
    """One training run, an epoch at a time (so that two runs can alternate)."""

    def __init__(self, model: nn.Module, data: tuple[torch.Tensor, ...], cfg: LoopConfig,
                 mat: MatConfig | None) -> None:
        self.model, self.data, self.cfg = model, data, cfg
        x_train = data[0]
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.steps_per_epoch = len(x_train) // cfg.batch_size
        self.opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.sched = torch.optim.lr_scheduler.OneCycleLR(
            self.opt, max_lr=cfg.lr, total_steps=cfg.epochs * self.steps_per_epoch, pct_start=0.15)
        self.per_sample_full = full_backward_flops(model, x_train[:1])
        self.counter = FlopCounter(model)
        probe = x_train[torch.randperm(len(x_train), generator=self.gen)[:64]]
        self.controller = MatController(model, probe, mat, counter=self.counter) if mat is not None else None
        self.result = RunResult("mat" if mat is not None else "full-bp")
        self.gflops = self.backward = self.seconds = self.cpu = 0.0
        self.order = torch.empty(0, dtype=torch.long)
        self.loss_sum = self.epoch_seconds = self.epoch_cpu = 0.0

    def epoch(self, epoch: int) -> None:
        self.begin_epoch()
        for s in range(self.steps_per_epoch):
            self.step(s)
        self.end_epoch(epoch)

    def begin_epoch(self) -> None:
        self.model.train()
        self.order = torch.randperm(len(self.data[0]), generator=self.gen)
        self.loss_sum = self.epoch_seconds = self.epoch_cpu = 0.0

    def step(self, s: int) -> None:
        model, cfg, controller, counter = self.model, self.cfg, self.controller, self.counter
        x_train, y_train = self.data[0], self.data[1]
        t0, c0 = time.perf_counter(), time.process_time()
        idx = self.order[s * cfg.batch_size : (s + 1) * cfg.batch_size]
        if controller is not None:
            controller.before_step()
        loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
        self.opt.zero_grad(set_to_none=True)  # inactive modules keep grad None: Adam skips them
        loss.backward()
        self.opt.step()
        self.sched.step()
        if controller is not None:
            controller.after_step()
        took = time.perf_counter() - t0
        self.epoch_seconds += took
        self.result.step_seconds.append(took)
        self.epoch_cpu += time.process_time() - c0
        step = counter.take()
        self.gflops += (step.forward + step.backward) / 1e9
        self.backward += step.backward / 1e9
        self.loss_sum += float(loss)

    def end_epoch(self, epoch: int) -> None:
        model, cfg, controller, counter = self.model, self.cfg, self.controller, self.counter
        x_test, y_test = self.data[2], self.data[3]
        epoch_seconds = self.epoch_seconds
        self.seconds += epoch_seconds
        self.cpu += self.epoch_cpu
        loss_sum = self.loss_sum
        probe_g = probe_s = probe_cpu = 0.0
        if controller is not None:
            probe_s, probe_cpu = controller.probe_seconds, controller.probe_cpu_seconds
            probe_g = (controller.probe_flops.forward + controller.probe_flops.backward) / 1e9
            controller.end_epoch(epoch)
        with counter.section("eval"):  # evaluation is not training compute
            acc = accuracy(model, x_test, y_test)
        counter.take("eval")
        full = self.per_sample_full
        self.result.full_bp_gflops = epoch * self.steps_per_epoch * cfg.batch_size * (
            full.forward + full.backward) / 1e9
        self.result.history.append({
            "epoch": epoch, "train_loss": loss_sum / self.steps_per_epoch, "accuracy": acc,
            "gflops": self.gflops + probe_g, "backward_gflops": self.backward, "probe_gflops": probe_g,
            "full_bp_gflops": self.result.full_bp_gflops, "seconds": self.seconds, "cpu_seconds": self.cpu,
            "epoch_seconds": epoch_seconds,
            "probe_seconds": probe_s, "probe_cpu_seconds": probe_cpu,
            "active_share": controller.log[-1]["active_share"] if controller is not None else 1.0,
        })

    def close(self) -> None:
        self.counter.close()
        if self.controller is not None:
            self.controller.release()
            self.result.mat_log = {"epochs": self.controller.log, "probes": self.controller.probes}


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += int((model(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum())
    return correct / len(x)
