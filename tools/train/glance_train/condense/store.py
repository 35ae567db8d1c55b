"""The condensed set as ONE file a phone can receive: a compressed ``.npz`` with three arrays.

- ``x``: float32 samples in the source dataset's own units (images in [0, 1]-scale pixel units, tabular in the
  raw feature units), shape ``N × feature_shape``;
- ``y``: int64 class indices;
- ``meta``: UTF-8 JSON bytes (uint8 array), so the file loads with ``allow_pickle=False``:
  ``schema`` (``glance.condensed/1``; readers check it), ``dataset`` {name, fingerprint, source, records},
  ``classes``, ``kind``, ``feature_shape``, ``normalisation`` {mean, std} (what a learner should apply),
  ``method``, ``ipc``, ``config``, ``seconds``, and optionally ``evaluation`` and ``privacy``.

The file never holds a real record: only synthetic samples and aggregate statistics.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = "glance.condensed/1"


@dataclass(frozen=True)
class CondensedFile:
    x: np.ndarray
    y: np.ndarray
    meta: dict[str, Any]


def save_condensed(path: Path, x: np.ndarray, y: np.ndarray, meta: dict[str, Any]) -> int:
    """Write atomically (a phone may be pulling the previous version); returns the size in bytes."""
    record = {"schema": SCHEMA, **meta}
    blob = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, x=x.astype(np.float32), y=y.astype(np.int64), meta=blob)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)
    return len(buf.getvalue())


def load_condensed(path: Path) -> CondensedFile:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes().decode())
        if meta.get("schema") != SCHEMA:
            raise ValueError(f"{path}: schema {meta.get('schema')!r}, expected {SCHEMA!r}")
        return CondensedFile(data["x"], data["y"], meta)
