"""Export a checkpoint to a model directory the device can load: ONNX, golden.json, manifest.json.

    /usr/bin/python3 -m glance_train.export --checkpoint RUN/best.pt --out models/zoo/pupil/1.0.0

Steps: ONNX (opset 17, dynamic batch) → ``onnx.checker`` (full) → golden inputs from the held-out split
and PyTorch's outputs on them → manifest (DESIGN.md "Models") → parity in onnxruntime-node
(``models/parity-cli.ts``: the device's runtime, not a Python stand-in) with max |diff| ≤ tolerance.
Everything is written to a staging directory and moved into place only when every step passed, so a failed
export leaves no half-valid model.
The manifest is unsigned: ``glance sign --key KEY.pem DIR/manifest.json`` adds the signature.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from glance_train.checkpoint import load_checkpoint, model_from_checkpoint
from glance_train.data.eye_dataset import EyeDatasetConfig, render_item
from glance_train.golden import write_golden
from glance_train.manifest import manifest_from_checkpoint
from glance_train.models import model_entry
from glance_train.tasks import get_task

OPSET = 17
TOLERANCE = 1e-4
REPO_ROOT = Path(__file__).resolve().parents[3]


class ExportError(Exception):
    """The export did not produce a model the device would accept; the message says which step failed."""



def publish(stage: Path, out: Path, manifest: dict[str, Any], parity: bool) -> None:
    """Writes the manifest into the staged model directory, checks parity in onnxruntime-node, and only then
    moves the directory into place (replacing an older export there), so `out` is never half-written."""
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if parity:
        report = parity_check(stage, TOLERANCE)
        print(f"parity: max |diff| {report['maxAbsDiff']:.3g} ≤ {TOLERANCE}", file=sys.stderr)
    if out.exists():
        shutil.rmtree(out)
    stage.chmod(0o755)  # mkdtemp makes it private; a model directory is readable like any other
    stage.rename(out)


def export_after_training(export: Callable[[], dict[str, Any]], model_dir: Path) -> int:
    """`glance train`'s export step: 0 and the model's path and hash, or 1 and why the export failed."""
    try:
        manifest = export()
    except ExportError as error:
        print(f"glance train: export failed: {error}", file=sys.stderr)
        return 1
    print(f"exported: {model_dir} (sha256 {manifest['sha256'][:16]}…)")
    return 0


def symbolic_axes(spec: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Every string dimension of the I/O spec's shapes ("batch", "height", …) becomes a dynamic ONNX axis."""
    return {
        t["name"]: {i: d for i, d in enumerate(t["shape"]) if isinstance(d, str)}
        for t in [*spec["inputs"], *spec["outputs"]]
    }


def export_onnx(
    model: nn.Module,
    example: torch.Tensor,
    path: Path,
    input_name: str,
    output_names: tuple[str, ...],
    dynamic_axes: dict[str, dict[int, str]] | None = None,
) -> None:
    names = [input_name, *output_names]
    with warnings.catch_warnings():
        # torch 1.13's exporter warns about its own internals (tracer booleans in its norm layers, shape
        # inference of constants); the checker and the parity check below are what tell a good export.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(
            model.eval(),
            (example,),
            str(path),
            opset_version=OPSET,
            input_names=[input_name],
            output_names=list(output_names),
            dynamic_axes=dynamic_axes or {n: {0: "batch"} for n in names},
            do_constant_folding=True,
        )
    proto = onnx.load(str(path))
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as error:
        raise ExportError(f"onnx.checker rejected the exported graph: {error}") from error


def golden_inputs(ckpt: dict[str, Any], count: int) -> torch.Tensor:
    """The first ``count`` items of the run's held-out split, scaled as the manifest's input says."""
    dataset = ckpt["dataset"]
    test = dataset["splits"]["test"]
    cfg = EyeDatasetConfig.from_dict({**dataset["config"], "size": test["size"], "seed": test["seed"]})
    images = np.stack([render_item(cfg, i)[0] for i in range(count)])
    return torch.from_numpy(images).float().div_(255.0).unsqueeze(1)


def parity_check(model_dir: Path, tolerance: float) -> dict[str, Any]:
    """Run the golden inputs through onnxruntime-node; raise ExportError when any output differs too much."""
    tsx = REPO_ROOT / "node_modules" / ".bin" / "tsx"
    script = REPO_ROOT / "models" / "parity-cli.ts"
    if not tsx.exists():
        raise ExportError(f"parity check needs onnxruntime-node: {tsx} is missing (run npm ci)")
    cmd = [str(tsx), str(script), str(model_dir), "--tolerance", str(tolerance)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        why = proc.stderr.strip()[-2000:]
        raise ExportError(f"parity check did not run (exit {proc.returncode}): {why}") from None
    if report.get("maxAbsDiff") is None:
        raise ExportError(f"parity check could not run: {report.get('message', proc.stderr.strip()[-2000:])}")
    if proc.returncode != 0 or not report.get("ok"):
        raise ExportError(
            f"parity check failed: max |onnxruntime-node - PyTorch| = {report.get('maxAbsDiff')} "
            f"> {tolerance} ({report.get('message', '')})"
        )
    return report


def export_checkpoint(
    checkpoint: Path,
    out: Path,
    version: str | None = None,
    golden_count: int | None = None,
    parity: bool = True,
    extra_metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Export ``checkpoint`` into ``out`` (replaced only on success); return the manifest."""
    out = out.resolve()  # the parity check runs from the repository root
    ckpt = load_checkpoint(checkpoint)
    if model_entry(ckpt["model"]).task == "emotion":  # several inputs: the emotion family's own export
        from glance_train.emotion.export import export_emotion

        return export_emotion(checkpoint, out, version, parity)
    if not ckpt.get("held_out"):
        raise ValueError(f"{checkpoint} has no held-out metrics: export best.pt of a finished training run")
    model = model_from_checkpoint(ckpt)
    task = get_task(model_entry(ckpt["model"]).task)
    spec = task.io_spec(ckpt["model_config"])
    count = int(golden_count or ckpt["experiment"].get("export", {}).get("golden_count", 3))
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        # Tasks whose inputs are not eye images (the keyframe policy's states) carry their golden inputs.
        inputs = ckpt["golden_inputs"][:count] if "golden_inputs" in ckpt else task.data().golden_inputs(ckpt, count)
        input_name = spec["inputs"][0]["name"]
        # A model may have an export form computing the same function more plainly (LI layers as Conv nodes).
        for_export = getattr(model, "for_export", None)
        exported = for_export() if callable(for_export) else model
        export_onnx(exported, inputs, stage / "model.onnx", input_name, task.output_names, symbolic_axes(spec))
        with torch.no_grad():
            outputs = model(inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        named_outputs = dict(zip(task.output_names, outputs, strict=True))
        write_golden(stage / "golden.json", {spec["inputs"][0]["name"]: inputs}, named_outputs, TOLERANCE)
        version = version or ckpt["experiment"]["version"]
        manifest = manifest_from_checkpoint(ckpt, spec, stage, version, model)
        if extra_metrics:
            manifest["metrics"] |= extra_metrics
        publish(stage, out, manifest, parity)
        return manifest
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance export", description="checkpoint → parity-checked model dir")
    p.add_argument("--checkpoint", type=Path, required=True, help="a best.pt/last.pt written by glance train")
    p.add_argument("--out", type=Path, required=True, help="model directory, e.g. models/zoo/pupil/1.0.0")
    p.add_argument("--version", help="model version (default: the experiment's)")
    p.add_argument("--golden", type=int, help="number of golden inputs")
    p.add_argument("--no-parity", action="store_true", help="skip the onnxruntime-node parity check")
    args = p.parse_args(argv)
    if not args.checkpoint.exists():
        print(f"glance export: checkpoint {args.checkpoint} does not exist", file=sys.stderr)
        return 2
    if torch.load(args.checkpoint).get("task") == "face-track":  # its own two-input export
        from glance_train.faces.export import main as face_track_export

        return face_track_export(argv if argv is not None else sys.argv[1:])
    try:
        if load_checkpoint(args.checkpoint).get("model") == "tva":  # two inputs: glance_train.tva.export
            from glance_train.tva.export import export_checkpoint as export_tva

            manifest = export_tva(args.checkpoint, args.out, args.version, args.golden, not args.no_parity)
        else:
            manifest = export_checkpoint(args.checkpoint, args.out, args.version, args.golden, not args.no_parity)
    except ExportError as error:
        print(f"glance export: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"glance export: {error}", file=sys.stderr)
        return 2
    print(f"{args.out}: {manifest['name']}@{manifest['version']} sha256 {manifest['sha256']}")
    print(f"next: glance sign --key KEY.pem {args.out / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
