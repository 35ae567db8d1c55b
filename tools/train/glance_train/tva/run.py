"""``glance train tva``: synthetic clips → TvaNet → held-out test against eye tracking alone → export.

    /usr/bin/python3 -m glance_train.train tva                     # configs/tva.toml, as `glance train tva`
    /usr/bin/python3 -m glance_train.tva.run --checkpoint RUN/best.pt --report tools/train/reports/tva.json

The second form evaluates a finished run again (synthetic held-out set and vtest.avi) without training.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from glance_train.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from glance_train.config import Experiment
from glance_train.curves import write_metrics
from glance_train.data.cache import default_cache_dir
from glance_train.models import config_dict, create_model, model_config
from glance_train.seeding import seed_everything
from glance_train.tva import baseline
from glance_train.tva.data import SplitSpec, fingerprint, load_split
from glance_train.tva.evaluate import predict, side_by_side
from glance_train.tva.fit import fit

REPO_ROOT = Path(__file__).resolve().parents[4]
REPORT = REPO_ROOT / "tools" / "train" / "reports" / "tva.json"


DATA_KEYS = {"seed", "train_clips", "val_clips", "test_clips", "per_clip", "test_per_clip", "augment",
             "real_footage"}


def split_specs(data: dict[str, Any]) -> dict[str, SplitSpec]:
    """Train, validation and test from disjoint seeds (seed, seed + 1, seed + 2): no clip is in two splits.
    Raises ValueError naming the bad [data] key."""
    unknown = sorted(set(data) - DATA_KEYS)
    if unknown:
        raise ValueError(f"unknown [data] keys {unknown}; known: {sorted(DATA_KEYS)}")

    def count(key: str, default: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"[data] {key} must be a positive integer, got {value!r}")
        return value

    seed, per = count("seed", 5000), count("per_clip", 24)
    if per > 240:
        raise ValueError(f"[data] per_clip must be at most 240 (frames in an 8 s clip), got {per}")
    return {
        "train": SplitSpec(seed, count("train_clips", 400), per),
        "val": SplitSpec(seed + 1, count("val_clips", 40), per),
        "test": SplitSpec(seed + 2, count("test_clips", 120), min(count("test_per_clip", per), 240)),
    }


def dataset_record(specs: dict[str, SplitSpec], splits: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    prints = {k: fingerprint(v) for k, v in splits.items()}
    whole = hashlib.sha256("".join(prints[k] for k in sorted(prints)).encode()).hexdigest()
    return {
        "name": "glance-synth-tva",
        "fingerprint": f"sha256:{whole}",
        "synthetic": True,
        "generator": "glance_train.tva.data (scenes glance_train.synth.scene_render, behaviour "
        "glance_train.tva.clips, tracker error glance_train.tva.gaze_noise)",
        "splits": {
            k: {"seed": s.seed, "clips": s.clips, "samples": int(len(splits[k]["scene"])),
                "fingerprint": prints[k]}
            for k, s in specs.items()
        },
        "realFootage": "evaluation only: /usr/share/doc/opencv-doc/examples/data/vtest.avi with "
        "synthetic gaze over MOG2-derived object boxes (glance_train.tva.real_footage)",
    }


def held_out(model: torch.nn.Module, train: dict[str, np.ndarray], test: dict[str, np.ndarray],
             real: bool, cache_dir: Path | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    eye = baseline.fit(train["gaze"], train["box"], train["episode"].astype(bool))
    box, score = predict(model, test["scene"], test["gaze"])
    metrics = side_by_side(box, score, test, eye)
    if real:
        from glance_train.tva.real_footage import evaluate_vtest

        metrics |= evaluate_vtest(model, eye, cache_dir=cache_dir)
    return metrics, {"eye_only": eye.to_dict()}


def train(
    exp: Experiment, out: Path, cache_dir: Path | None, jobs: int, quiet: bool, real: bool = True
) -> dict[str, Any]:
    specs = split_specs(exp.data)
    t0 = time.perf_counter()
    splits = {k: load_split(s, cache_dir, jobs) for k, s in specs.items()}
    render_s = time.perf_counter() - t0
    if not quiet:
        sizes = ", ".join(f"{k} {len(v['scene'])}" for k, v in splits.items())
        print(f"data: {sizes} samples ({render_s:.0f} s)", file=sys.stderr)
    mcfg = model_config(exp.model, exp.model_config)
    seed_everything(exp.seed)
    model = create_model(exp.model, mcfg)
    dataset = dataset_record(specs, splits)
    meta = {"model": exp.model, "model_config": config_dict(mcfg), "experiment": exp.to_dict(),
            "dataset": dataset,
            "tva_splits": {k: s.to_dict() for k, s in specs.items()}}
    augment = bool(exp.data.get("augment", False))
    result = fit(model, splits["train"], splits["val"], exp.train, exp.seed, out, meta, quiet, augment)
    ckpt = load_checkpoint(out / "best.pt")
    best = model_from_checkpoint(ckpt)
    test, base = held_out(best, splits["train"], splits["test"], real, cache_dir)
    held = {"test": test, "baselines": base, "trainSeconds": result.seconds}
    kept = {k: v for k, v in ckpt.items() if k != "state_dict"}
    save_checkpoint(out / "best.pt", best, kept, held_out=held)
    record = {"history": result.history, "best": result.best, "bestEpoch": result.best_epoch, "test": test,
              "baselines": base, "dataset": dataset, "renderSeconds": render_s,
              "trainSeconds": result.seconds}
    write_metrics(out / "metrics.json", record)
    return record


def write_report(test: dict[str, float], base: dict[str, Any], model_id: str, path: Path) -> None:
    """tools/train/reports/tva.json: TVA and eye tracking alone, side by side, per data set."""
    rows = []
    sets = (("synthetic held-out", ""), ("vtest.avi (real video, synthetic gaze)", "real_vtest_"))
    for name, prefix in sets:
        if f"{prefix}tva_hit_rate" not in test:
            continue
        rows.append({
            "set": name,
            "episodeFrames": int(test[f"{prefix}episode_frames"]),
            "hitRate": {"tva": test[f"{prefix}tva_hit_rate"], "eyeOnly": test[f"{prefix}eye_only_hit_rate"]},
            "iou": {"tva": test[f"{prefix}tva_iou"], "eyeOnly": test[f"{prefix}eye_only_iou"]},
            **({"scoreF1": {"tva": test[f"{prefix}score_f1"], "eyeOnly": test[f"{prefix}eye_only_score_f1"],
                            "alwaysOn": test.get(f"{prefix}always_on_score_f1")}}
               if f"{prefix}score_f1" in test else {}),
        })
    write_metrics(path, {"model": model_id, "generatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         "metric": "per frame inside true attention episodes: hit = predicted box "
                         "centre inside "
                         "the attended object's true bbox; IoU with that bbox; score F1 over all frames",
                         "rows": rows, "eyeOnly": base.get("eye_only", {})})


def main_train(exp: Experiment, out: Path, cache_dir: Path | None, jobs: int, quiet: bool, export: bool,
               version: str | None) -> int:
    torch.set_num_threads(max(exp.train.threads, 1))
    try:
        split_specs(exp.data)
    except ValueError as error:
        print(f"glance train: {error}", file=sys.stderr)
        return 2
    record = train(exp, out, cache_dir, jobs, quiet, bool(exp.data.get("real_footage", True)))
    print(f"run: {out}")
    for key, value in record["test"].items():
        print(f"  {key} = {value:.4g}")
    write_report(record["test"], record["baselines"], f"{exp.model}@{version or exp.version} ({out.name})",
                 out / "report.json")
    if export:
        from glance_train.export import export_after_training
        from glance_train.tva.export import export_checkpoint

        v = version or exp.version
        return export_after_training(
            lambda: export_checkpoint(out / "best.pt", out / "model", v, cache_dir=cache_dir), out / "model"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance_train.tva.run", description="evaluate a trained TVA run again")
    p.add_argument("--checkpoint", type=Path, required=True, help="best.pt of a `glance train tva` run")
    p.add_argument("--report", type=Path, default=REPORT, help=f"report JSON (default {REPORT})")
    p.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="rendered-data cache")
    p.add_argument("--no-real", action="store_true", help="skip vtest.avi")
    p.add_argument("--update-checkpoint", action="store_true",
                   help="store the new held-out metrics in the checkpoint (glance export carries them)")
    args = p.parse_args(argv)
    if not args.checkpoint.exists():
        print(f"glance_train.tva.run: checkpoint {args.checkpoint} does not exist", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    ckpt = load_checkpoint(args.checkpoint)
    specs = {k: SplitSpec.from_dict(v) for k, v in ckpt["tva_splits"].items()}
    train_set = load_split(specs["train"], args.cache_dir)
    test_set = load_split(specs["test"], args.cache_dir)
    model = model_from_checkpoint(ckpt)
    test, base = held_out(model, train_set, test_set, not args.no_real, args.cache_dir)
    if args.update_checkpoint:
        held = {**ckpt.get("held_out", {}), "test": test, "baselines": base}
        kept = {k: v for k, v in ckpt.items() if k != "state_dict"}
        save_checkpoint(args.checkpoint, model, kept, held_out=held)
    write_report(test, base, f"{ckpt['model']}@{ckpt['experiment']['version']}", args.report)
    for key, value in test.items():
        print(f"  {key} = {value:.4g}")
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
