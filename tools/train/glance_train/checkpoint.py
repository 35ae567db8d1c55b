"""Checkpoints carry what it takes to rebuild and judge a model: config, metrics, data fingerprint, versions.

``SCHEMA_VERSION`` changes whenever the dict's layout does; loading refuses a checkpoint of another version
instead of guessing (the device applies the same rule to manifests).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from glance_train.models import create_model

SCHEMA_VERSION = 1
KIND = "glance.checkpoint"


def save_checkpoint(path: Path, model: nn.Module, meta: dict[str, Any], **extra: Any) -> None:
    """Atomically write ``model``'s weights with ``meta`` (model, config, experiment, data) and ``extra``."""
    payload = {
        "kind": KIND,
        "schema_version": SCHEMA_VERSION,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "torch_version": torch.__version__,
        **meta,
        **extra,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    ckpt = torch.load(path, map_location="cpu")
    if not isinstance(ckpt, dict) or ckpt.get("kind") != KIND:
        raise ValueError(f"{path} is not a Glance checkpoint")
    if ckpt.get("schema_version") != SCHEMA_VERSION:
        found = ckpt.get("schema_version")
        raise ValueError(f"{path}: checkpoint schema {found}, this toolchain reads {SCHEMA_VERSION}")
    return ckpt


def model_from_checkpoint(ckpt: dict[str, Any]) -> nn.Module:
    model = create_model(ckpt["model"], ckpt["model_config"])
    model.load_state_dict(ckpt["state_dict"])
    return model.eval()
