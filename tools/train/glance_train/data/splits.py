"""Train / validation / held-out test splits of the synthetic eye data: the same generator, three seeds."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glance_train.data.cache import ArrayDataset, RenderedSet, load_or_render
from glance_train.data.eye_dataset import EyeDatasetConfig

DATASET_NAME = "glance-synth-eye"


@dataclass(frozen=True)
class EyeSplits:
    train: EyeDatasetConfig
    val: EyeDatasetConfig
    test: EyeDatasetConfig

    @staticmethod
    def from_dict(raw: dict[str, Any], input_size: int) -> EyeSplits:
        values = dict(raw)
        defaults = (("train", 4000), ("val", 500), ("test", 1000))
        sizes = {k: int(values.pop(f"{k}_size", d)) for k, d in defaults}
        seed = int(values.pop("seed", 1000))
        base = EyeDatasetConfig.from_dict({**values, "input_size": input_size, "seed": seed})
        return EyeSplits(
            train=dataclasses.replace(base, size=sizes["train"], seed=seed),
            val=dataclasses.replace(base, size=sizes["val"], seed=seed + 1),
            test=dataclasses.replace(base, size=sizes["test"], seed=seed + 2),
        )

    def items(self) -> list[tuple[str, EyeDatasetConfig]]:
        return [("train", self.train), ("val", self.val), ("test", self.test)]


def render_splits(splits: EyeSplits, jobs: int, cache_dir: Path | None) -> dict[str, RenderedSet]:
    return {name: load_or_render(cfg, jobs, cache_dir) for name, cfg in splits.items()}


def datasets(rendered: dict[str, RenderedSet]) -> dict[str, ArrayDataset]:
    return {name: ArrayDataset(r) for name, r in rendered.items()}


def dataset_record(splits: EyeSplits, rendered: dict[str, RenderedSet]) -> dict[str, Any]:
    """The manifest's ``dataset``: a fingerprint of every rendered pixel and label, and how to render them."""
    h = hashlib.sha256()
    for name, _ in splits.items():
        h.update(rendered[name].fingerprint.encode())
    return {
        "name": DATASET_NAME,
        "fingerprint": f"sha256:{h.hexdigest()}",
        "synthetic": True,
        "generator": "glance_train.data.eye_dataset (renderer glance_train.synth.eye_render)",
        "splits": {
            name: {"size": cfg.size, "seed": cfg.seed, "fingerprint": f"sha256:{rendered[name].fingerprint}"}
            for name, cfg in splits.items()
        },
        "config": splits.train.to_dict() | {"size": None, "seed": None},
    }
