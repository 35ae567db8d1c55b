"""Train a model from an experiment file, top to bottom: config → data → model → loop → test → export.

    /usr/bin/python3 -m glance_train.train pupil                      # configs/pupil.toml
    /usr/bin/python3 -m glance_train.train configs/pupil.toml --set train.epochs=2 --world-size 2 --out runs/x

``glance train MODEL [options]`` in the Node CLI runs exactly this. A run directory gets ``best.pt``,
``last.pt``, ``metrics.json`` (every epoch, the best, the held-out test and trivial baselines), ``curves.png``
and, unless ``--no-export``, the exported model in ``model/`` (ONNX, manifest, golden, parity-checked).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from glance_train.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from glance_train.config import Experiment, load_experiment
from glance_train.curves import write_metrics
from glance_train.data.cache import default_cache_dir
from glance_train.distributed import WorkerContext, is_secondary_rank, launch
from glance_train.models import config_dict, create_model, model_config, model_entry
from glance_train.seeding import seed_everything
from glance_train.tasks import get_task
from glance_train.trainer import Trainer

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
REPO_ROOT = Path(__file__).resolve().parents[3]


def resolve_config(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".toml", ".json"):
        return path
    for suffix in (".toml", ".json"):
        candidate = CONFIG_DIR / f"{name_or_path}{suffix}"
        if candidate.exists():
            return candidate
    known = sorted(p.stem for p in [*CONFIG_DIR.glob("*.toml"), *CONFIG_DIR.glob("*.json")])
    raise FileNotFoundError(f"no experiment {name_or_path!r} in {CONFIG_DIR} (known: {', '.join(known)})")


def _worker(
    ctx: WorkerContext,
    exp: Experiment,
    splits: Any,
    cache_dir: Path,
    out: Path,
    meta: dict[str, Any],
    quiet: bool,
) -> None:
    seed_everything(exp.seed)  # same initial weights on every rank
    task = get_task(model_entry(exp.model).task)
    kit = task.data()
    data = kit.datasets(kit.render(splits, 1, cache_dir))  # cache hits: the parent rendered them
    model = create_model(exp.model, exp.model_config)
    trainer = Trainer(exp.train, task, exp.seed, out if ctx.is_main else None, meta, quiet, exp.mat)
    result = trainer.fit(ctx, model, data["train"], data["val"])
    if ctx.is_main and not quiet:
        print(result.summary(), file=sys.stderr)


def run(exp: Experiment, out: Path, cache_dir: Path, jobs: int, quiet: bool) -> dict[str, Any]:
    # config
    mcfg = model_config(exp.model, exp.model_config)
    task = get_task(model_entry(exp.model).task)
    kit = task.data()
    splits = kit.splits(exp.data, mcfg)
    # data: rendered once here, in parallel; workers read the cache
    t0 = time.perf_counter()
    rendered = kit.render(splits, jobs, cache_dir)
    render_s = time.perf_counter() - t0
    dataset = kit.record(splits, rendered)
    meta = {
        "model": exp.model,
        "model_config": config_dict(mcfg),
        "experiment": exp.to_dict(),
        "dataset": dataset,
    }
    # model, optimiser and loop: in the workers
    t1 = time.perf_counter()
    launch(_worker, exp.train.world_size, (exp, splits, cache_dir, out, meta, quiet))
    train_s = time.perf_counter() - t1
    if is_secondary_rank():
        return {}
    # held-out test of the best checkpoint, against baselines that ignore the image
    ckpt = load_checkpoint(out / "best.pt")
    model = model_from_checkpoint(ckpt)
    data = kit.datasets(rendered)
    test = task.evaluate(model, DataLoader(data["test"], batch_size=256), "test")
    base = task.baselines(data["train"].targets, data["test"].targets, "test")
    held_out = {"test": test, "baselines": base, "trainSeconds": train_s}
    kept = {k: v for k, v in ckpt.items() if k != "state_dict"}
    save_checkpoint(out / "best.pt", model, kept, held_out=held_out)
    record = load_metrics(out) | {"test": test, "baselines": base, "dataset": dataset}
    record |= {"renderSeconds": render_s, "trainSeconds": train_s}
    write_metrics(out / "metrics.json", record)
    return record


def load_metrics(out: Path) -> dict[str, Any]:
    path = out / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="glance train", description="train a model from an experiment file")
    p.add_argument("experiment", help="a name in tools/train/configs (e.g. pupil) or a .toml/.json path")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    p.add_argument("--out", type=Path, help="run directory (default data/runs/<model>-<UTC time>)")
    p.add_argument("--world-size", type=int, help="DDP worker processes (overrides train.world_size)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes that render the data")
    p.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="rendered-data cache")
    p.add_argument("--no-export", action="store_true", help="skip ONNX export and the parity check")
    p.add_argument("--version", help="model version for the export (default: the experiment's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    return p.parse_args(argv)


# Experiments with their own top-down script (data and loop unlike the eye tasks'), by experiment name.
OWN_SCRIPTS = {"face-track": "glance_train.faces.train"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in OWN_SCRIPTS:
        import importlib

        return int(importlib.import_module(OWN_SCRIPTS[argv[0]]).main(argv))
    args = parse_args(argv)
    try:
        overrides = list(args.set) + ([f"train.world_size={args.world_size}"] if args.world_size else [])
        exp = load_experiment(resolve_config(args.experiment), overrides)
        model_config(exp.model, exp.model_config)
    except (FileNotFoundError, ValueError, KeyError, TypeError) as error:
        print(f"glance train: {error}", file=sys.stderr)
        return 2
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = args.out or REPO_ROOT / "data" / "runs" / f"{exp.model}-{stamp}"
    if model_entry(exp.model).task == "tva":  # two inputs (scene, gaze): its own loop, test and export
        from glance_train.tva.run import main_train

        return main_train(exp, out, args.cache_dir, args.jobs, args.quiet, not args.no_export, args.version)
    if model_entry(exp.model).task == "keyframe":  # an RL policy on replayed traces, not the supervised loop
        from glance_train.keyframe.train import main as keyframe_main

        return keyframe_main(exp, out, args.version or exp.version, not args.no_export, args.quiet)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if model_entry(exp.model).task == "emotion":
        from glance_train.emotion.cli import train_emotion

        return train_emotion(exp, out, args)
    record = run(exp, out, args.cache_dir, args.jobs, args.quiet)
    if not record:
        return 0  # a torchrun worker other than rank 0: rank 0 reports and exports
    test, base = record["test"], record["baselines"]
    print(f"run: {out}")
    for key, value in {**test, **base}.items():
        print(f"  {key} = {value:.4g}")
    if not args.no_export:
        from glance_train.export import export_after_training, export_checkpoint

        version = args.version or exp.version
        return export_after_training(
            lambda: export_checkpoint(out / "best.pt", out / "model", version=version), out / "model"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
