"""``glance train keyframe``: traces → DQN per key cost λ → pick on validation → held-out test against the
baselines → checkpoint (with golden states) → export.

With ``source = "network"`` (1.1.0 on) the traces run the zoo segmentation network (glance_train.keyframe.
net_traces): a key's result is the network's output on the key, and quality is judged against ``quality`` —
"reference" (the network's full-scale output on every frame, the papers' way) or "truth" (the masks). The held-out
report gives every schedule under both. ``source = "truth-keys"`` is 1.0.0's recipe (the key result is the mask).

The experiment file's [data] names the splits (disjoint seed ranges), the longest key interval, the discount and
the key costs to try; [train] epochs are DQN episodes. The chosen λ is the one whose validation mIoU beats a fixed
interval at the same key rate by the most, among policies keying at most ``max_key_rate`` of the frames (the
60%-saved target).
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from glance_train.checkpoint import save_checkpoint  # noqa: E402
from glance_train.config import Experiment  # noqa: E402
from glance_train.curves import write_metrics  # noqa: E402
from glance_train.keyframe.baselines import fixed_rate, threshold, threshold_for_rate  # noqa: E402
from glance_train.keyframe.dqn import DqnConfig, greedy, train_dqn  # noqa: E402
from glance_train.keyframe.env import evaluate, state_vector  # noqa: E402
from glance_train.keyframe.net_traces import NetTrace, build_net_traces  # noqa: E402
from glance_train.keyframe.traces import Split, Trace, build_traces, default_cache_dir, fingerprint  # noqa: E402
from glance_train.models import config_dict, create_model, model_config  # noqa: E402
from glance_train.seeding import seed_everything  # noqa: E402


@dataclass(frozen=True)
class KeyframeData:
    train_seed: int = 1000
    train_count: int = 12
    val_seed: int = 2000
    val_count: int = 4
    test_seed: int = 3000
    test_count: int = 6
    frames: int = 64
    max_interval: int = 10
    gamma: float = 0.9
    key_costs: tuple[float, ...] = (0.03, 0.05, 0.08)
    max_key_rate: float = 0.4
    source: str = "truth-keys"
    """"network": the segmentation network's results in the traces; "truth-keys": the key result is the mask."""
    quality: str = "reference"
    """With source "network": the reward's reference, "reference" (network on every frame) or "truth"."""
    profile: str = "drift-turns"
    """Head-motion profile of every split's sequences (glance_train.keyframe.head_motion): "drift-turns" (the
    sequences of docs/schedulers.md section 4; 1.1.0's data) or "eyewear" (still / pursuit / head-turn segments)."""

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> KeyframeData:
        known = set(KeyframeData.__dataclass_fields__)
        bad = sorted(set(raw) - known)
        if bad:
            raise ValueError(f"unknown [data] keys {bad}; known: {sorted(known)}")
        return KeyframeData(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


FIXED_RATES = (1 / 2, 1 / 3, 1 / 5, 1 / 10)


def as_trace(t: NetTrace, quality: str, scale: int = 0) -> Trace:
    """A network trace as the key scheduler's episode table: key and propagation at one scale (full: 0)."""
    if quality not in ("reference", "truth"):
        raise ValueError(f"quality must be 'reference' or 'truth', got {quality!r}")
    key, warp = t.quality(quality == "truth")
    return Trace(t.name, t.deviation, warp[:, :, scale], key[:, scale])


def schedule_table(policy: torch.nn.Module, test: list[Trace], val: list[Trace], k: int, prefix: str = "test"
                   ) -> tuple[dict[str, float], dict[str, float]]:
    """The policy and the paper's baselines on one set of traces (one quality measure)."""
    rl = evaluate(test, k, greedy(policy))
    rate = rl["keyRate"]
    n = test[0].frames
    every = float(np.mean([tr.key_quality(t) for tr in test for t in range(tr.frames)]))
    # Frame 0 is a key for every scheduler; the fixed interval spreads the rest evenly: same keys per sequence.
    fixed = evaluate(test, k, fixed_rate(max((rate * n - 1) / (n - 1), 1e-6)))
    level_val = threshold_for_rate(val, k, rate)
    level_test = threshold_for_rate(test, k, rate)
    report = {
        f"{prefix}_miou": rl["miou"],
        f"{prefix}_key_rate": rate,
        f"{prefix}_compute_saved": 1 - rate,
        f"{prefix}_every_frame_miou": every,
        f"{prefix}_miou_loss_points": 100 * (every - rl["miou"]),
    }
    thr_val = evaluate(test, k, threshold(level_val))
    thr_same = evaluate(test, k, threshold(level_test))
    baselines = {
        f"{prefix}_fixed_same_rate_miou": fixed["miou"],
        f"{prefix}_fixed_same_rate_key_rate": fixed["keyRate"],
        f"{prefix}_threshold_val_tuned_miou": thr_val["miou"],
        f"{prefix}_threshold_val_tuned_key_rate": thr_val["keyRate"],
        f"{prefix}_threshold_same_rate_miou": thr_same["miou"],
        f"{prefix}_threshold_same_rate_key_rate": thr_same["keyRate"],
        "threshold_residual_level": level_val,
    }
    for r in FIXED_RATES:
        e = evaluate(test, k, fixed_rate(r))
        baselines[f"{prefix}_fixed_1_{round(1 / r)}_miou"] = e["miou"]
        baselines[f"{prefix}_fixed_1_{round(1 / r)}_key_rate"] = e["keyRate"]
    return report, baselines


def held_out_report(policy: torch.nn.Module, test: list[Trace], val: list[Trace], k: int,
                    other: tuple[str, list[Trace], list[Trace]] | None = None) -> dict[str, Any]:
    """``test``/``val`` under the training quality measure; ``other`` = (name, test, val) under the second one."""
    report, baselines = schedule_table(policy, test, val, k)
    out: dict[str, Any] = {"test": report, "baselines": baselines}
    if other is not None:
        name, o_test, o_val = other
        o_report, o_base = schedule_table(policy, o_test, o_val, k, prefix=f"test_{name}")
        out["test"] = {**report, **o_report}
        out["baselines"] = {**baselines, **{k2: v for k2, v in o_base.items() if k2.startswith("test_")}}
    return out


def golden_states(policy: torch.nn.Module, test: list[Trace], k: int, count: int = 4) -> torch.Tensor:
    tr = test[0]
    keys = [True] + [False] * (tr.frames - 1)
    return torch.from_numpy(np.stack([state_vector(tr, t, t, k, keys[:t]) for t in range(1, count + 1)]))


def plot(path: Path, runs: dict[float, list[dict[str, float]]], chosen: float) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for lam, hist in runs.items():
        w = min(20, len(hist))
        win = np.ones(w) / w
        ep = [h["episode"] for h in hist][w - 1 :]  # a trailing mean, only where the window is full
        smooth = np.convolve([h["return"] for h in hist], win, mode="valid")
        style = "-" if lam == chosen else ":"
        left.plot(ep, smooth, style, label=f"λ={lam}")
        right.plot(ep, np.convolve([h["keyRate"] for h in hist], win, mode="valid"), style)
    left.set_xlabel("episode")
    left.set_ylabel("mean reward per frame (20-episode mean)")
    left.legend()
    right.set_xlabel("episode")
    right.set_ylabel("key rate")
    fig.suptitle("keyframe DQN on synthetic traces")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _train_one(job: tuple[Experiment, Any, float, KeyframeData, list[Trace], bool]) -> tuple[dict, list]:
    exp, mcfg, lam, data, train, quiet = job
    torch.set_num_threads(1)
    seed_everything(exp.seed)
    policy = create_model(exp.model, mcfg)
    cfg = DqnConfig(
        key_cost=lam,
        gamma=data.gamma,
        episodes=exp.train.epochs,
        lr=exp.train.lr,
        batch_size=exp.train.batch_size,
        eps_episodes=max(1, exp.train.epochs * 5 // 8),
    )
    history = train_dqn(policy, train, data.max_interval, cfg, exp.seed, quiet)
    return policy.state_dict(), history


def run_keyframe(exp: Experiment, out: Path, quiet: bool, cache: Path | None = None) -> dict[str, Any]:
    # config
    data = KeyframeData.from_dict(exp.data)
    mcfg = model_config(exp.model, exp.model_config)
    k = data.max_interval
    cache = cache or default_cache_dir()
    # data: traces by the device's flow (cached)
    t0 = time.perf_counter()
    splits = {
        "train": Split(data.train_seed, data.train_count, data.frames, data.profile),
        "val": Split(data.val_seed, data.val_count, data.frames, data.profile),
        "test": Split(data.test_seed, data.test_count, data.frames, data.profile),
    }
    other: dict[str, list[Trace]] = {}
    other_name = "truth" if data.quality == "reference" else "reference"
    if data.source == "network":
        net = {name: build_net_traces(s, k, cache) for name, s in splits.items()}
        traces = {name: [as_trace(t, data.quality) for t in ts] for name, ts in net.items()}
        other = {name: [as_trace(t, other_name) for t in ts] for name, ts in net.items()}
    elif data.source == "truth-keys":
        traces = {name: build_traces(s, k, cache) for name, s in splits.items()}
    else:
        raise ValueError(f"[data] source must be 'network' or 'truth-keys', got {data.source!r}")
    trace_s = time.perf_counter() - t0
    # model and loop: one DQN per key cost, chosen on validation
    t1 = time.perf_counter()
    runs: dict[float, list[dict[str, float]]] = {}
    candidates: list[tuple[float, dict[str, float], torch.nn.Module]] = []
    jobs = [(exp, mcfg, lam, data, traces["train"], quiet) for lam in data.key_costs]
    # One process per key cost (at most two: the machine is shared); each is seeded the same way.
    with ProcessPoolExecutor(min(2, len(jobs)), mp_context=get_context("spawn")) as pool:
        trained = list(pool.map(_train_one, jobs))
    for lam, (state, history) in zip(data.key_costs, trained, strict=True):
        policy = create_model(exp.model, mcfg)
        policy.load_state_dict(state)
        policy.eval()
        runs[lam] = history
        val = evaluate(traces["val"], k, greedy(policy))
        n = traces["val"][0].frames
        same = evaluate(traces["val"], k, fixed_rate(max((val["keyRate"] * n - 1) / (n - 1), 1e-6)))
        val["gainOverFixed"] = val["miou"] - same["miou"]
        candidates.append((lam, val, policy))
        if not quiet:
            print(f"λ={lam}: validation mIoU {val['miou']:.4f} at key rate {val['keyRate']:.3f}", file=sys.stderr)
    ok = [c for c in candidates if c[1]["keyRate"] <= data.max_key_rate]
    best = max(ok, key=lambda c: c[1]["gainOverFixed"]) if ok else min(candidates, key=lambda c: c[1]["keyRate"])
    lam, val, policy = best
    train_s = time.perf_counter() - t1
    # held-out test against the baselines
    held = held_out_report(policy, traces["test"], traces["val"], k,
                           (other_name, other["test"], other["val"]) if other else None)
    held["trainSeconds"] = train_s
    dataset = {
        "name": "glance-synthetic-keyframe-traces",
        "synthetic": True,
        "fingerprint": fingerprint([t for s in traces.values() for t in s]),
        "splits": {n: {"seed": s.seed, "count": s.count, "frames": s.frames} for n, s in splits.items()},
        "headMotion": data.profile,
        "maxInterval": k,
        "keyQuality": "ground-truth masks (the propagation loss is what is measured)" if data.source != "network"
        else f"the zoo segmentation network's output on the key; quality against the {data.quality}"
        + (" (the network's full-scale output on every frame)" if data.quality == "reference" else " masks"),
    }
    validation = {f"lambda_{c[0]}": c[1] for c in candidates}
    meta = {
        "model": exp.model,
        "model_config": config_dict(mcfg),
        "experiment": exp.to_dict(),
        "dataset": dataset,
        "metrics": {"chosen_key_cost": lam, **validation},
        "epoch": exp.train.epochs,
    }
    save_checkpoint(out / "best.pt", policy, meta, held_out=held, golden_inputs=golden_states(policy, traces["test"], k))
    plot(out / "curves.png", runs, lam)
    record = {"chosenKeyCost": lam, "validation": validation, **held, "dataset": dataset,
              "traceSeconds": trace_s, "trainSeconds": train_s, "history": {str(a): h for a, h in runs.items()}}
    write_metrics(out / "metrics.json", record)
    return record


def main(exp: Experiment, out: Path, version: str, export: bool, quiet: bool) -> int:
    torch.set_num_threads(1)  # a tiny MLP; the machine is shared
    record = run_keyframe(exp, out, quiet)
    print(f"run: {out}")
    for key, value in {**record["test"], **record["baselines"]}.items():
        print(f"  {key} = {value:.4g}")
    if export:
        from glance_train.export import export_after_training, export_checkpoint

        return export_after_training(
            lambda: export_checkpoint(out / "best.pt", out / "model", version=version), out / "model"
        )
    return 0
