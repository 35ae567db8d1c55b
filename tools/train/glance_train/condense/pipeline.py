"""Condense a dataset end to end: load → split → standardise → condense → evaluate → privacy → one file.

Reads top-down; the CLI (``python -m glance_train.condense``) and the benchmark both call :func:`run`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glance_train.condense.common import Condensed, CondenseConfig
from glance_train.condense.dm import distribution_matching
from glance_train.condense import eye_emotion
from glance_train.condense.evaluate import EvalConfig, held_out_scores, relative
from glance_train.condense.gm import gradient_matching
from glance_train.condense.nets import architectures
from glance_train.condense.privacy import (
    PrivacyConfig,
    enforce_distance,
    nearest_record_distances,
    privacy_report,
)
from glance_train.condense.store import save_condensed
from glance_train.datasets_real import (
    RealDataset,
    Standardiser,
    dataset_names,
    load_dataset,
    standardiser,
    stratified_split,
)


def condensable() -> list[str]:
    """What ``--dataset`` accepts: the real sets of datasets_real.py and the eye-emotion windows."""
    return sorted([*dataset_names(), eye_emotion.NAME])


@dataclass(frozen=True)
class Split:
    """The standardised train and held-out arrays of one dataset, and how to map back to source units."""

    name: str
    source: RealDataset
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    scaler: Standardiser
    synthetic: bool = False
    """True when the records themselves are synthetic (the generated eye-emotion data)."""
    described: dict[str, Any] | None = None
    """Dataset-specific description for the file's meta (eye-emotion: participants, windows, layout)."""

    @property
    def classes(self) -> int:
        return self.source.n_classes


def prepare(dataset: str, test_fraction: float = 0.25, seed: int = 0,
            max_per_class: int | None = None, data_dir: Path | None = None, records: str = "raw") -> Split:
    """``data_dir``, ``records``: eye-emotion only (an EMO-Film root, default the emotion task's synthetic
    splits; "raw" or "change" windows, eye_emotion.RECORDS)."""
    if dataset == eye_emotion.NAME:
        return prepare_eye_emotion(data_dir, seed, max_per_class, records=records)
    if data_dir is not None:
        raise ValueError(f"--data-dir applies to {eye_emotion.NAME} only, not {dataset!r}")
    ds = load_dataset(dataset, max_per_class=max_per_class, seed=seed)
    train, test = stratified_split(ds, test_fraction, seed)
    scaler = standardiser(train)
    return Split(dataset, ds, scaler(train.x), train.y, scaler(test.x), test.y, scaler)


def prepare_eye_emotion(data_dir: Path | None, seed: int = 0, max_per_class: int | None = None,
                        held_out: str = "test", records: str = "raw") -> Split:
    """The emotion task's windows; held out by participant (eye_emotion.py). ``max_per_class`` thins the
    training windows only; ``held_out`` "val" evaluates on the validation participants."""
    train, test, described = eye_emotion.load_records(data_dir, seed, held_out=held_out, records=records)
    if max_per_class is not None:
        rng = np.random.default_rng(seed)
        keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(train.y == c))[:max_per_class]
                                       for c in range(int(train.y.max()) + 1)]))
        train = eye_emotion.EyeRecords(train.x[keep], train.y[keep], train.participant[keep])
        described["windows"]["train"] = int(len(keep))
    both = eye_emotion.EyeRecords(np.concatenate([train.x, test.x]), np.concatenate([train.y, test.y]),
                                  np.concatenate([train.participant, test.participant]))
    source = eye_emotion.as_dataset(both, ", ".join(described["roots"].values()))
    scaler = eye_emotion.series_standardiser(train.x)
    return Split(eye_emotion.NAME, source, scaler(train.x), train.y, scaler(test.x), test.y, scaler,
                 synthetic=bool(described["synthetic"]), described=described)


def condense(split: Split, cfg: CondenseConfig) -> Condensed:
    if cfg.method == "dm":
        return distribution_matching(split.x_train, split.y_train, split.classes, cfg)
    if cfg.method == "gm":
        return gradient_matching(split.x_train, split.y_train, split.classes, cfg)
    raise ValueError(f"method must be dm or gm, not {cfg.method!r}")


def run(split: Split, cfg: CondenseConfig, eval_cfg: EvalConfig | None = None, out: Path | None = None,
        full: dict[str, float] | None = None, with_privacy: bool = True,
        full_auc: dict[str, float] | None = None) -> dict[str, Any]:
    """Condense, evaluate against full-data training, measure privacy, and write the file if ``out`` is given.

    ``full``: the full-data accuracies per architecture when the caller already has them (the benchmark
    reuses them across methods and sizes).
    """
    result = condense(split, cfg)
    record: dict[str, Any] = {"dataset": split.name, "method": cfg.method, "ipc": cfg.ipc,
                              "condense_seconds": result.seconds, "loss_curve": result.losses}
    if cfg.guard:
        before = nearest_record_distances(result.x, split.x_train)
        result.x, moved = enforce_distance(result.x, split.x_train, float(before["real_to_real_median"]))
        record["guard"] = {"moved": moved, "of": int(len(result.y)), "before": before}
    if eval_cfg is not None:
        test = (split.x_test, split.y_test, split.classes, split.source.kind, eval_cfg)
        if full is None:
            full, full_auc = held_out_scores(split.x_train, split.y_train, *test)
        condensed, condensed_auc = held_out_scores(result.x, result.y, *test)
        rel = relative(condensed, full)
        record["evaluation"] = {"accuracy_condensed": condensed, "accuracy_full": full, "relative": rel,
                                "relative_mean": float(np.mean(list(rel.values()))),
                                "auc_condensed": condensed_auc}
        if full_auc is not None:
            record["evaluation"]["auc_full"] = full_auc
        if with_privacy:
            attack = architectures(split.source.kind)[0]
            record["privacy"] = privacy_report((result.x, result.y), (split.x_train, split.y_train),
                                               (split.x_test, split.y_test), split.classes, eval_cfg,
                                               PrivacyConfig(attack_arch=attack, seed=cfg.seed))
    if out is not None:
        meta = {
            "dataset": {"name": split.name, "fingerprint": split.source.fingerprint(),
                        "source": split.source.source, "records": int(len(split.y_train)),
                        "synthetic": split.synthetic,
                        **({"description": split.described} if split.described else {})},
            "classes": list(split.source.classes),
            "kind": split.source.kind,
            "feature_shape": list(split.source.feature_shape),
            "normalisation": {"mean": np.asarray(split.scaler.mean).tolist(),
                              "std": np.asarray(split.scaler.std).tolist()},
            "method": cfg.method,
            "ipc": cfg.ipc,
            "config": asdict(cfg),
            "seconds": result.seconds,
            **{k: record[k] for k in ("evaluation", "privacy", "guard") if k in record},
        }
        record["bytes"] = save_condensed(out, split.scaler.inverse(result.x), result.y, meta)
        record["file"] = str(out)
    return record
