"""Where DEAL's AULC goes, relative to margin sampling: a decomposition on validation sessions.

DEAL stays below the best single criterion (``reports/deal.md``). Each step below removes one cause, on the
same sessions (pool/test splits, seed labels) as margin sampling's top-k:

1. ``margin``: the single criterion, top-``batch`` each round (the bar); ``random`` beside it.
2. ``fixed_margin``: DEAL's query distribution with all weight on margin from the first round and no
   learning (η = 0, no restart): what DEAL would score if it knew the best expert; the gap to 1 is the price
   of *drawing* from p (advice ∝ exp(−rank/τ), γ/K exploration) instead of taking the top items.
3. ``fixed_uniform``: uniform weights, no learning: the plain mixture of the six criteria (DEAL learning
   nothing).
4. ``oracle``: DEAL learning from the *test-set* accuracy gain of each round (an exact reward no real
   session has), at the defaults and at a large η without restarts: the price of learning the weights from
   bandit feedback even when the reward is exact.
5. ``deal``: DEAL with the paper's reward (importance-weighted accuracy gain) at the defaults.

    python -m glance_train.active.diagnose [--seeds 100-109] [--batch 1] [--out reports/deal_diagnosis.json]

``--batch`` asks that many labels a round on every dataset (budgets unchanged): more, smaller rounds.

Validation seeds by default (``tune.VALIDATION_SEEDS``' range), never the evaluated 0–4.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from glance_train.active.loop import TASKS, PoolTask, aulc, prepare_pool, run_strategy, with_batch
from glance_train.active.rexp4 import Rexp4Config

DEFAULT = Rexp4Config()
FROZEN = replace(DEFAULT, eta=0.0, restart=0)
EXPERTS = ("uncertainty", "margin", "entropy", "qbc", "density", "random")
STEPS: dict[str, dict[str, Any]] = {
    "margin": {"strategy": "margin"},
    "random": {"strategy": "random"},
    "fixed_margin": {"strategy": "deal", "bandit": FROZEN, "weights": {"margin": 1.0}},
    "fixed_uniform": {"strategy": "deal", "bandit": FROZEN, "weights": dict.fromkeys(EXPERTS, 1.0)},
    "oracle": {"strategy": "deal", "bandit": DEFAULT, "reward": "oracle"},
    "oracle_eta30_no_restart": {"strategy": "deal", "bandit": replace(DEFAULT, eta=30.0, restart=0),
                                "reward": "oracle"},
    "deal": {"strategy": "deal", "bandit": DEFAULT, "reward": "iw_gain"},
}


def diagnose(seeds: list[int], tasks: dict[str, PoolTask] | None = None) -> dict[str, Any]:
    tasks = tasks or TASKS
    per: dict[str, dict[str, float]] = {step: {} for step in STEPS}
    for name, task in tasks.items():
        pools = {seed: prepare_pool(task, seed) for seed in seeds}
        for step, kw in STEPS.items():
            areas = [aulc(run_strategy(task, pools[seed], kw["strategy"], seed, kw.get("bandit"),
                                       kw.get("reward", "iw_gain"), kw.get("weights"))) for seed in seeds]
            per[step][name] = float(np.mean(areas))
            print(json.dumps({"step": step, "dataset": name, "aulc": round(per[step][name], 4)}), flush=True)
    mean = {step: float(np.mean(list(v.values()))) for step, v in per.items()}
    return {"seeds": seeds, "batch": {name: t.batch for name, t in tasks.items()}, "bandit": DEFAULT.__dict__,
            "per_dataset": per, "mean": mean,
            "minus_margin_pp": {s: round(100 * (m - mean["margin"]), 2) for s, m in mean.items()}}


def markdown(result: dict[str, Any]) -> str:
    per, mean = result["per_dataset"], result["mean"]
    names = list(next(iter(per.values())))
    batch = result.get("batch")
    rounds = ", ".join(f"{n} {b}" for n, b in batch.items()) if batch else ""
    per_round = f"; labels a round: {rounds}" if rounds else ""
    lines = ["## Where DEAL's AULC goes (seeds "
             f"{result['seeds'][0]}–{result['seeds'][-1]}{per_round})", "",
             "| step | " + " | ".join(names) + " | mean | − margin (pp) |",
             "|---|" + "---|" * (len(names) + 2)]
    for step, row in per.items():
        lines.append(f"| {step} | " + " | ".join(f"{row[n]:.4f}" for n in names)
                     + f" | {mean[step]:.4f} | {result['minus_margin_pp'][step]:+.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="100-109", help="first-last (inclusive)")
    p.add_argument("--out", type=Path, default=None, help="JSON; a .md beside it")
    p.add_argument("--batch", type=int, default=None, help="labels a round, every dataset (default: TASKS')")
    args = p.parse_args(argv)
    if args.batch is not None and args.batch < 1:
        p.error(f"--batch must be at least 1, got {args.batch}")
    try:
        first, last = (int(v) for v in args.seeds.split("-"))
    except ValueError:
        p.error(f"--seeds must be first-last, got {args.seeds!r}")
    if not 0 <= first <= last:
        p.error(f"--seeds must be first-last with 0 <= first <= last, got {args.seeds!r}")
    result = diagnose(list(range(first, last + 1)), with_batch(TASKS, args.batch))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
