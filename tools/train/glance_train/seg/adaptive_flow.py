"""Adaptive resolution on the key scheduler's network traces (resolution-policy 1.1.0): reuse warps the last map
by the device's flow, costs are onnxruntime times per scale, and the held-out judgement sets the policy against
every fixed scale *and* against fixed key intervals (segment at full scale every n-th frame, reuse by flow in
between) at the same compute — the baseline the 1.0.0 policy did not beat.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from glance_train.keyframe.net_traces import NetTrace, build_net_traces, save_npz
from glance_train.keyframe.traces import Split, default_cache_dir
from glance_train.seg.flow_traces import from_net_trace, measured_costs
from glance_train.seg.resolution_policy import (
    REUSE,
    ResolutionPolicy,
    Rollout,
    TrainConfig,
    judge,
    rollout,
    step,
    train_policy,
)
from glance_train.seg.traces import MAX_AGE, Trace

TRAIN = Split(1000, 10, 96)
VALIDATION = Split(2000, 6, 96)
HELD_OUT = Split(3000, 8, 96)
MAX_INTERVAL = 10
LAMBDAS = (0.05, 0.1, 0.2, 0.4)
ITERATIONS = 400
TOLERANCE_POINTS = 0.01


def fixed_interval(tr: Trace, rel_cost: np.ndarray, rate: float, scale: int = 0) -> Rollout:
    """Segment at ``scale`` on frames spread evenly at ``rate`` (frame 0 always; never more than MAX_AGE apart),
    reuse by flow in between: a fixed key interval."""
    key, key_scale = -1, 0
    qs, cs, acts = [], [], []
    for t in range(len(tr.quality)):
        due = t == 0 or math.floor(t * rate + 1e-9) > math.floor((t - 1) * rate + 1e-9) or t - key > MAX_AGE
        a = scale if due else REUSE
        q, key, key_scale = step(tr, t, key, key_scale, a)
        qs.append(q)
        cs.append(0.0 if a == REUSE else float(rel_cost[a]))
        acts.append(a)
    return Rollout(float(np.mean(qs)), float(np.mean(cs)), np.array(acts))


def mean_rollouts(rs: list[Rollout]) -> dict[str, float]:
    return {"quality": float(np.mean([r.quality for r in rs])), "cost": float(np.mean([r.cost for r in rs]))}


def same_compute_interval(traces: list[Trace], rel: np.ndarray, cost: float) -> dict[str, float]:
    """The full-scale fixed interval whose compute matches ``cost`` (bisection on the rate)."""
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = (lo + hi) / 2
        if mean_rollouts([fixed_interval(tr, rel, mid) for tr in traces])["cost"] > cost:
            hi = mid
        else:
            lo = mid
    return {"rate": lo, **mean_rollouts([fixed_interval(tr, rel, lo) for tr in traces])}


def full_judgement(policy: ResolutionPolicy, traces: list[Trace], rel: np.ndarray, battery: float
                   ) -> dict[str, Any]:
    j = judge(policy, traces, rel, battery)
    cost = j["policy"]["cost"]  # type: ignore[index]
    j["fixedIntervals"] = {f"1/{n}": mean_rollouts([fixed_interval(tr, rel, 1 / n) for tr in traces])
                           for n in (1, 2, 3, 5, 8)}
    j["fixedIntervalSameCompute"] = same_compute_interval(traces, rel, cost)
    return j


def _train(job: tuple[list[Trace], np.ndarray, TrainConfig]) -> ResolutionPolicy:
    torch.set_num_threads(1)
    return train_policy(*job)


def run_on_net_traces(quality: str, out: Path | None, version: str, report_path: Path | None,
                      traces_path: Path | None, lambdas: tuple[float, ...] | None) -> int:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    cache = default_cache_dir()
    net = {name: build_net_traces(split, MAX_INTERVAL, cache)
           for name, split in (("train", TRAIN), ("val", VALIDATION), ("test", HELD_OUT))}
    costs_ms = measured_costs([t for ts in net.values() for t in ts])
    rel = costs_ms / costs_ms[0]
    print(f"onnxruntime ms by scale (median): {np.round(costs_ms, 2)}", file=sys.stderr)
    other = "truth" if quality == "reference" else "reference"
    tr = {name: [from_net_trace(t, quality) for t in ts] for name, ts in net.items()}
    tr_other = {name: [from_net_trace(t, other) for t in ts] for name, ts in net.items()}
    sweep = []
    lams = lambdas or LAMBDAS
    cfgs = [TrainConfig(lam=lam, iterations=ITERATIONS) for lam in lams]
    # One process per λ₀, at most two (the machine is shared), each on one thread.
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        policies = list(pool.map(_train, [(tr["train"], rel, c) for c in cfgs]))
    truth_val_traces = tr_other["val"] if quality == "reference" else tr["val"]
    for lam, policy in zip(lams, policies, strict=True):
        truth_val = full_judgement(policy, truth_val_traces, rel, 1.0)
        full = truth_val["fixed"]["scale1"]["quality"]
        ok = truth_val["policy"]["quality"] >= full - TOLERANCE_POINTS
        gain = truth_val["policy"]["quality"] - truth_val["fixedIntervalSameCompute"]["quality"]
        sweep.append({"lambda": lam, "validationTruth": truth_val, "withinOnePoint": bool(ok),
                      "gainOverFixedInterval": gain, "policy": policy})
        print(f"λ₀={lam}: validation mIoU (truth) {truth_val['policy']['quality']:.4f} (full {full:.4f}), "
              f"cost {truth_val['policy']['cost']:.3f}, gain over the fixed interval at that cost "
              f"{100 * gain:+.2f} points", file=sys.stderr)
    # The claims are judged against the truth (within a point of every frame at full scale; better than a fixed
    # interval at the same compute), so λ₀ is chosen that way on validation: among policies within a point, the
    # largest gain over the fixed interval at the same compute.
    eligible = [s for s in sweep if s["withinOnePoint"]] or sweep[:1]
    chosen = max(eligible, key=lambda s: s["gainOverFixedInterval"])
    policy = chosen["policy"]
    held = {
        "sequences": HELD_OUT.count, "seed": HELD_OUT.seed,
        quality: {"battery1": full_judgement(policy, tr["test"], rel, 1.0),
                  "battery0.3": full_judgement(policy, tr["test"], rel, 0.3)},
        other: {"battery1": full_judgement(policy, tr_other["test"], rel, 1.0)},
    }
    report: dict[str, Any] = {
        "lambda": chosen["lambda"],
        "rewardQuality": quality,
        "costsMs": costs_ms.tolist(),
        "costSource": "onnxruntime-node wall time of one run, batch 1, one thread, median (net-traces-cli.ts)",
        "reuse": f"warp the last map by the device's flow (denseFlow + warpLabels), at most {MAX_AGE} frames",
        "train": {"sequences": TRAIN.count, "seed": TRAIN.seed, "frames": TRAIN.frames, "fps": 30},
        "validation": {"sequences": VALIDATION.count, "seed": VALIDATION.seed},
        "heldOut": held,
        "sweep": [{k: v for k, v in s.items() if k != "policy"} for s in sweep],
        "segmentation": {"model": _network(net["test"]), "dataset": _fingerprint(net)},
        "seconds": time.perf_counter() - t0,
    }
    print(json.dumps({k: held[k] for k in (quality, other)}, indent=1)[:4000], file=sys.stderr)
    if report_path:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, indent=2) + "\n")
    if traces_path:
        traces_path.parent.mkdir(parents=True, exist_ok=True)
        save_npz(traces_path, net["test"])
    if out:
        from glance_train.seg.adaptive import export_policy, io_spec

        spec = io_spec()
        spec["description"] = ("per scene frame: segment at scale 1, 3/4, 1/2, 1/4, or reuse the last label map "
                               "warped by dense flow to this frame")
        export_policy(policy, tr["test"], out, version, report, spec)
    return 0


def _network(traces: list[NetTrace]) -> str:
    from glance_train.keyframe.net_traces import network_sha

    return f"segmentation sha256 {network_sha()}… ({len(traces)} held-out sequences)"


def _fingerprint(net: dict[str, list[NetTrace]]) -> str:
    import hashlib

    h = hashlib.sha256()
    for ts in net.values():
        for t in ts:
            h.update(t.name.encode())
            h.update(np.ascontiguousarray(t.warp_ref).tobytes())
            h.update(np.ascontiguousarray(t.warp_truth).tobytes())
    return f"sha256:{h.hexdigest()}"

