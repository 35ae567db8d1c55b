"""Condensation benchmark: held-out accuracy vs samples per class, for both methods and every architecture.

``python -m glance_train.condense.report [--out DIR] [--quick]`` writes ``condense.json``, ``condense.png``
and ``condense.md``. Main data: OpenCV's ``digits.png``; one tabular run (UCI letters) shows the same code on
tabular records. Full-data accuracy per architecture is trained once per dataset and shared by all rows.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from glance_train.condense.common import CondenseConfig  # noqa: E402
from glance_train.condense.evaluate import EvalConfig, held_out_accuracy  # noqa: E402
from glance_train.condense.pipeline import prepare, run  # noqa: E402

REPORTS = Path(__file__).resolve().parents[2] / "reports"


@dataclass(frozen=True)
class CondenseBench:
    dataset: str = "digits"
    ipcs: tuple[int, ...] = (1, 10, 50)
    methods: dict[str, CondenseConfig] = field(default_factory=lambda: {
        # MLP embedders/networks: the CPU budget of a report (the ConvNet family is available, and slower).
        "dm": CondenseConfig(method="dm", iterations=3000, lr=0.1, batch_real=64, family="mlp"),
        "gm": CondenseConfig(method="gm", iterations=30, batch_real=64, gm_net="mlp"),
    })
    eval: EvalConfig = field(default_factory=lambda: EvalConfig(seeds=2, steps=200, batch_size=128))
    tabular: tuple[str, int] = ("letters", 10)
    """A tabular dataset condensed by DM at this many samples per class (letters: 300 a class kept)."""
    headline_ipc: int = 10


def run_bench(bench: CondenseBench) -> dict[str, Any]:
    out: dict[str, Any] = {"config": {k: v for k, v in asdict(bench).items() if k != "methods"},
                           "methods": {k: asdict(v) for k, v in bench.methods.items()}, "rows": []}
    split = prepare(bench.dataset)
    full = held_out_accuracy(split.x_train, split.y_train, split.x_test, split.y_test, split.classes,
                             split.source.kind, bench.eval)
    out["full"] = {bench.dataset: full}
    for method, base in bench.methods.items():
        for ipc in bench.ipcs:
            privacy = ipc == bench.headline_ipc
            cfg = replace(base, ipc=ipc)
            out["rows"].append(run(split, cfg, bench.eval, full=full, with_privacy=privacy))
    name, ipc = bench.tabular
    tab = prepare(name, max_per_class=300)
    rec = run(tab, replace(bench.methods["dm"], ipc=ipc), bench.eval)
    out["rows"].append(rec)
    out["full"][name] = rec["evaluation"]["accuracy_full"]
    return out


def write(result: dict[str, Any], out_dir: Path) -> tuple[str, list[dict[str, Any]]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "condense.json").write_text(json.dumps(result, indent=1) + "\n")
    main_ds = result["config"]["dataset"]
    rows = [r for r in result["rows"] if r["dataset"] == main_ds]
    archs = list(result["full"][main_ds])
    fig, axes = plt.subplots(1, len(archs), figsize=(4.2 * len(archs), 3.4), sharey=True)
    for ax, arch in zip(np.atleast_1d(axes), archs, strict=True):
        for method in sorted({r["method"] for r in rows}):
            pts = sorted((r["ipc"], r["evaluation"]["accuracy_condensed"][arch])
                         for r in rows if r["method"] == method)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method.upper())
        ax.axhline(result["full"][main_ds][arch], color="grey", ls=":", label="full data")
        ax.set_xscale("log")
        ax.set_title(arch)
        ax.set_xlabel("synthetic samples per class")
    np.atleast_1d(axes)[0].set_ylabel("real held-out accuracy")
    np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    fig.savefig(out_dir / "condense.png", dpi=90)
    plt.close(fig)
    return _markdown(result), _metrics(result)


def _markdown(result: dict[str, Any]) -> str:
    lines = ["## Dataset condensation", "",
             "Accuracy on real held-out records of fresh models trained on the condensed set (mean over "
             "seeds); relative = condensed / full-data accuracy of the same architecture.", "",
             "| dataset | method | ipc | accuracy per architecture (relative) | condense s |",
             "|---|---|---|---|---|"]
    for r in result["rows"]:
        ev = r["evaluation"]
        accs = ", ".join(f"{a} {ev['accuracy_condensed'][a]:.3f} ({ev['relative'][a]:.2f})"
                         for a in ev["relative"])
        seconds = r["condense_seconds"]
        lines.append(f"| {r['dataset']} | {r['method']} | {r['ipc']} | {accs} | {seconds:.0f} |")
    full = "; ".join(f"{ds}: " + ", ".join(f"{a} {v:.3f}" for a, v in accs.items())
                     for ds, accs in result["full"].items())
    lines += ["", f"Full-data accuracy: {full}.", "",
              "Privacy (standardised features; DCR = distance to the closest real training record; MIA = "
              "loss-threshold membership inference, members = training records, non-members = held-out):", "",
              "| dataset | method | ipc | DCR min / p5 / median (before the guard) | "
              "real→real NN p5 / median | moved by the guard | all beyond real median | "
              "MIA AUC, condensed model | MIA AUC, real-data model |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        p = r.get("privacy")
        if p:
            dcr = f"{p['syn_to_real_min']:.2f} / {p['syn_to_real_p5']:.2f} / {p['syn_to_real_median']:.2f}"
            guard = r.get("guard")
            if guard:
                b = guard["before"]
                dcr += (f" ({b['syn_to_real_min']:.2f} / {b['syn_to_real_p5']:.2f} / "
                        f"{b['syn_to_real_median']:.2f})")
            moved = f"{guard['moved']} of {guard['of']}" if guard else "off"
            rr = f"{p['real_to_real_p5']:.2f} / {p['real_to_real_median']:.2f}"
            mia = f"{p['mia_auc']:.3f} | {p['mia_auc_real_training']:.3f}"
            lines.append(f"| {r['dataset']} | {r['method']} | {r['ipc']} | {dcr} | {rr} | {moved} | "
                         f"{p['all_beyond_real_median']} | {mia} |")
    lines += ["", "![accuracy vs samples per class](condense.png)", ""]
    return "\n".join(lines)


def _metrics(result: dict[str, Any]) -> list[dict[str, Any]]:
    ipc = result["config"]["headline_ipc"]
    head = [r for r in result["rows"] if r["dataset"] == result["config"]["dataset"] and r["method"] == "dm"
            and r["ipc"] == ipc]
    if not head:
        return []
    out = [{"name": "dc.relative_accuracy", "value": round(head[0]["evaluation"]["relative_mean"], 4),
            "unit": "ratio", "better": "higher", "target": 0.8}]
    if head[0].get("privacy"):
        out.append({"name": "dc.mia_auc", "value": round(head[0]["privacy"]["mia_auc"], 4), "unit": "AUC",
                    "better": "lower", "target": 0.55})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=REPORTS)
    p.add_argument("--quick", action="store_true", help="a smoke run on scikit-learn's 8×8 digits")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    bench = CondenseBench()
    if args.quick:
        bench = CondenseBench(dataset="sk-digits", ipcs=(1, 10), methods={
            "dm": CondenseConfig(method="dm", iterations=30, batch_real=32, family="mlp"),
            "gm": CondenseConfig(method="gm", iterations=2, batch_real=32, gm_net="mlp")},
            eval=EvalConfig(seeds=1, steps=50), tabular=("iris", 2))
    md, metrics = write(run_bench(bench), args.out)
    print(md)
    print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
