"""MAT inside the shared trainer (``Trainer``): the controller, shared among DDP workers, plus the checks and
the per-epoch record that go into the run's metrics JSON.

Under DistributedDataParallel every worker must freeze the same modules at the same step, or the workers'
gradient all-reduce would disagree about which parameters take part. The probe batch is the same on every
worker and so are the weights, but rather than trust bit-identical eigenvalues across processes, rank 0
measures λ_max and broadcasts it; every worker then applies the same (pure) threshold rule. DDP is built with
``find_unused_parameters=True`` so that a frozen module's parameters, absent from the autograd graph, are
marked ready instead of being waited for; a parameter that no worker used keeps ``grad = None`` (torch's
reducer leaves globally unused gradients untouched), so AdamW skips it as in one process.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset

from glance_train.config import MatOptions
from glance_train.distributed import WorkerContext
from glance_train.mat.controller import MatConfig, MatController
from glance_train.mat.flops import FlopCounter, Tally, full_backward_flops


def probe_batch(train_set: Dataset[Any], size: int) -> torch.Tensor:
    """``size`` training inputs spread evenly over the set: deterministic, so every worker probes the same."""
    n = len(train_set)  # type: ignore[arg-type]
    if n == 0:
        raise ValueError("mat: the training set is empty")
    picks = sorted({i * n // size for i in range(min(size, n))})
    return torch.stack([train_set[i][0] for i in picks])


class TrainerMat(MatController):
    """The MAT controller as the trainer uses it: shared λ under DDP, and a check that skipping is real."""

    def __init__(
        self, ctx: WorkerContext, model: nn.Module, probe: torch.Tensor, options: MatOptions
    ) -> None:
        config = MatConfig(
            period=options.period,
            alpha=float(options.alpha),
            tau=float(options.tau),
            warmup=options.warmup,
            min_active=options.min_active,
            probe_size=options.probe_size,
        )
        probe = probe.to(ctx.device)
        # Measured FLOPs of the main products (Linear, Conv2d): what this worker's steps spent, against what
        # full back-propagation of the same forward passes would have (per sample, from one probe sample).
        self._full = full_backward_flops(model, probe[:1])
        super().__init__(model, probe, config, counter=FlopCounter(model))
        if not self.groups:
            raise ValueError("mat: the model has no modules with trainable parameters")
        self.ctx = ctx
        self.options = options
        self._inactive_steps = 0
        self._leaks = 0
        self._leaks_total = 0
        self._spent = Tally()
        self._samples = 0
        self._probe_seen = 0.0
        self._totals = {"forward": 0.0, "backward": 0.0, "probe": 0.0, "full_backward": 0.0}

    def before_step(self, model: nn.Module | None = None) -> None:
        assert self.counter is not None
        self.counter.take()  # drop what ran since the last step (evaluation): only training steps count
        super().before_step(model)

    def measure(self) -> tuple[dict[str, float], Tally]:
        if not self.ctx.distributed:
            return super().measure()
        shared: list[Any] = [super().measure() if self.ctx.is_main else None]
        dist.broadcast_object_list(shared, src=0)
        lambdas, spent = shared[0]
        return lambdas, spent

    def check_skipped(self) -> None:
        """After ``backward`` (and DDP's all-reduce): an inactive module's parameters must have no gradient.

        Counts violations rather than raising, so the metrics JSON shows the evidence either way. Also
        tallies the step's FLOPs (forward, and the backward autograd ran given what was frozen).
        """
        assert self.counter is not None
        step = self.counter.take()
        self._spent += step
        self._samples += round(step.forward / self._full.forward) if self._full.forward else 0
        for name, params in self.groups.items():
            if name in self.active:
                continue
            self._inactive_steps += 1
            self._leaks += sum(p.grad is not None for p in params)

    def end_epoch(self, epoch: int) -> dict[str, Any]:
        row = super().end_epoch(epoch)
        row["inactive_module_steps"] = self._inactive_steps
        row["inactive_params_with_grad"] = self._leaks
        probe = self.probe_flops.forward + self.probe_flops.backward
        flops = {
            "forward": self._spent.forward,
            "backward": self._spent.backward,
            "probe": probe - self._probe_seen,
            "full_backward": self._full.backward * self._samples,
        }
        row["flops"] = flops
        full = flops["full_backward"]
        row["backward_saved"] = 1 - flops["backward"] / full if full else 0.0
        for key, value in flops.items():
            self._totals[key] += value
        self._probe_seen = probe
        self._leaks_total += self._leaks
        self._inactive_steps = self._leaks = 0
        self._spent, self._samples = Tally(), 0
        self.log[-1] = row
        return row

    def record(self) -> dict[str, Any]:
        """The ``mat`` entry of metrics.json: options, modules, per-epoch λ_max and active set, probes."""
        return {
            "options": asdict(self.options),
            "modules": {n: sum(p.numel() for p in ps) for n, ps in self.groups.items()},
            "epochs": self.log,
            "probes": self.probes,
            "probeSeconds": self.probe_seconds,
            "inactiveParamsWithGrad": self._leaks_total,
            "flops": dict(self._totals),
            "flopsSaved": self.flops_saved(),
        }

    def flops_saved(self) -> float:
        """1 − (forward + backward + probes) / (forward + full backward): the saving on this worker so far."""
        t = self._totals
        full = t["forward"] + t["full_backward"]
        return 1 - (t["forward"] + t["backward"] + t["probe"]) / full if full else 0.0

    def release(self) -> None:
        super().release()
        if self.counter is not None:
            self.counter.close()
