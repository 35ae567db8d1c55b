"""Train, test and export an emotion network (``glance train emotion-eye`` / ``glance train emotion-ship``).

Top-down like train.py: config → data (EMO-Film root or synthetic splits) → model → the shared Trainer
→ held-out test of the best checkpoint with its confusion matrix → export (ONNX with every input and output
the device uses, golden, manifest, parity in onnxruntime-node).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from glance_train.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from glance_train.config import Experiment
from glance_train.curves import write_metrics
from glance_train.distributed import WorkerContext, launch
from glance_train.emotion.data import EmotionData, load_splits
from glance_train.emotion.dataset import EmotionWindows
from glance_train.emotion.report import plot_confusion
from glance_train.models import config_dict, create_model, model_config
from glance_train.seeding import seed_everything
from glance_train.tasks import emotion as emotion_task
from glance_train.tasks import get_task
from glance_train.trainer import Trainer

GOLDEN_COUNT = 3
REPO_ROOT = Path(__file__).resolve().parents[4]


def load_expression_path(model: torch.nn.Module, checkpoint: Path) -> None:
    """Copy the eye encoder and temporal layers of an eye-only run into ``model`` (the aware network)."""
    if not checkpoint.exists():
        raise FileNotFoundError(f"eye_init {checkpoint} does not exist: train emotion-eye first")
    state = load_checkpoint(checkpoint)["state_dict"]
    wanted = {k: v for k, v in state.items() if k.startswith(("eye.", "temporal."))}
    missing = model.load_state_dict(wanted, strict=False)
    if missing.unexpected_keys:
        raise ValueError(f"{checkpoint}: unexpected keys {missing.unexpected_keys}")


def windows(exp: Experiment, cache_dir: Path, jobs: int) -> tuple[dict[str, EmotionWindows], dict[str, Any]]:
    cfg = EmotionData.from_dict(exp.data)
    steps = model_config(exp.model, exp.model_config).steps
    sets, record = load_splits(cfg, cache_dir, jobs)
    per = {"train": cfg.per_clip_train, "val": cfg.per_clip_eval, "test": cfg.per_clip_eval}
    return {s: EmotionWindows(d, steps, per[s], augment=s == "train") for s, d in sets.items()}, record


def _worker(
    ctx: WorkerContext, exp: Experiment, cache_dir: Path, out: Path, meta: dict[str, Any], quiet: bool
) -> None:
    seed_everything(exp.seed)
    data, _ = windows(exp, cache_dir, 1)  # the parent generated and decoded them: cache hits
    model = create_model(exp.model, exp.model_config)
    init = model_config(exp.model, exp.model_config).eye_init
    if init:
        load_expression_path(model, REPO_ROOT / init)
    trainer = Trainer(exp.train, get_task("emotion"), exp.seed, out if ctx.is_main else None, meta, quiet)
    result = trainer.fit(ctx, model, data["train"], data["val"])
    if ctx.is_main and not quiet:
        print(result.summary(), file=sys.stderr)


def run(exp: Experiment, out: Path, cache_dir: Path, jobs: int, quiet: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    data, dataset = windows(exp, cache_dir, jobs)
    data_s = time.perf_counter() - t0
    mcfg = model_config(exp.model, exp.model_config)
    meta = {
        "model": exp.model,
        "model_config": config_dict(mcfg),
        "experiment": exp.to_dict(),
        "dataset": dataset,
    }
    t1 = time.perf_counter()
    launch(_worker, exp.train.world_size, (exp, cache_dir, out, meta, quiet))
    return held_out_test(out, data, dataset, time.perf_counter() - t1) | {"dataSeconds": data_s}


def held_out_test(
    out: Path, data: dict[str, EmotionWindows], dataset: dict[str, Any], train_s: float
) -> dict[str, Any]:
    """Test the run's best checkpoint on the held-out split; keep the result (and golden inputs) in it."""
    ckpt = load_checkpoint(out / "best.pt")
    model = model_from_checkpoint(ckpt)
    loader = DataLoader(data["test"], batch_size=128)
    test = emotion_task.evaluate(model, loader, "test")
    pred, label, _, _ = emotion_task.predict(model, loader)
    cm = emotion_task.confusion(pred, label)
    base = emotion_task.baselines(data["train"].targets, data["test"].targets, "test")
    golden = [data["test"][i][0] for i in range(GOLDEN_COUNT)]
    golden_inputs = [torch.stack([g[k] for g in golden]) for k in range(3)]
    held_out = {"test": test, "baselines": base, "trainSeconds": train_s, "confusion": cm.tolist()}
    kept = {k: v for k, v in ckpt.items() if k not in ("state_dict", "held_out", "golden_inputs")}
    save_checkpoint(out / "best.pt", model, kept, held_out=held_out, golden_inputs=golden_inputs)
    name = ckpt["model"]
    plot_confusion(out / "confusion.png", cm, f"{name}: held-out accuracy {test['test_accuracy']:.3f}")
    record = _metrics(out) | {"test": test, "baselines": base, "confusion": cm.tolist(), "dataset": dataset}
    record |= {"trainSeconds": train_s}
    write_metrics(out / "metrics.json", record)
    return record


def finish(out: Path, cache_dir: Path) -> dict[str, Any]:
    """The held-out test of a run whose training stopped before its end (its best.pt is what it learnt)."""
    ckpt = load_checkpoint(out / "best.pt")
    exp = Experiment.from_dict(ckpt["experiment"])
    data, dataset = windows(exp, cache_dir, 1)
    return held_out_test(out, data, dataset, float("nan"))


def _metrics(out: Path) -> dict[str, Any]:
    import json

    path = out / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}
