"""Experiment configs: small TOML (or JSON) files under ``tools/train/configs/``, one per experiment.

A file names the model family, its config, the data, the training schedule and the export; ``--set a.b=v`` on
the command line overrides one value (nanoGPT-style) without a flag per option.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 64
    """Global batch: split evenly across DDP workers, so results do not depend on how many there are."""
    lr: float = 3e-3
    weight_decay: float = 1e-4
    patience: int = 4
    """Stop after this many epochs without an improvement of the monitored metric by ``min_delta``."""
    min_delta: float = 0.0
    max_steps: int = 0
    """Stop after this many optimiser steps (0: no limit); for smoke runs and tests."""
    max_seconds: float = 0.0
    """Stop after this much training wall time (0: no limit), so a run keeps its time budget on a busy
    machine. With one process the learning rate then follows the one-cycle shape over the time budget (the
    step count is whatever the machine allows, recorded in the run); with several, the budget is checked at
    epoch ends only (ranks must stop together) and the step-based schedule stays."""
    world_size: int = 1
    """DDP worker processes on this machine (gloo, CPU)."""
    threads: int = 1
    """torch threads per worker (0: the machine's cores divided among the workers). One by default: a small
    CNN gains little from intra-op threads, and OpenMP threads spinning for a core that something else holds
    cost up to 10x (measured on 2 busy cores); use DDP workers (``world_size``) to use more cores."""


@dataclass(frozen=True)
class MatOptions:
    """MAT (modular adaptive training) as an option of the shared trainer; see ``glance_train.mat``.

    ``glance train pupil --set mat.enabled=true --set mat.period=20``. Modules are the model's
    ``mat_modules()`` or, by default, its blocks (``glance_train.mat.controller.default_groups``).
    """

    enabled: bool = False
    probe_size: int = 4
    """Training samples (evenly spaced, the same on every worker) on which λ_max is measured."""
    period: int = 40
    """Optimiser steps between λ_max measurements (and re-selection of the active modules)."""
    alpha: float = 1.0
    """Threshold rule: active when λ_max ≥ alpha × the mean λ_max of the module's peers …"""
    tau: float = 0.1
    """… and ln λ_max moved by at least tau since the previous measurement."""
    warmup: int = 2
    """Measurements during which every module trains."""
    min_active: int = 1

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            kinds = {"bool": bool, "int": int, "float": (int, float)}
            value, kind = getattr(self, f.name), kinds[str(f.type)]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ValueError(f"mat.{f.name} must be {f.type}, got {value!r}")
        if self.probe_size < 1 or self.period < 1 or self.min_active < 1 or self.warmup < 0:
            raise ValueError("mat: probe_size, period and min_active must be ≥ 1, warmup ≥ 0")
        if self.alpha < 0 or self.tau < 0:
            raise ValueError("mat: alpha and tau must be ≥ 0")


@dataclass(frozen=True)
class Experiment:
    model: str
    version: str = "0.1.0"
    seed: int = 0
    model_config: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)
    export: dict[str, Any] = field(default_factory=dict)
    mat: MatOptions = field(default_factory=MatOptions)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Experiment:
        values = dict(raw)
        known = {f.name for f in dataclasses.fields(Experiment)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown experiment keys {unknown}; known: {sorted(known)}")
        train = values.pop("train", {})
        train_known = {f.name for f in dataclasses.fields(TrainConfig)}
        bad = sorted(set(train) - train_known)
        if bad:
            raise ValueError(f"unknown [train] keys {bad}; known: {sorted(train_known)}")
        mat = values.pop("mat", {})
        mat_known = {f.name for f in dataclasses.fields(MatOptions)}
        bad = sorted(set(mat) - mat_known)
        if bad:
            raise ValueError(f"unknown [mat] keys {bad}; known: {sorted(mat_known)}")
        return Experiment(train=TrainConfig(**train), mat=MatOptions(**mat), **values)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``["train.epochs=3", "data.train_size=500"]`` to a nested dict (values parsed as JSON if
    they can be)."""
    out = json.loads(json.dumps(raw))
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = _parse_value(value)
    return out


def load_experiment(path: Path, overrides: list[str] | None = None) -> Experiment:
    text = path.read_text()
    raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    return Experiment.from_dict(apply_overrides(raw, overrides or []))
