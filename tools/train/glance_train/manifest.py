"""manifest.json: what a model is and expects, how good it is, what it learnt from, and where it came from.

The layout is DESIGN.md's "Models"; keys are camelCase because the device (TypeScript, ``models/manifest.ts``)
reads them, and ``schemaVersion`` must match the device's or it refuses the model. The signature is added
later by ``glance sign`` over the canonical form of everything else, so the sha256 here binds the ONNX bytes
(and ``golden.sha256`` the golden file) to the signature.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import onnx
import torch
from torch import nn

MANIFEST_SCHEMA_VERSION = 1
REPO_ROOT = Path(__file__).resolve().parents[3]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_info(root: Path = REPO_ROOT) -> dict[str, Any] | None:
    """The commit the toolchain ran from, and whether the tree had uncommitted changes (None outside git)."""
    try:
        def git(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)

        commit = git("rev-parse", "HEAD")
        if commit.returncode != 0:
            return None
        status = git("status", "--porcelain")
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.TimeoutExpired):
        return None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def build_manifest(
    *,
    name: str,
    version: str,
    task: str,
    spec: dict[str, Any],
    model_dir: Path,
    metrics: dict[str, Any],
    dataset: dict[str, Any],
    training: dict[str, Any],
    description: str = "",
) -> dict[str, Any]:
    """The manifest of the model in ``model_dir`` (model.onnx and golden.json must already be there)."""
    onnx_path = model_dir / "model.onnx"
    proto = onnx.load(str(onnx_path))
    golden = model_dir / "golden.json"
    return {
        "schemaVersion": MANIFEST_SCHEMA_VERSION,
        "name": name,
        "version": version,
        "task": task,
        "description": description,
        "inputs": spec["inputs"],
        "outputs": spec["outputs"],
        "labels": spec.get("labels", {}),
        "metrics": metrics,
        "dataset": dataset,
        "file": "model.onnx",
        "sha256": sha256_file(onnx_path),
        "bytes": onnx_path.stat().st_size,
        "opset": max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")),
        "golden": {"file": "golden.json", "sha256": sha256_file(golden)} if golden.exists() else None,
        "provenance": {
            "git": git_info(),
            "exportedAt": _now(),
            "torchVersion": torch.__version__,
            "onnxVersion": onnx.__version__,
            "python": platform.python_version(),
            **training,
        },
    }


def manifest_from_checkpoint(
    ckpt: dict[str, Any], spec: dict[str, Any], model_dir: Path, version: str, model: nn.Module
) -> dict[str, Any]:
    held = ckpt.get("held_out")
    if not held:
        raise ValueError("the checkpoint has no held-out metrics: export best.pt of a finished training run")
    exp = ckpt["experiment"]
    return build_manifest(
        name=ckpt["model"],
        version=version,
        task=spec.get("task", ckpt["model"]),
        spec=spec,
        model_dir=model_dir,
        metrics={
            "heldOut": held["test"],
            "baselines": held["baselines"],
            "validation": ckpt.get("metrics", {}),
        },
        dataset=ckpt["dataset"],
        training={
            "config": exp,
            "modelConfig": ckpt["model_config"],
            "seed": exp["seed"],
            "trainedAt": ckpt.get("saved_at"),
            "trainedWithTorch": ckpt.get("torch_version"),
            "epoch": ckpt.get("epoch"),
            "steps": ckpt.get("steps"),
            "trainSeconds": held.get("trainSeconds"),
            "parameters": sum(p.numel() for p in model.parameters()),
        },
        description=spec.get("description", ""),
    )
