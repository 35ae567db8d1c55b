"""Latency of a zoo model in PyTorch, for the onnxruntime-node / PyTorch ratio in ``glance bench``.

    /usr/bin/python3 -m glance_train.bench_torch --manifest models/zoo/pupil/1.0.0/manifest.json --threads 1

The model is rebuilt from the manifest's recorded family and config with fresh weights: the zoo ships ONNX,
not checkpoints, and a CNN's latency does not depend on its weights' values. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from glance_train.models import create_model


def measure(
    manifest: dict[str, Any], batch: int, threads: int, runs: int, warmup: int = 10
) -> dict[str, float]:
    torch.set_num_threads(threads)
    model = create_model(str(manifest["name"]), manifest["provenance"]["modelConfig"]).eval()
    spec = manifest["inputs"][0]
    size = spec.get("normalisation", {}).get("resize", {})
    shape = [int(d) if not isinstance(d, str) else int(size.get(d, batch)) for d in spec["shape"]]
    x = torch.rand(*shape)
    times = []
    with torch.inference_mode():
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            model(x)
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
    a = np.array(times)
    p50, p99 = (float(np.percentile(a, q)) for q in (50, 99))
    return {"p50_ms": p50, "p99_ms": p99, "runs": runs, "batch": batch, "threads": threads}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_torch")
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=200)
    args = p.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    print(json.dumps(measure(manifest, args.batch, args.threads, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
