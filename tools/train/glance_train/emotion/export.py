"""Export an emotion checkpoint: ONNX with all inputs (eye, pupil[, scene]) and outputs (logits, embedding
[, cause_logits]), golden from held-out windows, manifest with the confusion matrix, parity in
onnxruntime-node.

The shared export (glance_train.export) handles one-input models; this is the same sequence of steps for a
model with several, written to a staging directory and moved into place only when every step passed.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import onnx
import torch

from glance_train.checkpoint import load_checkpoint, model_from_checkpoint
from glance_train.export import OPSET, TOLERANCE, ExportError, publish
from glance_train.golden import write_golden
from glance_train.manifest import manifest_from_checkpoint
from glance_train.models.emotion_net import ShipEmotionNet
from glance_train.tasks.emotion import io_spec


def _onnx(model: torch.nn.Module, inputs: tuple[torch.Tensor, ...], path: Path, names: tuple[str, ...],
          outputs: tuple[str, ...]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            model.eval(),
            inputs,
            str(path),
            opset_version=OPSET,
            input_names=list(names),
            output_names=list(outputs),
            dynamic_axes={n: {0: "batch"} for n in (*names, *outputs)},
            do_constant_folding=True,
        )
    try:
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    except onnx.checker.ValidationError as error:
        raise ExportError(f"onnx.checker rejected the exported graph: {error}") from error


def export_emotion(
    checkpoint: Path, out: Path, version: str | None = None, parity: bool = True
) -> dict[str, Any]:
    out = out.resolve()
    ckpt = load_checkpoint(checkpoint)
    held = ckpt.get("held_out")
    if not held or "golden_inputs" not in ckpt:
        raise ValueError(f"{checkpoint} has no held-out metrics: export best.pt of a finished training run")
    model = model_from_checkpoint(ckpt)
    mc = ckpt["model_config"]
    aware = isinstance(model, ShipEmotionNet)
    width = mc["embedding"] + (mc.get("scene_embedding", 0) if aware else 0)  # aware: expression + scene
    spec = io_spec(mc["input_size"], mc["steps"], aware, width)
    names, outputs = model.input_names, model.output_names
    inputs = tuple(ckpt["golden_inputs"][: len(names)])
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _onnx(model, inputs, stage / "model.onnx", names, outputs)
        with torch.no_grad():
            result = model(*inputs)
        write_golden(stage / "golden.json", dict(zip(names, inputs, strict=True)),
                     dict(zip(outputs, result, strict=True)), TOLERANCE)
        version = version or ckpt["experiment"]["version"]
        manifest = manifest_from_checkpoint(ckpt, spec, stage, version, model)
        manifest["metrics"]["confusion"] = {
            "rows": "true",
            "columns": "predicted",
            "labels": spec["labels"]["logits"],
            "matrix": held["confusion"],
        }
        publish(stage, out, manifest, parity)
        return manifest
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
