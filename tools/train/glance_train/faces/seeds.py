"""Track embedding against average pooling over several training seeds: mean ± sd of every held-out number.

    /usr/bin/python3 -m glance_train.faces.seeds RUN_SEED7 RUN_SEED8 RUN_SEED9 --out seeds.json

Each RUN is a `glance train face-track --set seed=N --no-export --out RUN` directory (its metrics.json). The data
(train, validation and test people) is the same in every run; the seed changes the initial weights, the batches
and the augmentations, for the frame encoder (so for the baseline) as much as for the track head.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """{metric: {mean, sd, values}} over the runs, for the held-out test, the baselines and the threshold; plus
    the per-run differences track − pooled, the number that says which representation wins."""
    rows: dict[str, list[float]] = {}
    for r in records:
        flat = {**r["test"], **r["baselines"], "threshold": r["clustering"]["threshold"],
                "pooled_threshold": r["clustering"].get("pooled_threshold", float("nan"))}
        for k, v in flat.items():
            rows.setdefault(k, []).append(float(v))
    for part in ("test", "test_clean"):
        for m in ("nmi", "wcp", "nmi_unknown_k", "wcp_unknown_k", "f_unknown_k"):
            a, b = rows.get(f"{part}_{m}"), rows.get(f"{part}_pooled_{m}")
            if a and b:
                rows[f"{part}_{m}_gain"] = [x - y for x, y in zip(a, b)]
    out: dict[str, Any] = {}
    for k, v in rows.items():
        arr = np.array(v, dtype=float)
        out[k] = {"mean": float(np.nanmean(arr)), "sd": float(np.nanstd(arr, ddof=1)) if len(arr) > 1 else 0.0,
                  "values": v}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance_train.faces.seeds")
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    records = []
    for run in args.runs:
        f = run / "metrics.json"
        if not f.exists():
            print(f"faces.seeds: {f} does not exist", file=sys.stderr)
            return 2
        records.append(json.loads(f.read_text()))
    summary = {"runs": [str(r) for r in args.runs], "metrics": summarise(records)}
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    for k, v in summary["metrics"].items():
        print(f"{k:40s} {v['mean']:.3f} ± {v['sd']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
