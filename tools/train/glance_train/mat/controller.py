"""MAT as an option of any training loop: probe λ_max every few steps, train only the active modules.

Glance's threshold rule (the paper's exact rule is not public; this one is ours and is what the code does):

    every ``period`` optimiser steps (and at step 0) measure λ_m = λ_max(Θ_m) for every module m;
    peers(m)   = the modules of the same kind in the same place (the heads of one layer, all MLPs, all conv
                 blocks: the name with the digits of its last part removed), because λ grows with a module's
                 parameter count and depth, and only like modules compare fairly;
    strong_m   = λ_m ≥ α · mean_{k ∈ peers(m)} λ_k                 (the dynamic, relative threshold)
    moving_m   = |ln λ_m − ln λ_m(previous probe)| ≥ τ           (its kernel still changes: it still learns)
    active_m   = (probe index < warmup) or (strong_m and moving_m)
    if fewer than ``min_active`` modules are active, the ones with the largest λ_m / peer mean are added.

A weak module (small λ relative to its peers) learns features that generalise badly (the paper's finding), a
settled one (λ no longer moving) has converged; both stop back-propagating until a later probe says otherwise.
Every module is measured at every probe, frozen or not, so a module can come back.

Selective back-propagation is real: ``before_step`` sets ``requires_grad_(False)`` on the parameters of
inactive modules before the forward pass, so autograd builds no weight-gradient nodes for them (and no
input-gradient nodes below the lowest trainable parameter). With ``zero_grad(set_to_none=True)`` their
``.grad`` stays None and optimisers such as Adam(W) skip them. DistributedDataParallel needs
``find_unused_parameters=True`` for this.

Use with any loop::

    mat = MatController(model, probe_x, MatConfig())
    for x, y in loader:
        mat.before_step()
        loss = loss_fn(model(x), y); opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        mat.after_step()
    mat.end_epoch(epoch)   # appends {epoch, lambda, active, active_share} to mat.log
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from glance_train.mat.flops import FlopCounter, Tally
from glance_train.mat.mntk import ModuleGroups, module_lambda_max


@dataclass(frozen=True)
class MatConfig:
    period: int = 40
    """Optimiser steps between λ probes."""
    alpha: float = 1.0
    """A module is strong when its λ_max ≥ alpha × its peers' mean λ_max."""
    tau: float = 0.1
    """A module still learns when ln λ_max moved by at least tau since the previous probe (about 10%)."""
    warmup: int = 2
    """Probes during which every module trains (λ at initialisation says little)."""
    min_active: int = 1
    probe_size: int = 4
    """Probe samples; the probe costs probe_size × (1 forward + C one-sample backwards)."""


def default_groups(model: nn.Module) -> ModuleGroups:
    """The model's own partition (``mat_modules()``) or, failing that, its blocks.

    Blocks, read off the module tree: every top-level child with parameters is one block, except a container
    (``nn.Sequential`` / ``nn.ModuleList``) of blocks, which contributes its children (``stage4.0``,
    ``stage4.1``, …). A container of plain layers (conv → norm → act, linear → act → linear) stays one block:
    a block is the unit that owns a piece of the representation, a single layer of it is not.
    """
    own = getattr(model, "mat_modules", None)
    if callable(own):
        return own()
    groups: ModuleGroups = {}
    for name, child in model.named_children():
        if _is_container_of_blocks(child):
            for sub, block in child.named_children():
                _add(groups, f"{name}.{sub}", block)
        else:
            _add(groups, name, child)
    return groups


def _is_container_of_blocks(module: nn.Module) -> bool:
    if not isinstance(module, (nn.Sequential, nn.ModuleList)):
        return False
    owning = [c for c in module.children() if any(True for _ in c.parameters())]
    return bool(owning) and all(any(True for _ in c.children()) for c in owning)


def _add(groups: ModuleGroups, name: str, module: nn.Module) -> None:
    params = [p for p in module.parameters() if p.requires_grad]
    if params:
        groups[name] = params


def peer_kind(name: str) -> str:
    """"block1.head3" → "block1.head", "block2" → "block": peers share everything but the last index."""
    head, _, last = name.rpartition(".")
    return f"{head}.{re.sub(r'[0-9]+', '', last)}" if head else re.sub(r"[0-9]+", "", last)


class MatController:
    def __init__(
        self,
        model: nn.Module,
        probe: torch.Tensor,
        config: MatConfig | None = None,
        groups: ModuleGroups | None = None,
        counter: FlopCounter | None = None,
    ) -> None:
        self.model = model
        self.config = config or MatConfig()
        self.probe = probe[: self.config.probe_size]
        self.groups = groups if groups is not None else default_groups(model)
        self.counter = counter
        self.active: frozenset[str] = frozenset(self.groups)
        self.lambdas: dict[str, float] = {}
        self.probe_flops = Tally()
        self.probe_seconds = 0.0
        self.probe_cpu_seconds = 0.0
        self.log: list[dict[str, Any]] = []
        self.probes: list[dict[str, Any]] = []
        self._step = 0
        self._previous: dict[str, float] = {}
        self._active_steps = dict.fromkeys(self.groups, 0)
        self._epoch_steps = 0

    def before_step(self, model: nn.Module | None = None) -> None:
        """Probe if one is due, then switch ``requires_grad`` per module. Call before the forward pass.

        ``model`` is accepted for trainers that pass it (a DDP wrapper, say); the controller always acts on
        the model it was built with, whose parameters the wrapper shares.
        """
        if self._step % self.config.period == 0:
            self._probe_and_select()
        for name, params in self.groups.items():
            on = name in self.active
            for p in params:
                p.requires_grad_(on)

    def after_step(self) -> None:
        self._step += 1
        self._epoch_steps += 1
        for name in self.active:
            self._active_steps[name] += 1

    def end_epoch(self, epoch: int) -> dict[str, Any]:
        steps = max(self._epoch_steps, 1)
        share = {n: self._active_steps[n] / steps for n in self.groups}
        row = {
            "epoch": epoch,
            "lambda": dict(self.lambdas),
            "active": sorted(self.active),
            "active_share": sum(share.values()) / len(share),
            "module_share": share,
        }
        self.log.append(row)
        self._active_steps = dict.fromkeys(self.groups, 0)
        self._epoch_steps = 0
        return row

    def release(self) -> None:
        """Give every parameter its gradient back (after training, before export or evaluation code)."""
        for params in self.groups.values():
            for p in params:
                p.requires_grad_(True)

    def write_log(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"config": asdict(self.config), "epochs": self.log, "probes": self.probes}
        path.write_text(json.dumps(record, indent=1) + "\n")

    def measure(self) -> tuple[dict[str, float], Tally]:
        """λ_max per module on the probe batch. Subclasses may share one measurement among workers (DDP)."""
        return module_lambda_max(self.model, self.groups, self.probe, self.counter)

    def _probe_and_select(self) -> None:
        start, cpu = time.perf_counter(), time.process_time()
        lambdas, spent = self.measure()
        self.probe_seconds += time.perf_counter() - start
        self.probe_cpu_seconds += time.process_time() - cpu
        self.probe_flops += spent
        index = self._step // self.config.period
        self.active = self.select(lambdas, self._previous, index)
        self._previous = self.lambdas = lambdas
        self.probes.append({"step": self._step, "lambda": lambdas, "active": sorted(self.active)})

    def select(self, lambdas: dict[str, float], previous: dict[str, float], index: int) -> frozenset[str]:
        """The threshold rule of the module docstring, as a pure function of two probes."""
        cfg = self.config
        if index < cfg.warmup or not previous:
            return frozenset(lambdas)
        kinds: dict[str, list[float]] = {}
        for name, lam in lambdas.items():
            kinds.setdefault(peer_kind(name), []).append(lam)
        relative = {n: lam / max(sum(kinds[peer_kind(n)]) / len(kinds[peer_kind(n)]), 1e-30)
                    for n, lam in lambdas.items()}
        active = set()
        for name, lam in lambdas.items():
            moved = abs(math.log(max(lam, 1e-30)) - math.log(max(previous.get(name, lam), 1e-30)))
            if relative[name] >= cfg.alpha and moved >= cfg.tau:
                active.add(name)
        for name in sorted(relative, key=relative.__getitem__, reverse=True):
            if len(active) >= cfg.min_active:
                break
            active.add(name)
        return frozenset(active)
