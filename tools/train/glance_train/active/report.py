"""DEAL benchmark: learning curves of DEAL, the stationary EXP4 ensemble and every single criterion.

``python -m glance_train.active.report [--out DIR] [--seeds N] [--quick]`` writes ``deal.json``,
``deal_<dataset>.png`` (mean learning curves) and ``deal.md`` (AULC table) to DIR.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from glance_train.active.criteria import CRITERIA  # noqa: E402
from glance_train.active.loop import TASKS, PoolTask, aulc, prepare_pool, run_strategy  # noqa: E402
from glance_train.active.rexp4 import Rexp4Config  # noqa: E402

REPORTS = Path(__file__).resolve().parents[2] / "reports"
SINGLES = tuple(CRITERIA)


@dataclass(frozen=True)
class DealBench:
    tasks: dict[str, PoolTask] = field(default_factory=lambda: dict(TASKS))
    seeds: int = 5
    bandit: Rexp4Config = field(default_factory=Rexp4Config)
    ensembles: tuple[str, ...] = ("deal", "exp4")
    reward: str = "iw_gain"
    singles: tuple[str, ...] = SINGLES
    """Single criteria to run (all of them for the report; () when only the ensembles are re-run)."""


def run_bench(bench: DealBench) -> dict[str, Any]:
    strategies = (*bench.singles, *bench.ensembles)
    config = {"seeds": bench.seeds, "bandit": asdict(bench.bandit), "reward": bench.reward,
              "tasks": {k: asdict(v) for k, v in bench.tasks.items()}}
    out: dict[str, Any] = {"config": config, "datasets": {}}
    for name, task in bench.tasks.items():
        runs: dict[str, list[Any]] = {s: [] for s in strategies}
        for seed in range(bench.seeds):
            data = prepare_pool(task, seed)
            for strategy in strategies:
                runs[strategy].append(run_strategy(task, data, strategy, seed, bench.bandit, bench.reward))
        out["datasets"][name] = {s: _curve_summary(cs) for s, cs in runs.items()}
    return summarise(out) if set(SINGLES) <= set(strategies) and "deal" in strategies else out


def _curve_summary(curves: list[Any]) -> dict[str, Any]:
    areas = [aulc(c) for c in curves]
    return {"aulc": float(np.mean(areas)), "aulc_std": float(np.std(areas)), "aulc_per_seed": areas,
            "labels": curves[0].labels,
            "accuracy": np.mean([c.accuracy for c in curves], axis=0).tolist(),
            "weights_seed0": curves[0].weights}


def summarise(out: dict[str, Any]) -> dict[str, Any]:
    ds = out["datasets"]
    strategies = list(next(iter(ds.values())))
    mean = {s: float(np.mean([ds[d][s]["aulc"] for d in ds])) for s in strategies}
    singles = {s: v for s, v in mean.items() if s in SINGLES}
    best = max(singles, key=singles.__getitem__)
    oracle = float(np.mean([max(ds[d][s]["aulc"] for s in SINGLES) for d in ds]))
    out["summary"] = {
        "mean_aulc": mean,
        "best_single": best,
        "deal_minus_best_single": mean["deal"] - singles[best],
        "deal_minus_per_dataset_best": mean["deal"] - oracle,
        "deal_beats_random": {d: ds[d]["deal"]["aulc"] > ds[d]["random"]["aulc"] for d in ds},
        "deal_rank_among_singles": {
            d: 1 + sum(ds[d][s]["aulc"] > ds[d]["deal"]["aulc"] for s in SINGLES) for d in ds},
    }
    return out


def write(result: dict[str, Any], out_dir: Path) -> tuple[str, list[dict[str, Any]]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "deal.json").write_text(json.dumps(result, indent=1) + "\n")
    for name, per in result["datasets"].items():
        fig, ax = plt.subplots(figsize=(5.2, 3.6))
        for s, r in per.items():
            style: dict[str, Any] = {"lw": 1.2, "ls": "--" if s == "exp4" else "-"}
            if s == "deal":
                style = {"lw": 2.4, "color": "black"}
            ax.plot(r["labels"], r["accuracy"], label=f"{s} ({r['aulc']:.3f})", **style)
        ax.set_title(f"{name}: accuracy vs labels (legend: AULC)")
        ax.set_xlabel("labels")
        ax.set_ylabel("held-out accuracy")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out_dir / f"deal_{name}.png", dpi=80)
        plt.close(fig)
    return _markdown(result), _metrics(result)


def _markdown(result: dict[str, Any]) -> str:
    ds = result["datasets"]
    strategies = list(next(iter(ds.values())))
    s = result["summary"]
    lines = ["## DEAL: dynamic ensemble active learning", "",
             f"AULC (mean held-out accuracy over the labelling budget), mean of {result['config']['seeds']} "
             "seeds; learner: logistic regression. `exp4` = the same ensemble without restarts (stationary, "
             "ALBL-style). Bold: the best single criterion.", "",
             "| dataset | " + " | ".join(strategies) + " |", "|---|" + "---|" * len(strategies)]
    for d, per in ds.items():
        best = max(per[x]["aulc"] for x in SINGLES)
        cells = [f"{per[x]['aulc']:.4f}" for x in strategies]
        cells = [f"**{c}**" if x in SINGLES and per[x]["aulc"] == best else c
                 for x, c in zip(strategies, cells, strict=True)]
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    lines.append("| **mean** | " + " | ".join(f"{s['mean_aulc'][x]:.4f}" for x in strategies) + " |")
    lines += ["", f"Best single criterion on average: **{s['best_single']}**. DEAL − best single: "
              f"{100 * s['deal_minus_best_single']:+.2f} pp; DEAL − per-dataset best single (an oracle): "
              f"{100 * s['deal_minus_per_dataset_best']:+.2f} pp. DEAL beats random on: "
              + ", ".join(f"{d} {'yes' if v else 'no'}" for d, v in s["deal_beats_random"].items()) + ".", "",
              "Why DEAL falls short (validation seeds; drawing vs top-k, fixed weights, an exact test-accuracy "
              "reward): `deal_diagnosis.md` (`python -m glance_train.active.diagnose --out "
              "reports/deal_diagnosis.json`).", "",
              " ".join(f"![{d}](deal_{d}.png)" for d in ds), ""]
    return "\n".join(lines)


def _metrics(result: dict[str, Any]) -> list[dict[str, Any]]:
    s = result["summary"]
    best = s["best_single"]
    return [{"name": "deal.aulc_vs_best_single", "value": round(100 * s["deal_minus_best_single"], 3),
             "unit": "pp", "better": "higher", "target": 0.0,
             "baseline": {"name": f"deal.best_single.{best}", "value": round(s["mean_aulc"][best], 4)}}]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=REPORTS)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="two small datasets, two seeds")
    args = p.parse_args(argv)
    bench = DealBench(seeds=args.seeds)
    if args.quick:
        bench = DealBench(tasks={k: TASKS[k] for k in ("iris", "wine")}, seeds=2)
    md, metrics = write(run_bench(bench), args.out)
    print(md)
    print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
