"""EMOShip's comparison, side by side as the paper made it: eye-only against emotionship-aware on the same
held-out windows, from the two exported models' manifests (their held-out metrics and confusion matrices).

    python3 -m glance_train.emotion.compare [--zoo models/zoo] [--out tools/train/reports/emotion] [--version V]

Writes ``comparison.json`` and ``confusion.png`` (both confusion matrices, rows normalised).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from glance_train.emotion.report import plot_side_by_side

REPO_ROOT = Path(__file__).resolve().parents[4]
MODELS = (("emotion-eye", "eye only"), ("emotion-ship", "emotionship-aware (eye + attended scene)"))


VERSION = "1.2.0"
"""The pair compared by default: version 3 of the synthetic data (generate.VERSION), the models the daemon serves."""


def compare(zoo: Path, out: Path, version: str = VERSION) -> dict[str, Any]:
    rows, panels = [], []
    for name, title in MODELS:
        path = zoo / name / version / "manifest.json"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: train and export {name} first")
        m = json.loads(path.read_text())
        held = m["metrics"]["heldOut"]
        cm = np.asarray(m["metrics"]["confusion"]["matrix"])
        rows.append({
            "model": f"{name}@{m['version']}",
            "accuracy": held["test_accuracy"],
            "macroF1": held["test_macro_f1"],
            "causeAccuracy": held.get("test_cause_accuracy"),
            "windows": int(cm.sum()),
            "synthetic": m["dataset"]["synthetic"],
            "datasetFingerprint": m["dataset"]["fingerprint"],
        })
        panels.append((cm, f"{title}\naccuracy {held['test_accuracy']:.3f}"))
    out.mkdir(parents=True, exist_ok=True)
    plot_side_by_side(out / "confusion.png", panels)
    report = {"models": rows, "gain": rows[1]["accuracy"] - rows[0]["accuracy"],
              "paper": {"eyeOnly": 0.694, "aware": 0.802, "data": "EMO-Film, 20 participants (real)"}}
    (out / "comparison.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance_train.emotion.compare", description=__doc__.split("\n")[0])
    p.add_argument("--zoo", type=Path, default=REPO_ROOT / "models" / "zoo")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "tools" / "train" / "reports" / "emotion")
    p.add_argument("--version", default=VERSION, help="the version of both models to compare")
    args = p.parse_args(argv)
    try:
        report = compare(args.zoo, args.out, args.version)
    except FileNotFoundError as error:
        print(f"compare: {error}", file=sys.stderr)
        return 2
    for r in report["models"]:
        acc, f1, n = r["accuracy"], r["macroF1"], r["windows"]
        print(f"{r['model']:>22}: accuracy {acc:.3f}  macro-F1 {f1:.3f}  ({n} windows)")
    print(f"gain: {report['gain']:+.3f}  (paper: 0.694 -> 0.802 on real EMO-Film)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
