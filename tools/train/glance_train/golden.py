"""golden.json: a few inputs and the outputs PyTorch gave for them, for parity checks on the device side.

Tensors are stored as base64 of their little-endian float32 bytes: exact (decimal text would round them) and
about a third the size of JSON numbers.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

GOLDEN_SCHEMA_VERSION = 1


def encode_tensor(t: torch.Tensor) -> dict[str, Any]:
    a = t.detach().cpu().numpy().astype("<f4", copy=False)
    data = base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()
    return {"dtype": "float32", "shape": list(a.shape), "data": data}


def decode_tensor(d: dict[str, Any]) -> np.ndarray:
    if d["dtype"] != "float32":
        raise ValueError(f"golden tensors are float32, got {d['dtype']}")
    return np.frombuffer(base64.b64decode(d["data"]), dtype="<f4").reshape(d["shape"])


def write_golden(
    path: Path, inputs: dict[str, torch.Tensor], outputs: dict[str, torch.Tensor], tolerance: float
) -> None:
    doc = {
        "schemaVersion": GOLDEN_SCHEMA_VERSION,
        "producer": f"torch {torch.__version__}",
        "tolerance": tolerance,
        "inputs": {k: encode_tensor(v) for k, v in inputs.items()},
        "outputs": {k: encode_tensor(v) for k, v in outputs.items()},
    }
    path.write_text(json.dumps(doc) + "\n")


def read_golden(path: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float]:
    doc = json.loads(path.read_text())
    ins = {k: decode_tensor(v) for k, v in doc["inputs"].items()}
    outs = {k: decode_tensor(v) for k, v in doc["outputs"].items()}
    return ins, outs, float(doc["tolerance"])
