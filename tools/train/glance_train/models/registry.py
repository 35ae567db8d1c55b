"""A registry of model families: ``create_model(name, config)`` builds any of them from a plain dict.

Configs arrive from TOML/JSON experiment files and from checkpoints, so they are plain dicts at the edge and
the family's frozen dataclass inside; unknown keys are an error rather than silently ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn


@dataclass(frozen=True)
class ModelEntry:
    name: str
    build: Callable[[Any], nn.Module]
    config_type: type
    task: str
    """The task (glance_train.tasks) whose loss, metrics and I/O description fit this family."""


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, config_type: type, task: str) -> Callable[[Callable[[Any], nn.Module]], Any]:
    def wrap(build: Callable[[Any], nn.Module]) -> Callable[[Any], nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelEntry(name, build, config_type, task)
        return build

    return wrap


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def model_entry(name: str) -> ModelEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(list_models())}") from None


def model_config(name: str, raw: Mapping[str, Any] | None = None) -> Any:
    """The family's config dataclass from a plain dict (lists become tuples, as the dataclasses declare)."""
    cls = model_entry(name).config_type
    known = {f.name for f in dataclasses.fields(cls)}
    values = dict(raw or {})
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"model {name!r}: unknown config keys {unknown}; known: {sorted(known)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def config_dict(config: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def create_model(name: str, config: Mapping[str, Any] | Any | None = None) -> nn.Module:
    entry = model_entry(name)
    cfg = config if isinstance(config, entry.config_type) else model_config(name, config)
    return entry.build(cfg)
