"""Writes the benchmark: ``metric_robustness.json`` and ``.png``, a markdown table and the bench metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from glance_train.metric.bench import METHODS  # noqa: E402

REPORTS = Path(__file__).resolve().parents[2] / "reports"
STEM = "metric_robustness"
STYLE = {"euclidean": {"color": "0.5", "ls": ":"}, "lmnn": {"color": "tab:blue", "ls": "--"},
         "lmnn-pl": {"color": "tab:red", "ls": "-", "lw": 2.0}}


def write(result: dict[str, Any], out_dir: Path) -> tuple[str, list[dict[str, Any]]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{STEM}.json").write_text(json.dumps(result, indent=1) + "\n")
    plot(result, out_dir / f"{STEM}.png")
    return markdown(result), metrics(result)


def plot(result: dict[str, Any], path: Path) -> None:
    """Top row: kNN accuracy vs Gaussian noise σ. Bottom row: certified 1-NN accuracy vs radius ε."""
    names = list(result["datasets"])
    cfg = result["config"]
    fig, axes = plt.subplots(2, len(names), figsize=(3.2 * len(names), 6.0), squeeze=False)
    for col, name in enumerate(names):
        top, bottom = axes[0][col], axes[1][col]
        for m in METHODS:
            r = result["datasets"][name]["methods"][m]
            lo = [a - s for a, s in zip(r["accuracy_mean"], r["accuracy_sd"], strict=True)]
            hi = [a + s for a, s in zip(r["accuracy_mean"], r["accuracy_sd"], strict=True)]
            top.plot(cfg["noise"], r["accuracy_mean"], label=m, marker="o", ms=3, **STYLE[m])
            top.fill_between(cfg["noise"], lo, hi, color=STYLE[m]["color"], alpha=0.12)
            bottom.plot(cfg["radii"], r["certified_mean"], label=m, marker="o", ms=3, **STYLE[m])
        top.set_title(name)
        top.set_xlabel("Gaussian noise σ (standardised units)")
        bottom.set_xlabel("perturbation radius ε (L2, standardised)")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"{cfg['k']}-NN accuracy under noise (mean ± sd)")
    axes[1][0].set_ylabel("certified 1-NN accuracy (mean)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _cell(mean: float, sd: float, bold: bool = False) -> str:
    text = f"{100 * mean:.1f} ± {100 * sd:.1f}"
    return f"**{text}**" if bold else text


def markdown(result: dict[str, Any]) -> str:
    cfg, s = result["config"], result["summary"]
    noise = cfg["noise"]
    lines = ["## Robust metric learning: Euclidean kNN, LMNN, LMNN-PL under input noise", "",
             "| dataset (train/test, D) | method | " + " | ".join(f"σ={x:g}" for x in noise)
             + " | cert. 1-NN @0.5 | @1 | median radius |", "|---|---|" + "---|" * (len(noise) + 3)]
    for name, ds in result["datasets"].items():
        best = [max(ds["methods"][m]["accuracy_mean"][i] for m in METHODS) for i in range(len(noise))]
        for m in METHODS:
            r = ds["methods"][m]
            rows = zip(r["accuracy_mean"], r["accuracy_sd"], best, strict=True)
            cells = [_cell(a, sd, a == b) for a, sd, b in rows]
            cert = [100 * r["certified_mean"][cfg["radii"].index(e)] if e in cfg["radii"] else float("nan")
                    for e in (0.5, 1.0)]
            head = f"{name} ({ds['n_train']}/{ds['n_test']}, {ds['dim']})" if m == METHODS[0] else ""
            tail = f" | {cert[0]:.1f} | {cert[1]:.1f} | {r['median_radius']:.3f} |"
            lines.append(f"| {head} | {m} | " + " | ".join(cells) + tail)
    per = s["per_dataset"]
    wins = s["pl_beats_lmnn_strongest"]
    verdict = "holds" if s["claim_holds"] else "does not hold"
    lines += ["", f"{cfg['k']}-NN accuracy in % (mean ± sd over seeds {list(cfg['seeds'])}; "
              f"{cfg['noise_draws']} noise draws per seed and level, the same draws for every method). "
              "Bold: best per column. `cert. 1-NN @ε`: share of test points whose 1-NN label is right and "
              "certified for every perturbation of L2 norm < ε (standardised units); `median radius`: median "
              "certified radius (0 when wrong).", "",
              "LMNN-PL − LMNN at the strongest noise (σ = " f"{noise[-1]:g}): "
              + ", ".join(f"{n} {p['pl_minus_lmnn_strongest_pp']:+.1f} pp" for n, p in per.items())
              + f". Claim (PL keeps more accuracy on ≥ 2 datasets): **{verdict}** "
              f"({len(wins)} of {len(per)}: {', '.join(wins) or 'none'}).",
              ""]
    return "\n".join(lines)


def metrics(result: dict[str, Any]) -> list[dict[str, Any]]:
    """For ``glance bench --only toolchain``: the paper's claim as a number, against plain LMNN."""
    s = result["summary"]
    noise = result["config"]["noise"][-1]
    mean_lmnn = sum(d["methods"]["lmnn"]["accuracy_mean"][-1] for d in result["datasets"].values())
    mean_lmnn /= len(result["datasets"])
    return [
        {"name": "metric.pl_minus_lmnn_noisy", "value": round(s["mean_pl_minus_lmnn_strongest_pp"], 2),
         "unit": "pp",
         "better": "higher", "target": 0.0, "baseline": {"name": f"metric.lmnn_accuracy_sigma{noise:g}",
                                                         "value": round(100 * mean_lmnn, 2)},
         "note": f"mean over {len(result['datasets'])} real datasets of the k-NN accuracy gap at σ={noise:g}"},
        {"name": "metric.pl_wins_noisy", "value": len(s["pl_beats_lmnn_strongest"]), "unit": "datasets",
         "better": "higher", "target": 2},
        # Against no metric learning at all: isotropic noise is where a learnt metric can lose.
        {"name": "metric.pl_minus_euclidean_noisy", "value": round(_mean_gap(result, "euclidean"), 2),
         "unit": "pp",
         "better": "higher", "target": 0.0},
    ]


def _mean_gap(result: dict[str, Any], other: str) -> float:
    ds = result["datasets"].values()
    return 100 * sum(d["methods"]["lmnn-pl"]["accuracy_mean"][-1] - d["methods"][other]["accuracy_mean"][-1]
                     for d in ds) / len(ds)
