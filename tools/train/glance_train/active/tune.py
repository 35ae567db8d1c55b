"""Choose REXP4's defaults on validation sessions that the evaluation never sees.

The evaluation (``report.py``, the tests) uses seeds 0, 1, 2, …: each seed draws its own pool/test split, seed
labels and tie-breaks. Tuning uses ``VALIDATION_SEEDS`` (100, 101, 102), which draw different splits of the
same datasets, so the chosen restart period, exploration rate, learning rate, advice temperature and reward
are not fitted to the sessions they are judged on.

    python -m glance_train.active.tune [--out reports/deal_tuning.json] [--batch 1] [--seeds 100-109]
                                       [--point gamma=0.05,restart=10,eta=3,advice_scale=1,reward=iw_gain]

``--batch`` asks that many labels a round on every dataset (budgets unchanged); ``--seeds`` scores on other
validation seeds (never 0–4); ``--point`` (repeatable) scores only the given points instead of the grid.

Score of a configuration: DEAL's AULC averaged over datasets and validation seeds, minus the per-dataset best
single criterion's (the claim's bar). Prints the grid best first.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np

from glance_train.active.criteria import CRITERIA
from glance_train.active.loop import REWARDS, TASKS, PoolTask, aulc, prepare_pool, run_strategy, with_batch
from glance_train.active.rexp4 import Rexp4Config

VALIDATION_SEEDS = (100, 101, 102)
GRID: dict[str, tuple[Any, ...]] = {
    "gamma": (0.05, 0.15, 0.3),
    "restart": (10, 30),
    "eta": (3.0, 10.0),
    "advice_scale": (1.0, 4.0),
    "reward": ("iw_gain",),
}
"""The full grid (24 points; about 25 CPU-minutes). ``--stage 2`` runs the points measured after the first
eight of it had fixed Δ_T = 10 and η = 3 (see docs/toolchain-mat-dc-deal.md)."""
STAGE2: list[dict[str, Any]] = [
    {"gamma": g, "restart": 10, "eta": 3.0, "advice_scale": a, "reward": "iw_gain"}
    for g in (0.15, 0.3) for a in (1.0, 4.0)
] + [{"gamma": 0.05, "restart": 10, "eta": 3.0, "advice_scale": 1.0, "reward": r} for r in ("change", "iw_acc")]


def grid_points(grid: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]


def tune(points: list[dict[str, Any]], seeds: tuple[int, ...],
         tasks: dict[str, PoolTask] | None = None) -> dict[str, Any]:
    tasks = tasks or TASKS
    pools = {(name, seed): prepare_pool(task, seed) for name, task in tasks.items() for seed in seeds}
    singles = {name: {s: float(np.mean([aulc(run_strategy(task, pools[name, seed], s, seed)) for seed in seeds]))
                      for s in CRITERIA} for name, task in tasks.items()}
    bar = float(np.mean([max(v.values()) for v in singles.values()]))
    single_mean = {s: float(np.mean([v[s] for v in singles.values()])) for s in CRITERIA}
    best_single = max(single_mean, key=single_mean.__getitem__)
    rows = []
    for point in points:
        cfg = Rexp4Config(**{k: v for k, v in point.items() if k != "reward"})
        per = {name: float(np.mean([aulc(run_strategy(task, pools[name, seed], "deal", seed, cfg,
                                                      reward=point["reward"])) for seed in seeds]))
               for name, task in tasks.items()}
        mean = float(np.mean(list(per.values())))
        above_random = {name: per[name] > singles[name]["random"] for name in tasks}
        rows.append({**point, "deal": mean, "minus_bar": mean - bar,
                     "minus_best_single": mean - single_mean[best_single], "above_random": above_random,
                     "per_dataset": per})
        print(json.dumps({**point, "deal": round(mean, 4), "minus_bar_pp": round(100 * (mean - bar), 2)}),
              flush=True)
    rows.sort(key=lambda r: -r["deal"])
    return {"seeds": list(seeds), "batch": {name: t.batch for name, t in tasks.items()}, "singles": singles,
            "single_mean": single_mean, "best_single": best_single, "per_dataset_best_mean": bar,
            "grid": rows}


def parse_point(text: str) -> dict[str, Any]:
    """``gamma=0.05,restart=10,...`` → a grid point; unspecified keys take ``Rexp4Config``'s defaults."""
    defaults = Rexp4Config()
    point: dict[str, Any] = {**defaults.__dict__, "reward": "iw_gain"}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep or key not in point:
            raise ValueError(f"bad point item {item!r}; expected key=value with key in {sorted(point)}")
        try:
            point[key] = value if key == "reward" else type(point[key])(float(value))
        except ValueError:
            raise ValueError(f"bad point item {item!r}: {key} must be a number") from None
    if point["reward"] not in REWARDS:
        raise ValueError(f"unknown reward {point['reward']!r}; known: {', '.join(REWARDS)}")
    return point


def parse_seeds(text: str) -> tuple[int, ...]:
    first, sep, last = text.partition("-")
    lo, hi = int(first), int(last if sep else first)
    if not 0 <= lo <= hi:
        raise ValueError(f"seeds must be first-last with 0 <= first <= last, got {text!r}")
    return tuple(range(lo, hi + 1))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--rewards", default=",".join(GRID["reward"]), help=f"any of {', '.join(REWARDS)}")
    p.add_argument("--stage", type=int, choices=(1, 2), default=1, help="1: the grid; 2: STAGE2's points")
    p.add_argument("--batch", type=int, default=None, help="labels a round, every dataset (default: TASKS')")
    p.add_argument("--seeds", default=None, help="first-last validation seeds (default 100-102)")
    p.add_argument("--point", action="append", default=[], help="score only this point (key=value,...)")
    args = p.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds) if args.seeds else VALIDATION_SEEDS
        tasks = with_batch(TASKS, args.batch)
        points = [parse_point(t) for t in args.point]
    except ValueError as e:
        p.error(str(e))
    if min(seeds) < 100:
        p.error(f"--seeds {args.seeds!r}: seeds below 100 are the evaluation's; tune on validation seeds")
    if not points and args.stage == 1:
        points = grid_points({**GRID, "reward": tuple(args.rewards.split(","))})
    elif not points:
        points = STAGE2
    result = tune(points, seeds, tasks)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    for r in result["grid"][:8]:
        print({k: v for k, v in r.items() if k != "per_dataset"})
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
