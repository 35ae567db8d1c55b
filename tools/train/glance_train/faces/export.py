"""Export the track embedding: ONNX (opset 17, dynamic batch, two inputs: crops and mask) → onnx.checker →
golden.json (held-out synthetic tracks) → manifest (with the tuned clustering threshold in its metrics) →
parity in onnxruntime-node. Same staging-then-rename discipline as glance_train.export.

    /usr/bin/python3 -m glance_train.faces.export --checkpoint RUN/best.pt --out models/zoo/face-track/1.0.0
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from glance_train.export import OPSET, TOLERANCE, ExportError, publish
from glance_train.faces.data import pad_tracks
from glance_train.faces.model import FaceTrackConfig, FaceTrackNet
from glance_train.golden import write_golden
from glance_train.manifest import build_manifest

CROP_SOURCE = 64


def io_spec(cfg: FaceTrackConfig) -> dict[str, Any]:
    s, t = cfg.input_size, cfg.seq_len
    return {
        "task": "face-track",
        "description": "one L2-normalised embedding per face track (VC-TRSF transformer, certified-robust metric head)",
        "inputs": [
            {
                "name": "crops",
                "dtype": "float32",
                "shape": ["batch", t, s, s],
                "layout": "NTHW",
                "normalisation": {
                    "source": f"grey face crops {CROP_SOURCE}x{CROP_SOURCE}, uint8, in time order, up to {t}",
                    "resize": {"width": s, "height": s, "interpolation": "area"},
                    "scale": 1 / 255,
                    "mean": [0.0],
                    "std": [1.0],
                    "padding": "frames after a track's last are zero and masked out",
                },
            },
            {
                "name": "mask",
                "dtype": "float32",
                "shape": ["batch", t],
                "layout": "NT",
                "meaning": "1 for a real frame, 0 for padding; at least one 1 per track",
            },
        ],
        "outputs": [
            {
                "name": "embedding",
                "dtype": "float32",
                "shape": ["batch", cfg.embed_dim],
                "layout": "NC",
                "meaning": "L2-normalised track embedding; compare with cosine distance",
            }
        ],
        "labels": {},
    }


def export_face_track(checkpoint: Path, out: Path, version: str | None = None, parity: bool = True) -> dict[str, Any]:
    out = out.resolve()
    ckpt = torch.load(checkpoint)
    if ckpt.get("task") != "face-track" or not ckpt.get("held_out"):
        raise ValueError(f"{checkpoint} is not a finished face-track run (no held-out metrics)")
    cfg = FaceTrackConfig(**ckpt["model_config"])
    model = FaceTrackNet(cfg)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    crops, mask = pad_tracks([np.asarray(c) for c in ckpt["golden_tracks"]], cfg.seq_len)
    mask[1, 5:] = 0  # one golden track padded, so parity covers the masked path
    crops[1, 5:] = 0
    spec = io_spec(cfg)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        onnx_path = stage / "model.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            torch.onnx.export(
                model, (crops, mask), str(onnx_path), opset_version=OPSET, input_names=["crops", "mask"],
                output_names=["embedding"], dynamic_axes={"crops": {0: "batch"}, "mask": {0: "batch"},
                "embedding": {0: "batch"}}, do_constant_folding=True,
            )
        try:
            onnx.checker.check_model(onnx.load(str(onnx_path)), full_check=True)
        except onnx.checker.ValidationError as error:
            raise ExportError(f"onnx.checker rejected the exported graph: {error}") from error
        with torch.no_grad():
            emb = model(crops, mask)
        write_golden(stage / "golden.json", {"crops": crops, "mask": mask}, {"embedding": emb}, TOLERANCE)
        held = ckpt["held_out"]
        manifest = build_manifest(
            name="face-track",
            version=version or ckpt["experiment"]["version"],
            task="face-track",
            spec=spec,
            model_dir=stage,
            metrics={"heldOut": held["test"], "baselines": held["baselines"], "clustering": held["clustering"],
                     "validation": next((h for h in held["history"] if h["epoch"] == held["best_epoch"]), {})},
            dataset=held["dataset"],
            training={"config": ckpt["experiment"], "modelConfig": ckpt["model_config"], "seed": ckpt["experiment"]["seed"],
                      "trainedAt": ckpt["saved_at"], "trainedWithTorch": ckpt["torch_version"],
                      "epoch": held["best_epoch"], "trainSeconds": held["train_seconds"],
                      "parameters": sum(p.numel() for p in model.parameters())},
            description=spec["description"],
        )
        publish(stage, out, _finite(manifest), parity)
        return manifest
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _finite(value: Any) -> Any:
    """JSON has no NaN: a metric that could not be computed is null."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance export (face-track)")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--version")
    p.add_argument("--golden", type=int, help="ignored: three held-out tracks are the golden set")
    p.add_argument("--no-parity", action="store_true")
    args = p.parse_args(argv)
    if not args.checkpoint.exists():
        print(f"glance export: checkpoint {args.checkpoint} does not exist", file=sys.stderr)
        return 2
    try:
        manifest = export_face_track(args.checkpoint, args.out, args.version, not args.no_parity)
    except ExportError as error:
        print(f"glance export: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"glance export: {error}", file=sys.stderr)
        return 2
    print(f"{args.out}: {manifest['name']}@{manifest['version']} sha256 {manifest['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
