"""Tiny models for the device registry's tests, made by the export, golden and manifest code of real ones.

    /usr/bin/python3 -m glance_train.testing.registry_fixtures ../../test/models/fixtures

- ``scale/1.0.0`` and ``scale/1.1.0``: ``y = x * k`` (k = 1, 2) on ``x: float32[batch, 4]``, with golden
  files; which version answered is visible in the numbers, so swap and rollback tests can check it.
- ``reshape/1.0.0``: a Reshape to ``[-1, 3]`` that exports and type-checks but fails at run time on the
  warm-up input (4 values do not make rows of 3): a model that throws at warm-up.

Manifests are left unsigned; the tests sign copies with keys they make, then break them in the ways a device
must survive (tampered files, unknown key, wrong shapes, corrupt protobuf).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch import nn

from glance_train.export import export_onnx
from glance_train.golden import write_golden
from glance_train.manifest import build_manifest

FIXTURE_DATASET = {"name": "none", "fingerprint": "sha256:" + "0" * 64, "synthetic": True}


class Scale(nn.Module):
    def __init__(self, k: float) -> None:
        super().__init__()
        self.k = nn.Parameter(torch.full((4,), k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.k


class RowsOfThree(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, 3) * 1.0


def _spec(out_width: int) -> dict[str, object]:
    tensor = {"dtype": "float32", "layout": "NC"}
    return {
        "inputs": [{"name": "x", "shape": ["batch", 4], **tensor}],
        "outputs": [{"name": "y", "shape": ["batch", out_width], **tensor}],
        "labels": {},
    }


def _write(
    out: Path, name: str, version: str, model: nn.Module, example: torch.Tensor, golden: bool, out_width: int
) -> None:
    d = out / name / version
    d.mkdir(parents=True, exist_ok=True)
    export_onnx(model, example, d / "model.onnx", "x", ("y",))
    if golden:
        with torch.no_grad():
            write_golden(d / "golden.json", {"x": example}, {"y": model(example)}, 1e-5)
    manifest = build_manifest(
        name=name,
        version=version,
        task="test-fixture",
        spec=_spec(out_width),
        model_dir=d,
        metrics={"heldOut": {}},
        dataset=FIXTURE_DATASET,
        training={"config": {}, "seed": 0},
        description="registry test fixture",
    )
    # Fixed provenance keeps the committed files stable when they are regenerated.
    manifest["provenance"] = {"producer": "glance_train.testing.registry_fixtures"}
    (d / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    out = Path((argv or sys.argv[1:])[0])
    example = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 10
    _write(out, "scale", "1.0.0", Scale(1.0), example, True, 4)
    _write(out, "scale", "1.1.0", Scale(2.0), example, True, 4)
    _write(out, "reshape", "1.0.0", RowsOfThree(), example, False, 3)
    print(f"fixtures in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
