"""Choose REXP4's defaults on validation sessions that the evaluation never sees.

The evaluation (``report.py``, the tests) uses seeds 0, 1, 2, …: each seed draws its own pool/test split, seed
labels and tie-breaks. Tuning uses ``VALIDATION_SEEDS`` (100, 101, 102), which draw different splits of the
same datasets, so the chosen restart period, exploration rate, learning rate, advice temperature and reward
are not fitted to the sessions they are judged on.

    python -m glance_train.active.tune [--out reports/deal_tuning.json]

Score of a configuration: DEAL's AULC averaged over datasets and validation seeds, minus the per-dataset best
single criterion's (the claim's bar). Prints the grid best first.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from dataclasses import replace
from typing import Any

import numpy as np

from glance_train.active.criteria import CRITERIA
from glance_train.active.loop import REWARDS, TASKS, PoolTask, aulc, prepare_pool, run_strategy
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
    rows = []
    for point in points:
        cfg = Rexp4Config(**{k: v for k, v in point.items() if k != "reward"})
        per = {name: float(np.mean([aulc(run_strategy(task, pools[name, seed], "deal", seed, cfg,
                                                      reward=point["reward"])) for seed in seeds]))
               for name, task in tasks.items()}
        mean = float(np.mean(list(per.values())))
        rows.append({**point, "deal": mean, "minus_bar": mean - bar, "per_dataset": per})
        print(json.dumps({**point, "deal": round(mean, 4), "minus_bar_pp": round(100 * (mean - bar), 2)}),
              flush=True)
    rows.sort(key=lambda r: -r["deal"])
    return {"seeds": list(seeds), "singles": singles, "per_dataset_best_mean": bar, "grid": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--rewards", default=",".join(GRID["reward"]), help=f"any of {', '.join(REWARDS)}")
    p.add_argument("--stage", type=int, choices=(1, 2), default=1, help="1: the grid; 2: STAGE2's points")
    p.add_argument("--one-per-round", action="store_true",
                   help="ask one label a round on every dataset (the paper's protocol), chosen point only")
    args = p.parse_args(argv)
    points = grid_points({**GRID, "reward": tuple(args.rewards.split(","))}) if args.stage == 1 else STAGE2
    tasks = None
    if args.one_per_round:
        tasks = {name: replace(task, batch=1) for name, task in TASKS.items()}
        points = [{"gamma": 0.05, "restart": r, "eta": 3.0, "advice_scale": 1.0, "reward": "iw_gain"}
                  for r in (10, 30)]
    result = tune(points, VALIDATION_SEEDS, tasks)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    for r in result["grid"][:8]:
        print({k: v for k, v in r.items() if k != "per_dataset"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
