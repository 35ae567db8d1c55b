"""Export a TVA checkpoint: ONNX with two inputs (scene, gaze), checker, golden, manifest, node parity.

The same steps and guarantees as ``glance_train.export`` (staging directory moved into place only when every
step passed), for a model whose graph takes two inputs; the golden inputs are held-out test samples.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from glance_train.checkpoint import load_checkpoint, model_from_checkpoint
from glance_train.export import OPSET, TOLERANCE, ExportError, publish
from glance_train.golden import write_golden
from glance_train.manifest import build_manifest
from glance_train.tasks import tva as task
from glance_train.tva.data import SplitSpec, load_split
from glance_train.tva.model import INPUT_NAMES, OUTPUT_NAMES


def export_onnx(model: torch.nn.Module, scene: torch.Tensor, gaze: torch.Tensor, path: Path) -> None:
    names = [*INPUT_NAMES, *OUTPUT_NAMES]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(
            model.eval(), (scene, gaze), str(path), opset_version=OPSET, input_names=list(INPUT_NAMES),
            output_names=list(OUTPUT_NAMES), dynamic_axes={n: {0: "batch"} for n in names},
            do_constant_folding=True,
        )
    try:
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    except onnx.checker.ValidationError as error:
        raise ExportError(f"onnx.checker rejected the exported graph: {error}") from error


def golden_inputs(
    ckpt: dict[str, Any], count: int, cache_dir: Path | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``count`` held-out samples that lie in an attention episode, and one that does not."""
    spec = SplitSpec.from_dict({**ckpt["tva_splits"]["test"], "clips": 1})
    data = load_split(spec, cache_dir)
    ep = np.flatnonzero(data["episode"])[: max(count - 1, 1)]
    rest = np.flatnonzero(~data["episode"])[:1]
    idx = np.concatenate([ep, rest])[:count]
    scene = torch.from_numpy(data["scene"][idx]).float().div_(255.0)
    return scene, torch.from_numpy(data["gaze"][idx])


def export_checkpoint(
    checkpoint: Path,
    out: Path,
    version: str | None = None,
    golden_count: int | None = None,
    parity: bool = True,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    out = out.resolve()
    ckpt = load_checkpoint(checkpoint)
    held = ckpt.get("held_out")
    if not held:
        raise ValueError(f"{checkpoint} has no held-out metrics: export best.pt of a finished training run")
    model = model_from_checkpoint(ckpt)
    spec = task.io_spec(ckpt["model_config"])
    count = int(golden_count or ckpt["experiment"].get("export", {}).get("golden_count", 3))
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        scene, gaze = golden_inputs(ckpt, count, cache_dir)
        export_onnx(model, scene, gaze, stage / "model.onnx")
        with torch.no_grad():
            box, score = model(scene, gaze)
        ins, outs = {"scene": scene, "gaze": gaze}, {"box": box, "score": score}
        write_golden(stage / "golden.json", ins, outs, TOLERANCE)
        exp = ckpt["experiment"]
        manifest = build_manifest(
            name=ckpt["model"], version=version or exp["version"], task="tva", spec=spec, model_dir=stage,
            metrics={
                "heldOut": held["test"], "baselines": held["baselines"], "validation": ckpt.get("metrics", {})
            },
            dataset=ckpt["dataset"],
            training={
                "config": exp, "modelConfig": ckpt["model_config"], "seed": exp["seed"],
                "trainedAt": ckpt.get("saved_at"), "trainedWithTorch": ckpt.get("torch_version"),
                "epoch": ckpt.get("epoch"), "steps": ckpt.get("steps"),
                "trainSeconds": held.get("trainSeconds"),
                "parameters": sum(p.numel() for p in model.parameters()),
            },
            description=spec["description"],
        )
        publish(stage, out, manifest, parity)
        return manifest
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
