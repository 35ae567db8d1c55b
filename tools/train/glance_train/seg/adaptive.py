"""Train, judge and export the adaptive-resolution policy for the segmentation network.

    /usr/bin/python3 -m glance_train.seg.adaptive --segmentation RUN/best.pt \\
        --out models/zoo/resolution-policy/1.0.0 --traces tools/train/reports/segmentation/heldout-traces.npz

    /usr/bin/python3 -m glance_train.seg.adaptive --net-traces reference \\
        --out models/zoo/resolution-policy/1.1.0 --report tools/train/reports/resolution-policy-1.1.0.json

The second form (1.1.0) trains on the key scheduler's network traces (glance_train.keyframe.net_traces: the zoo
network in onnxruntime-node, reuse warps the last map by the device's flow, costs are onnxruntime times), with
the reward's quality against the network's full-scale output on every frame ("reference") or the masks
("truth"); it is judged under both.

Steps: render training and held-out sequences (disjoint seeds) → trace them with the segmentation network at
every scale → measure its PyTorch time per scale → train one policy per λ₀ and keep the cheapest whose
quality on *validation* sequences (a third seed) is within 1 point of full scale → judge it on the held-out traces against
every fixed scale → export ONNX (state → action logits) with manifest, golden outputs and parity.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from glance_train.checkpoint import load_checkpoint, model_from_checkpoint
from glance_train.export import TOLERANCE, export_onnx, parity_check
from glance_train.golden import write_golden
from glance_train.manifest import build_manifest
from glance_train.seg.compare import SCALES
from glance_train.seg.resolution_policy import ACTIONS, DIFF_SCALE, FEATURES, TrainConfig, judge, state_of, train_policy
from glance_train.seg.sequences import SequenceConfig
from glance_train.seg.traces import MAX_AGE, load_traces, measure_costs, save_traces, trace_sequences

TRAIN = SequenceConfig(count=16, seed=5100)
VALIDATION = SequenceConfig(count=8, seed=5150)
HELD_OUT = SequenceConfig(count=8, seed=5200)
LAMBDAS = (0.02, 0.03, 0.04, 0.05)
TOLERANCE_POINTS = 0.01



def io_spec() -> dict[str, Any]:
    return {
        "task": "resolution-policy",
        "description": "per scene frame: segment at scale 1, 3/4, 1/2, 1/4, or reuse the last label map",
        "inputs": [{"name": "state", "dtype": "float32", "shape": ["batch", len(FEATURES)], "layout": "NC",
                    "meaning": "features in this order: " + ", ".join(FEATURES)
                    + f"; diffs are mean |grey 40x30 difference| (grey/255) x {DIFF_SCALE:g}, key_age = frames / {MAX_AGE}"}],
        "outputs": [{"name": "logits", "dtype": "float32", "shape": ["batch", len(ACTIONS)], "layout": "NC",
                     "meaning": f"action scores; argmax, with reuse masked when there is no map or it is older "
                     f"than {MAX_AGE} frames"}],
        "labels": {"logits": list(ACTIONS)},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m glance_train.seg.adaptive", description=__doc__.splitlines()[0])
    p.add_argument("--segmentation", type=Path, help="best.pt of the shipped segmentation run (1.0.0 recipe)")
    p.add_argument("--net-traces", choices=("reference", "truth"),
                   help="train on the key scheduler's network traces, reward quality against this (1.1.0 recipe)")
    p.add_argument("--lambdas", type=float, nargs="*", help="key costs λ₀ to sweep")
    p.add_argument("--out", type=Path, help="export the policy here (models/zoo/resolution-policy/<version>)")
    p.add_argument("--traces", type=Path, help="save the held-out traces here (for the test)")
    p.add_argument("--report", type=Path, help="write the judgement JSON here")
    p.add_argument("--version", help="version of the exported policy (default 1.0.0; 1.1.0 with --net-traces)")
    p.add_argument("--trace-cache", type=Path, help="keep/reuse the traces of both splits in this directory")
    args = p.parse_args(argv)
    if args.net_traces:
        from glance_train.seg.adaptive_flow import run_on_net_traces

        return run_on_net_traces(args.net_traces, args.out, args.version or "1.1.0", args.report, args.traces,
                                 tuple(args.lambdas) if args.lambdas else None)
    args.version = args.version or "1.0.0"
    if args.segmentation is None or not args.segmentation.exists():
        print(f"adaptive: {args.segmentation} does not exist", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    ckpt = load_checkpoint(args.segmentation)
    seg = model_from_checkpoint(ckpt)
    width, height = ckpt["model_config"]["width"], ckpt["model_config"]["height"]
    costs_ms = measure_costs(seg, width, height)
    rel = costs_ms / costs_ms[0]
    print(f"cost per frame (PyTorch, 1 thread) by scale {SCALES}: {np.round(costs_ms, 2)} ms", file=sys.stderr)
    train, val, held = _traces(seg, args.trace_cache, costs_ms)
    print(f"traced {len(train)} + {len(val)} + {len(held)} sequences in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    sweep = []
    for lam in LAMBDAS:
        policy = train_policy(train, rel, TrainConfig(lam=lam))
        j = judge(policy, val, rel, 1.0)
        full = j["fixed"]["scale1"]["quality"]  # type: ignore[index]
        ok = j["policy"]["quality"] >= full - TOLERANCE_POINTS  # type: ignore[index]
        sweep.append({"lambda": lam, "validation": j, "withinOnePoint": bool(ok), "policy": policy})
        print(f"λ₀={lam}: validation quality {j['policy']['quality']:.4f} (full {full:.4f}), "  # type: ignore[index]
              f"cost {j['policy']['cost']:.3f}", file=sys.stderr)
    eligible = [s for s in sweep if s["withinOnePoint"]] or sweep[:1]
    chosen = min(eligible, key=lambda s: s["validation"]["policy"]["cost"])  # type: ignore[index]
    policy = chosen["policy"]
    report = {
        "lambda": chosen["lambda"],
        "costsMs": costs_ms.tolist(),
        "scales": list(SCALES),
        "train": {"sequences": TRAIN.count, "seed": TRAIN.seed, "frames": TRAIN.frames, "fps": TRAIN.fps},
        "validation": {"sequences": VALIDATION.count, "seed": VALIDATION.seed},
        "heldOut": {"sequences": HELD_OUT.count, "seed": HELD_OUT.seed,
                    "battery1": judge(policy, held, rel, 1.0), "battery0.3": judge(policy, held, rel, 0.3)},
        "sweep": [{k: v for k, v in s.items() if k != "policy"} for s in sweep],
        "segmentation": {"run": str(args.segmentation), "dataset": ckpt["dataset"]["fingerprint"]},
        "seconds": time.perf_counter() - t0,
    }
    print(json.dumps(report["heldOut"], indent=1), file=sys.stderr)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2) + "\n")
    if args.traces:
        args.traces.parent.mkdir(parents=True, exist_ok=True)
        save_traces(str(args.traces), held, costs_ms)
    if args.out:
        export_policy(policy, held, args.out, args.version, report)
    return 0


def _traces(seg: torch.nn.Module, cache: Path | None, costs_ms: np.ndarray
            ) -> tuple[list[Any], list[Any], list[Any]]:
    """Every split's traces, from ``cache`` when it holds them (made by the same checkpoint: the caller's job)."""
    out = []
    for name, cfg in (("train", TRAIN), ("validation", VALIDATION), ("heldout", HELD_OUT)):
        path = cache / f"{name}-{cfg.seed}-{cfg.count}.npz" if cache else None
        if path is not None and path.exists():
            out.append(load_traces(str(path))[0])
            continue
        traces = trace_sequences(seg, cfg)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_traces(str(path), traces, costs_ms)
        out.append(traces)
    return out[0], out[1], out[2]


def export_policy(policy: torch.nn.Module, traces: list[Any], out: Path, version: str, report: dict[str, Any],
                  spec: dict[str, Any] | None = None) -> None:
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        states = torch.from_numpy(np.stack([state_of(traces[0], t, t - 1, 0, 0.8) for t in range(1, 4)]))
        export_onnx(policy, states, stage / "model.onnx", "state", ("logits",))
        with torch.no_grad():
            write_golden(stage / "golden.json", {"state": states}, {"logits": policy(states)}, TOLERANCE)
        spec = spec or io_spec()
        manifest = build_manifest(
            name="resolution-policy", version=version, task="resolution-policy", spec=spec, model_dir=stage,
            metrics={"heldOut": report["heldOut"], "lambda": report["lambda"], "costsMs": report["costsMs"]},
            dataset={"name": "glance-synth-scene-sequences", "fingerprint": report["segmentation"]["dataset"],
                     "synthetic": True, "train": report["train"],
                     "heldOut": {k: report["heldOut"][k] for k in ("sequences", "seed")}},
            training={"algorithm": "REINFORCE", "lambdaSweep": [s["lambda"] for s in report["sweep"]],
                      "parameters": sum(p.numel() for p in policy.parameters())},
            description=spec["description"],
        )
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        parity_check(stage, TOLERANCE)
        if out.exists():
            shutil.rmtree(out)
        stage.chmod(0o755)
        stage.rename(out)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
